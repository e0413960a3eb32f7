// Deployments of a workspace: create from a training's job, status, URL, stop/start/delete, log.
import type { FormEvent } from "react";
import { ok } from "../../../src/client/api";
import { DialogButtons, useDialogSlot } from "../components/Dialogs";
import { PagedTable, usePagedList } from "../components/PagedTable";
import { RowButton, useRowActions } from "../components/RowActions";
import { useFormFields } from "../components/useFormFields";
import { WorkspaceCrumbs } from "../components/WorkspaceCrumbs";
import { dateTime } from "../format";
import { Link, navigate, path } from "../router";
import { nameProblem } from "../rules";
import { api, openApp } from "../session";
import {
  CpuMemoryFields,
  Dialog,
  ErrorText,
  Input,
  PageHead,
  PrimaryButton,
  Select,
  StatusWithReason,
  useAction,
  usePoll,
} from "../ui";

/** The deployment's URL with the host this page was reached at (the master advertises its own). */
function appUrl(url: string): string {
  const u = new URL(url);
  u.hostname = location.hostname;
  return u.toString();
}

export function Deployments({ ws }: { ws: string }) {
  const list = usePagedList((page) => ok(api.api.workspaces({ ws }).deployments.get({ query: page })), [ws]);
  const creating = useDialogSlot();
  const act = useRowActions(list.reload);
  const dp = (name: string) => api.api.workspaces({ ws }).deployments({ dp: name });
  const stop = (name: string) => act.thenReload(() => ok(dp(name).stop.post()));
  const start = (name: string) => act.thenReload(() => ok(dp(name).start.post()));
  const remove = (name: string) => act.askThen(`Stop and delete deployment ${name}?`, () => ok(dp(name).delete()));
  return (
    <section>
      <PageHead title="Deployments" crumbs={<WorkspaceCrumbs ws={ws} />}>
        <PrimaryButton onClick={() => creating.show(true)}>Create Deployment</PrimaryButton>
      </PageHead>
      <ErrorText>{list.error ?? act.error}</ErrorText>
      <PagedTable
        list={list}
        label="Deployments"
        rowKey={(d) => d.id}
        empty="No deployments yet. Choose Create Deployment to serve a training's output on the deployment GPUs."
        columns={[
          {
            header: "Status",
            cell: (d) => <StatusWithReason value={d.status} reason={d.statusReason} quietWhen="running" />,
          },
          { header: "Deployment Name", cell: (d) => d.name },
          {
            header: "Training",
            cell: (d) => <Link href={path("workspaces", ws, "trainings", d.training)}>{d.training}</Link>,
          },
          { header: "GPUs", cell: (d) => d.gpus },
          {
            header: "URL",
            cell: (d) => (
              <span className="row-actions">
                {d.url ? (
                  <>
                    <code>{appUrl(d.url)}</code>
                    <RowButton
                      label={`Open ${d.name}`}
                      title="Open in a new tab (on its own address; an HttpOnly cookie for it lets the tab through)"
                      onClick={() => act.run(async () => openApp(await ok(dp(d.name).session.post())))}
                    >
                      Open
                    </RowButton>
                  </>
                ) : (
                  <span className="muted">stopped</span>
                )}
              </span>
            ),
          },
          { header: "Node", cell: (d) => d.node ?? "—" },
          { header: "Created", cell: (d) => dateTime(d.createdAt) },
          {
            header: "Actions",
            cell: (d) => (
              <span className="row-actions">
                {d.jobId ? (
                  <RowButton
                    label={`View log of ${d.name}`}
                    onClick={() => navigate(path("workspaces", ws, "trainings", d.training, "jobs", d.jobId as string))}
                  >
                    Log
                  </RowButton>
                ) : null}
                {["running", "pending", "starting"].includes(d.status) ? (
                  <RowButton label={`Stop ${d.name}`} onClick={() => stop(d.name)}>
                    Stop
                  </RowButton>
                ) : (
                  <RowButton label={`Start ${d.name}`} onClick={() => start(d.name)}>
                    Start
                  </RowButton>
                )}
                <RowButton danger label={`Delete ${d.name}`} onClick={() => remove(d.name)}>
                  Delete
                </RowButton>
              </span>
            ),
          },
        ]}
      />
      {creating.open ? (
        <CreateDeployment ws={ws} onClose={creating.close} onCreated={creating.closeThen(list.reload)} />
      ) : null}
      {act.confirmDialog}
    </section>
  );
}

function CreateDeployment(props: { ws: string; onClose: () => void; onCreated: () => void }) {
  const { ws } = props;
  const trainings = usePoll(() => ok(api.api.workspaces({ ws }).trainings.get({ query: { limit: "500" } })), [ws], 0);
  const { form, set } = useFormFields({
    name: "",
    training: "",
    job: "",
    command: "",
    port: "8000",
    gpus: "1",
    cpus: "",
    memoryMiB: "",
  });
  const jobs = usePoll(
    () =>
      form.training
        ? ok(
            api.api
              .workspaces({ ws })
              .trainings({ tr: form.training })
              .jobs.get({ query: { limit: "500" } }),
          )
        : Promise.resolve(null),
    [ws, form.training],
    0,
  );
  const save = useAction();
  const err = save.fieldError;
  const nameErr = form.name ? nameProblem(form.name, "deployment name") : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (nameErr) return;
    void save.run(async () => {
      await ok(
        api.api.workspaces({ ws }).deployments.post({
          name: form.name,
          training: form.training,
          job: form.job || undefined,
          command: form.command,
          port: Number(form.port) || undefined,
          gpus: Number(form.gpus),
          cpus: form.cpus ? Number(form.cpus) : undefined,
          memoryMiB: form.memoryMiB ? Number(form.memoryMiB) : undefined,
        }),
      );
      props.onCreated();
    });
  };
  const succeeded = (jobs.data?.items ?? []).filter((j) => j.status === "succeeded");
  return (
    <Dialog title="Create Deployment" onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <Input
          label="Deployment Name"
          required
          value={form.name}
          onChange={set("name")}
          error={nameErr ?? err("name")}
        />
        <div className="row">
          <Select label="Training" required value={form.training} onChange={set("training")} error={err("training")}>
            <option value="">Choose a training</option>
            {(trainings.data?.items ?? [])
              .filter((t) => t.type !== "notebook")
              .map((t) => (
                <option key={t.id} value={t.name}>
                  {t.name}
                </option>
              ))}
          </Select>
          <Select label="Job" optional value={form.job} onChange={set("job")} error={err("job")}>
            <option value="">Newest succeeded job</option>
            {succeeded.map((j) => (
              <option key={j.id} value={j.id}>
                {j.name} ({dateTime(j.finishedAt)})
              </option>
            ))}
          </Select>
        </div>
        <Input
          label="Command"
          required
          hint="Starts the server; it gets PORT and HANGAR_MODEL_DIR (the job's /output)."
          placeholder="python3 -m http.server $PORT"
          value={form.command}
          onChange={set("command")}
          error={err("command")}
        />
        <div className="row">
          <Input
            label="Port"
            type="number"
            min={1}
            max={65535}
            value={form.port}
            onChange={set("port")}
            error={err("port")}
          />
          <Input
            label="GPUs"
            type="number"
            min={0}
            step={0.25}
            value={form.gpus}
            onChange={set("gpus")}
            error={err("gpus")}
          />
        </div>
        <CpuMemoryFields
          hint="Docker limits of the serving container; empty: none."
          placeholder="no limit"
          fields={{ form, set, err }}
        />
        <ErrorText>
          {save.otherError("name", "training", "job", "command", "port", "gpus", "cpus", "memoryMiB")}
        </ErrorText>
        <DialogButtons onCancel={props.onClose} submit="Create" busy={save.busy} />
      </form>
    </Dialog>
  );
}
