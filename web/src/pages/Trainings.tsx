// Trainings of a workspace (manual §4 Step 5): list, Create Training for the three types.
import type { FormEvent } from "react";
import { ok } from "../../../src/client/api";
import type { TrainingAccess, TrainingType } from "../../../src/domain/enums";
import { DialogButtons, useDialogSlot } from "../components/Dialogs";
import { PagedTable, usePagedList } from "../components/PagedTable";
import { RowButton } from "../components/RowActions";
import { useFormFields } from "../components/useFormFields";
import { WorkspaceCrumbs } from "../components/WorkspaceCrumbs";
import { useSession } from "../context";
import { dateTime } from "../format";
import { Link, navigate, path } from "../router";
import { nameProblem } from "../rules";
import { api } from "../session";
import {
  CpuMemoryFields,
  Dialog,
  ErrorText,
  Input,
  Options,
  PageHead,
  Picker,
  PrimaryButton,
  Select,
  TextArea,
  useAction,
  usePoll,
} from "../ui";

export const TYPE_LABEL: Record<string, string> = {
  advanced: "Advanced",
  builtin: "Built-in Model",
  notebook: "Jupyter Notebook",
};

export function Trainings({ ws }: { ws: string }) {
  const list = usePagedList((page) => ok(api.api.workspaces({ ws }).trainings.get({ query: page })), [ws]);
  const creating = useDialogSlot();
  return (
    <section>
      <PageHead title="Trainings" crumbs={<WorkspaceCrumbs ws={ws} />}>
        <PrimaryButton onClick={() => creating.show(true)}>Create Training</PrimaryButton>
      </PageHead>
      <ErrorText>{list.error}</ErrorText>
      <PagedTable
        list={list}
        label="Trainings"
        rowKey={(t) => t.id}
        empty="No trainings yet. Choose Create Training to set up code, a notebook or a built-in model."
        columns={[
          {
            header: "Training Name",
            cell: (t) => <Link href={path("workspaces", ws, "trainings", t.name)}>{t.name}</Link>,
          },
          { header: "Type", cell: (t) => TYPE_LABEL[t.type] ?? t.type },
          { header: "GPUs", cell: (t) => t.gpus },
          { header: "Access", cell: (t) => (t.access === "public" ? "Public" : "Private") },
          { header: "Owner", cell: (t) => t.owner },
          { header: "Image", cell: (t) => t.image ?? t.builtinModel ?? "default" },
          { header: "Created", cell: (t) => dateTime(t.createdAt) },
          {
            header: "Actions",
            cell: (t) => (
              <RowButton label={`Open ${t.name}`} onClick={() => navigate(path("workspaces", ws, "trainings", t.name))}>
                {t.type === "notebook" ? "Open" : "Jobs"}
              </RowButton>
            ),
          },
        ]}
      />
      {creating.open ? (
        <CreateTraining
          ws={ws}
          onClose={creating.close}
          onCreated={creating.closeThen((name: string) => navigate(path("workspaces", ws, "trainings", name)))}
        />
      ) : null}
    </section>
  );
}

function CreateTraining(props: { ws: string; onClose: () => void; onCreated: (name: string) => void }) {
  const s = useSession();
  const { ws } = props;
  const detail = usePoll(() => ok(api.api.workspaces({ ws }).get()), [ws], 0);
  const models = usePoll(() => ok(api.api["builtin-models"].get()), [], 0);
  const images = usePoll(() => ok(api.api.images.get({ query: { workspace: ws, limit: "500" } })), [ws], 0);
  const { form, setForm, set } = useFormFields({
    type: "advanced",
    name: "",
    description: "",
    gpus: "1",
    cpus: "",
    memoryMiB: "",
    access: "public",
    owner: s.me.userId,
    users: [] as string[],
    image: "",
    builtinModel: "",
  });
  const save = useAction();
  const err = save.fieldError;
  const nameErr = form.name ? nameProblem(form.name, "training name") : null;
  const members = detail.data ? [...new Set([detail.data.manager, ...detail.data.users])].sort() : [s.me.userId];
  const ready = (images.data?.items ?? []).filter((i) => i.status === "ready");
  const model = models.data?.items.find((m) => m.id === form.builtinModel);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (nameErr) return;
    void save.run(async () => {
      await ok(
        api.api.workspaces({ ws }).trainings.post({
          name: form.name,
          description: form.description || undefined,
          type: form.type as TrainingType,
          gpus: form.type === "notebook" ? Math.min(Number(form.gpus), 1) : Number(form.gpus),
          cpus: form.cpus ? Number(form.cpus) : undefined,
          memoryMiB: form.memoryMiB ? Number(form.memoryMiB) : undefined,
          access: form.access as TrainingAccess,
          owner: form.owner || undefined,
          users: form.access === "private" ? form.users : undefined,
          image: form.image || undefined,
          builtinModel: form.type === "builtin" ? form.builtinModel : undefined,
        }),
      );
      props.onCreated(form.name);
    });
  };
  return (
    <Dialog title="Create Training" onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <fieldset className="radios">
          <legend>Training Type</legend>
          {Object.entries(TYPE_LABEL).map(([value, label]) => (
            <label key={value}>
              <input
                type="radio"
                name="type"
                value={value}
                checked={form.type === value}
                onChange={() => setForm({ ...form, type: value })}
              />
              {label}
            </label>
          ))}
        </fieldset>
        <Input
          label="Training Name"
          required
          hint="Up to 20 lowercase letters, digits and hyphens."
          value={form.name}
          onChange={set("name")}
          error={nameErr ?? err("name")}
        />
        <TextArea label="Description" optional rows={2} value={form.description} onChange={set("description")} />
        <div className="row">
          <Input
            label="GPUs"
            type="number"
            min={0}
            max={form.type === "notebook" ? 1 : (detail.data?.trainingGpus ?? undefined)}
            step={form.type === "notebook" ? 0.25 : 1}
            required
            hint={
              detail.data ? `At most ${form.type === "notebook" ? 1 : detail.data.trainingGpus} in ${ws}.` : undefined
            }
            value={form.gpus}
            onChange={set("gpus")}
            error={err("gpus")}
          />
          <Select label="Training Owner" value={form.owner} onChange={set("owner")} error={err("owner")}>
            <Options values={members} />
          </Select>
        </div>
        <CpuMemoryFields
          hint="For its jobs and notebook; with 0 GPUs, a CPU-only training."
          placeholder="no limit"
          fields={{ form, set, err }}
        />
        {form.type === "builtin" ? (
          <>
            <Select
              label="Built-in Model"
              required
              value={form.builtinModel}
              onChange={set("builtinModel")}
              error={err("builtinModel")}
            >
              <option value="">Choose a model</option>
              {(models.data?.items ?? []).map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name} – {m.task}
                </option>
              ))}
            </Select>
            {model ? (
              <div className="facts">
                <p>{model.description}</p>
                <p>
                  <strong>Dataset layout:</strong> {model.datasetLayout}
                </p>
                <p>
                  <strong>Parameters (defaults):</strong>{" "}
                  {Object.entries(model.defaults)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(", ")}
                </p>
              </div>
            ) : null}
          </>
        ) : null}
        <Select
          label="Docker Image"
          optional={form.type !== "notebook"}
          value={form.image}
          onChange={set("image")}
          error={err("image")}
          hint={
            form.type === "advanced"
              ? "Default: the platform's built-in image."
              : form.type === "builtin"
                ? "Default: the built-in models' image (Python with numpy)."
                : "The notebook's environment."
          }
        >
          <option value="">{form.type === "notebook" ? "Choose an image" : "Default image"}</option>
          {ready.map((i) => (
            <option key={i.id} value={i.reference}>
              {i.name}
            </option>
          ))}
        </Select>
        <fieldset className="radios">
          <legend>Access</legend>
          {["public", "private"].map((a) => (
            <label key={a}>
              <input
                type="radio"
                name="access"
                checked={form.access === a}
                onChange={() => setForm({ ...form, access: a })}
              />
              {a === "public" ? "Public (every workspace user)" : "Private (owner and chosen users)"}
            </label>
          ))}
        </fieldset>
        {form.access === "private" ? (
          <Picker
            label="Users"
            optional
            options={members.filter((u) => u !== form.owner)}
            chosen={form.users}
            onChange={(users) => setForm({ ...form, users })}
          />
        ) : null}
        {/* Type, Access, Users and Description show no error of their own: it shows here. */}
        <ErrorText>{save.otherError("name", "gpus", "cpus", "memoryMiB", "owner", "image", "builtinModel")}</ErrorText>
        <DialogButtons onCancel={props.onClose} submit="Create" busy={save.busy} />
      </form>
    </Dialog>
  );
}
