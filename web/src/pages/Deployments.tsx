// Deployments of a workspace: create from a training's job, status, URL, stop/start/delete, log.
import { type FormEvent, useState } from "react";
import { ok } from "../../../src/client/api";
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
  Pager,
  Select,
  Status,
  Table,
  useAction,
  useConfirm,
  usePaging,
  usePoll,
} from "../ui";

/** The deployment's URL with the host this page was reached at (the master advertises its own). */
function appUrl(url: string): string {
  const u = new URL(url);
  u.hostname = location.hostname;
  return u.toString();
}

export function Deployments({ ws }: { ws: string }) {
  const paging = usePaging();
  const list = usePoll(
    () =>
      ok(
        api.api
          .workspaces({ ws })
          .deployments.get({ query: { limit: String(paging.limit), offset: String(paging.offset) } }),
      ),
    [ws, paging.limit, paging.offset],
  );
  const [creating, setCreating] = useState(false);
  const act = useAction();
  const confirm = useConfirm();
  const dp = (name: string) => api.api.workspaces({ ws }).deployments({ dp: name });
  const stop = (name: string) =>
    act.run(async () => {
      await ok(dp(name).stop.post());
      list.reload();
    });
  const start = (name: string) =>
    act.run(async () => {
      await ok(dp(name).start.post());
      list.reload();
    });
  const remove = async (name: string) => {
    if (!(await confirm.ask(`Stop and delete deployment ${name}?`))) return;
    await act.run(async () => {
      await ok(dp(name).delete());
      list.reload();
    });
  };
  return (
    <section>
      <PageHead title="Deployments" crumbs={<Link href={path("workspaces", ws)}>{ws}</Link>}>
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          Create Deployment
        </button>
      </PageHead>
      <ErrorText>{list.error ?? act.error}</ErrorText>
      <Table
        error={list.error}
        label="Deployments"
        rows={list.data?.items ?? null}
        rowKey={(d) => d.id}
        empty="No deployments yet. Choose Create Deployment to serve a training's output on the deployment GPUs."
        columns={[
          {
            header: "Status",
            cell: (d) => (
              <>
                <Status value={d.status} />
                {d.statusReason && d.status !== "running" ? <div className="reason">{d.statusReason}</div> : null}
              </>
            ),
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
                    <button
                      type="button"
                      className="small"
                      aria-label={`Open ${d.name}`}
                      title="Open in a new tab (on its own address; an HttpOnly cookie for it lets the tab through)"
                      onClick={() =>
                        void act.run(async () =>
                          openApp(await ok(api.api.workspaces({ ws }).deployments({ dp: d.name }).session.post())),
                        )
                      }
                    >
                      Open
                    </button>
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
                  <button
                    type="button"
                    className="small"
                    aria-label={`View log of ${d.name}`}
                    onClick={() => navigate(path("workspaces", ws, "trainings", d.training, "jobs", d.jobId as string))}
                  >
                    Log
                  </button>
                ) : null}
                {["running", "pending", "starting"].includes(d.status) ? (
                  <button
                    type="button"
                    className="small"
                    aria-label={`Stop ${d.name}`}
                    onClick={() => void stop(d.name)}
                  >
                    Stop
                  </button>
                ) : (
                  <button
                    type="button"
                    className="small"
                    aria-label={`Start ${d.name}`}
                    onClick={() => void start(d.name)}
                  >
                    Start
                  </button>
                )}
                <button
                  type="button"
                  className="small danger"
                  aria-label={`Delete ${d.name}`}
                  onClick={() => void remove(d.name)}
                >
                  Delete
                </button>
              </span>
            ),
          },
        ]}
      />
      {list.data ? (
        <Pager paging={paging} count={list.data.items.length} total={list.data.total} what="Deployments" />
      ) : null}
      {creating ? (
        <CreateDeployment
          ws={ws}
          onClose={() => setCreating(false)}
          onCreated={() => {
            setCreating(false);
            list.reload();
          }}
        />
      ) : null}
      {confirm.element}
    </section>
  );
}

function CreateDeployment(props: { ws: string; onClose: () => void; onCreated: () => void }) {
  const { ws } = props;
  const trainings = usePoll(() => ok(api.api.workspaces({ ws }).trainings.get({ query: { limit: "500" } })), [ws], 0);
  const [form, setForm] = useState({
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
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const err = (f: string) => (save.field === f ? save.error : null);
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
          cpus={form.cpus}
          memoryMiB={form.memoryMiB}
          onCpus={set("cpus")}
          onMemory={set("memoryMiB")}
          cpusError={err("cpus")}
          memoryError={err("memoryMiB")}
        />
        {save.error &&
        !["name", "training", "job", "command", "port", "gpus", "cpus", "memoryMiB"].includes(save.field ?? "") ? (
          <ErrorText>{save.error}</ErrorText>
        ) : null}
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={save.busy}>
            Create
          </button>
        </div>
      </form>
    </Dialog>
  );
}
