// Workspaces (manual §3 Steps 7–9, 12): the table, Create Workspace and Edit (admin; a manager
// edits description and users), a reservation clash (409) shown in the dialog.
import type { FormEvent } from "react";
import { ok } from "../../../src/client/api";
import { DialogButtons, useDialogSlot } from "../components/Dialogs";
import { PagedTable, usePagedList } from "../components/PagedTable";
import { RowButton } from "../components/RowActions";
import { useFormFields } from "../components/useFormFields";
import { useSession, type WorkspaceSummary } from "../context";
import { dateMinute, dateTime, fromLocalInput, toLocalInput } from "../format";
import { Link, navigate, path } from "../router";
import { nameProblem } from "../rules";
import { api } from "../session";
import {
  Dialog,
  ErrorText,
  Input,
  Options,
  PageHead,
  Picker,
  PrimaryButton,
  Select,
  Status,
  TextArea,
  useAction,
  usePoll,
} from "../ui";

/** Active users' IDs (admins and workspace managers may read them: the Users picker). */
const listUserIds = async (): Promise<string[]> =>
  (await ok(api.api["user-ids"].get({ query: { limit: "500" } }))).items.map((u) => u.userId);

export function Workspaces() {
  const s = useSession();
  const list = usePagedList((page) => ok(api.api.workspaces.get({ query: page })), []);
  const editing = useDialogSlot<WorkspaceSummary | "new">();
  const canEdit = (w: WorkspaceSummary) => s.isAdmin || w.manager === s.me.userId;
  return (
    <section>
      <PageHead title="Workspaces" crumbs="Dashboard › Workspaces">
        {s.isAdmin ? <PrimaryButton onClick={() => editing.show("new")}>Create Workspace</PrimaryButton> : null}
      </PageHead>
      <ErrorText>{list.error}</ErrorText>
      <PagedTable
        list={list}
        label="Workspaces"
        rowKey={(w) => w.name}
        empty={
          s.isAdmin
            ? "No workspaces yet. Choose Create Workspace to hand out GPUs to a team."
            : "You are in no workspace yet. Ask an administrator to add you."
        }
        columns={[
          { header: "Status", cell: (w) => <Status value={w.status} /> },
          { header: "Name", cell: (w) => <Link href={path("workspaces", w.name)}>{w.name}</Link> },
          { header: "Start", cell: (w) => dateMinute(w.startsAt) },
          { header: "End", cell: (w) => dateMinute(w.endsAt) },
          {
            header: "GPUs in Use",
            cell: (w) =>
              `${w.gpusInUse.training}/${w.trainingGpus} training, ${w.gpusInUse.deployment}/${w.deploymentGpus} deployment`,
          },
          { header: "Manager", cell: (w) => w.manager },
          { header: "Users", cell: (w) => <span title={w.users.join(", ")}>{w.users.length}</span> },
          { header: "Created", cell: (w) => dateTime(w.createdAt) },
          {
            header: "Actions",
            cell: (w) =>
              canEdit(w) ? (
                <RowButton label={`Edit ${w.name}`} onClick={() => editing.show(w)}>
                  Edit
                </RowButton>
              ) : null,
          },
        ]}
      />
      {editing.open ? (
        <WorkspaceDialog
          workspace={editing.open === "new" ? null : editing.open}
          onClose={editing.close}
          onSaved={editing.closeThen((name: string) => {
            list.reload();
            s.reloadWorkspaces();
            if (editing.open === "new") navigate(path("workspaces", name));
          })}
        />
      ) : null}
    </section>
  );
}

function defaultPeriod() {
  // From the start of today (local), so a workspace made now is active at once.
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  const end = new Date(start);
  end.setMonth(end.getMonth() + 1);
  return { startsAt: start.toISOString(), endsAt: end.toISOString() };
}

export function WorkspaceDialog(props: {
  workspace: WorkspaceSummary | null;
  onClose: () => void;
  onSaved: (name: string) => void;
}) {
  const s = useSession();
  const w = props.workspace;
  const period = w ?? defaultPeriod();
  const { form, setForm, set } = useFormFields({
    name: w?.name ?? "",
    description: w?.description ?? "",
    start: toLocalInput(period.startsAt),
    end: toLocalInput(period.endsAt),
    trainingGpus: String(w?.trainingGpus ?? 1),
    deploymentGpus: String(w?.deploymentGpus ?? 0),
    cpus: String(w?.cpus ?? 0),
    memoryMiB: String(w?.memoryMiB ?? 0),
    manager: w?.manager ?? "",
    users: w?.users ?? [],
  });
  const users = usePoll(listUserIds, [], 0);
  const save = useAction();
  const adminFields = s.isAdmin;
  const nameErr = !w && form.name ? nameProblem(form.name, "workspace name") : null;
  const err = save.fieldError;
  const userIds = users.data ?? [];
  const memberOptions = [...new Set([...userIds, ...form.users])].sort();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (nameErr) return;
    const startsAt = fromLocalInput(form.start);
    const endsAt = fromLocalInput(form.end);
    if (adminFields && (!startsAt || !endsAt)) {
      save.setError("enter the start and end of the period");
      return;
    }
    void save.run(async () => {
      const common = { description: form.description, users: form.users };
      const admin = {
        startsAt: startsAt as string,
        endsAt: endsAt as string,
        trainingGpus: Number(form.trainingGpus),
        deploymentGpus: Number(form.deploymentGpus),
        cpus: Number(form.cpus),
        memoryMiB: Number(form.memoryMiB),
        manager: form.manager,
      };
      if (!w) await ok(api.api.workspaces.post({ name: form.name, ...common, ...admin }));
      else await ok(api.api.workspaces({ ws: w.name }).patch(adminFields ? { ...common, ...admin } : common));
      props.onSaved(w?.name ?? form.name);
    });
  };
  return (
    <Dialog title={w ? `Edit Workspace ${w.name}` : "Create Workspace"} onClose={props.onClose} wide>
      <form onSubmit={submit}>
        {!w ? (
          <Input
            label="Workspace Name"
            hint="Up to 20 lowercase letters, digits and hyphens."
            required
            value={form.name}
            onChange={set("name")}
            error={nameErr ?? err("name")}
          />
        ) : null}
        <TextArea
          label="Description"
          optional
          rows={2}
          maxLength={500}
          value={form.description}
          onChange={set("description")}
          error={err("description")}
        />
        {adminFields ? (
          <>
            <div className="row">
              <Input
                label="Start"
                type="datetime-local"
                required
                value={form.start}
                onChange={set("start")}
                error={err("startsAt")}
              />
              <Input
                label="End"
                type="datetime-local"
                required
                value={form.end}
                onChange={set("end")}
                error={err("endsAt")}
              />
            </div>
            <div className="row">
              <Input
                label="GPUs for Training"
                type="number"
                min={0}
                required
                value={form.trainingGpus}
                onChange={set("trainingGpus")}
                error={err("trainingGpus")}
              />
              <Input
                label="GPUs for Deployment"
                type="number"
                min={0}
                required
                value={form.deploymentGpus}
                onChange={set("deploymentGpus")}
                error={err("deploymentGpus")}
              />
            </div>
            <div className="row">
              <Input
                label="CPU Cores"
                hint="Shared by all its jobs; 0: no limit."
                type="number"
                min={0}
                required
                value={form.cpus}
                onChange={set("cpus")}
                error={err("cpus")}
              />
              <Input
                label="Memory (MiB)"
                hint="Shared by all its jobs; 0: no limit."
                type="number"
                min={0}
                required
                value={form.memoryMiB}
                onChange={set("memoryMiB")}
                error={err("memoryMiB")}
              />
            </div>
            <Select label="Manager" required value={form.manager} onChange={set("manager")} error={err("manager")}>
              <option value="">Choose the manager</option>
              <Options values={memberOptions} />
            </Select>
          </>
        ) : null}
        <Picker
          label="Users"
          optional
          options={memberOptions.length ? memberOptions : form.users}
          chosen={form.users}
          onChange={(users) => setForm({ ...form, users })}
        />
        {/* Users (a picker) and the fields of no input show the error here. */}
        <ErrorText>
          {save.otherError(
            "name",
            "description",
            "manager",
            "trainingGpus",
            "deploymentGpus",
            "cpus",
            "memoryMiB",
            "startsAt",
            "endsAt",
          )}
        </ErrorText>
        <DialogButtons onCancel={props.onClose} submit={w ? "Edit" : "Create"} busy={save.busy} />
      </form>
    </Dialog>
  );
}
