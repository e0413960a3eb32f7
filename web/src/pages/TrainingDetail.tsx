// One training (manual §4 Steps 5–7): its info and SSH command, Open Editor for notebooks, the
// code folder, the jobs with Create Job (parameter sets with Add), View, Download, Cancel.
import { type FormEvent, useRef, useState } from "react";
import { ApiError, ok } from "../../../src/client/api";
import { deleteAt, download, upload } from "../../../src/client/stream";
import type { GpuOption } from "../../../src/jobs/spec";
import { DialogButtons, useDialogSlot } from "../components/Dialogs";
import { PagedTable, usePagedList } from "../components/PagedTable";
import { RowButton, useRowActions } from "../components/RowActions";
import { useFormFields } from "../components/useFormFields";
import { WorkspaceCrumbs } from "../components/WorkspaceCrumbs";
import { useSession } from "../context";
import { bytes, dateTime, parameterText, sshCommand } from "../format";
import { downloadJobLog, downloadJobOutput, JOB_OUTPUT_TITLE } from "../jobDownloads";
import { baseName, encodeFilePath } from "../paths";
import { navigate, path } from "../router";
import { checkUploads, nameProblem, parseParameters, uploadPath } from "../rules";
import { api, baseUrl, currentToken, openApp } from "../session";
import {
  Check,
  CopyButton,
  CpuMemoryFields,
  Dialog,
  ErrorText,
  Input,
  PageHead,
  Pager,
  PrimaryButton,
  Select,
  Status,
  StatusWithReason,
  Table,
  useAction,
  usePaging,
  usePoll,
} from "../ui";
import { TYPE_LABEL } from "./Trainings";

const codeUrl = (ws: string, tr: string) =>
  `${baseUrl}/api/workspaces/${encodeURIComponent(ws)}/trainings/${encodeURIComponent(tr)}/files`;
const codeFileUrl = (ws: string, tr: string, p: string) => `${codeUrl(ws, tr)}/${encodeFilePath(p)}`;

const OPEN = ["pending", "starting", "running"];

export const GPU_OPTION_LABELS: Record<GpuOption, string> = {
  "gpu-acceleration": "GPU Acceleration",
  "unified-memory": "UM (Unified Memory)",
  "rdma-infiniband": "RDMA via InfiniBand",
};

export function TrainingDetail({ ws, tr }: { ws: string; tr: string }) {
  const s = useSession();
  const training = usePoll(() => ok(api.api.workspaces({ ws }).trainings({ tr }).get()), [ws, tr]);
  const t = training.data;
  if (!t) return training.error ? <ErrorText>{training.error}</ErrorText> : <p className="muted">Loading…</p>;
  // The detail adds status, sshPort and notebookUrl to the list's fields.
  const live = t as typeof t & { status?: string; sshPort?: number | null; notebookUrl?: string | null };
  return (
    <section>
      <PageHead title={t.name} crumbs={<WorkspaceCrumbs ws={ws} section="Trainings" />}>
        {t.type === "notebook" ? (
          <NotebookButtons ws={ws} tr={tr} running={Boolean(live.notebookUrl)} reload={training.reload} />
        ) : null}
      </PageHead>
      <div className="info">
        {t.description ? <p>{t.description}</p> : null}
        <dl>
          <dt>Type</dt>
          <dd>{TYPE_LABEL[t.type] ?? t.type}</dd>
          <dt>Status</dt>
          <dd>
            <Status value={live.status ?? "idle"} />
          </dd>
          <dt>GPUs</dt>
          <dd>{t.gpus}</dd>
          <dt>Access</dt>
          <dd>
            {t.access === "public" ? "Public" : `Private (${[t.owner, ...t.users].join(", ")})`}, owner {t.owner}
          </dd>
          <dt>Image</dt>
          <dd>{t.builtinModel ? `built-in model ${t.builtinModel}` : (t.image ?? "default image")}</dd>
          <dt>SSH</dt>
          <dd>
            {live.sshPort ? (
              <span className="copy-row">
                <code>{sshCommand(s.me.userId, location.hostname, live.sshPort)}</code>
                <CopyButton text={sshCommand(s.me.userId, location.hostname, live.sshPort)} label="Copy SSH command" />
              </span>
            ) : (
              <span className="muted">
                An SSH port opens while a job or the notebook runs (add your key on Account).
              </span>
            )}
          </dd>
        </dl>
      </div>
      {t.type !== "notebook" ? <Jobs ws={ws} tr={tr} type={t.type} builtinModel={t.builtinModel} /> : null}
      <CodeFolder ws={ws} tr={tr} />
    </section>
  );
}

function NotebookButtons(props: { ws: string; tr: string; running: boolean; reload: () => void }) {
  const act = useAction();
  const open = () =>
    act.run(async () => {
      const training = api.api.workspaces({ ws: props.ws }).trainings({ tr: props.tr });
      // Start it (already started is fine), then a one-use ticket that the new tab takes to the
      // notebook's own origin, which sets its HttpOnly cookie there: no token in any URL, none
      // the notebook's pages could read. The tab opens without an opener and waits on the
      // master's "Starting…" page until Jupyter answers.
      await ok(training.start.post()).catch((err) => {
        if (!(err instanceof ApiError && err.status === 409)) throw err;
      });
      openApp(await ok(training["notebook-session"].post()));
      props.reload();
    });
  const stop = () =>
    act.run(async () => {
      await ok(api.api.workspaces({ ws: props.ws }).trainings({ tr: props.tr }).stop.post());
      props.reload();
    });
  return (
    <>
      <button type="button" className="primary" onClick={open} disabled={act.busy}>
        {act.busy ? "Starting…" : "Open Editor"}
      </button>
      {props.running ? (
        <button type="button" onClick={() => void stop()} disabled={act.busy}>
          Stop
        </button>
      ) : null}
      <ErrorText>{act.error}</ErrorText>
    </>
  );
}

function Jobs(props: { ws: string; tr: string; type: string; builtinModel: string | null }) {
  const { ws, tr } = props;
  const jobs = usePagedList(
    (page) => ok(api.api.workspaces({ ws }).trainings({ tr }).jobs.get({ query: page })),
    [ws, tr],
    {
      everyMs: 2000,
    },
  );
  const creating = useDialogSlot();
  const act = useRowActions(jobs.reload);
  const cancel = (id: string, name: string) =>
    act.askThen(`Cancel job ${name}? Its container stops.`, () => ok(api.api.jobs({ id }).cancel.post()), "Cancel job");
  return (
    <>
      <div className="section-head">
        <h2>{tr}'s Jobs</h2>
        <PrimaryButton onClick={() => creating.show(true)}>Create Job</PrimaryButton>
      </div>
      <ErrorText>{jobs.error ?? act.error}</ErrorText>
      <PagedTable
        list={jobs}
        label="Jobs"
        rowKey={(j) => j.id}
        empty="No jobs yet. Choose Create Job to run your code on the GPUs."
        columns={[
          {
            header: "Status",
            cell: (j) => <StatusWithReason value={j.status} reason={j.statusReason} quietWhen="succeeded" />,
          },
          { header: "Job Name", cell: (j) => j.name },
          { header: "Parameters", cell: (j) => parameterText(j.parameters) },
          { header: "GPUs", cell: (j) => j.gpus },
          { header: "Node", cell: (j) => j.node ?? "—" },
          { header: "Created", cell: (j) => dateTime(j.createdAt) },
          { header: "Finished", cell: (j) => dateTime(j.finishedAt) },
          {
            header: "Log",
            cell: (j) => (
              <span className="row-actions">
                <RowButton
                  label={`View log of ${j.name}`}
                  onClick={() => navigate(path("workspaces", ws, "trainings", tr, "jobs", j.id))}
                >
                  View
                </RowButton>
                <RowButton
                  label={`Download log of ${j.name}`}
                  onClick={() => act.run(() => downloadJobLog(j.id, j.name))}
                >
                  Download
                </RowButton>
                <RowButton
                  label={`Download output of ${j.name}`}
                  title={JOB_OUTPUT_TITLE}
                  onClick={() => act.run(() => downloadJobOutput(j.id, j.name))}
                >
                  Output
                </RowButton>
                {OPEN.includes(j.status) ? (
                  <RowButton danger label={`Cancel ${j.name}`} onClick={() => cancel(j.id, j.name)}>
                    Cancel
                  </RowButton>
                ) : null}
              </span>
            ),
          },
        ]}
      />
      {creating.open ? (
        <CreateJob
          {...props}
          onClose={creating.close}
          onCreated={creating.closeThen((firstId: string | null) => {
            jobs.reload();
            if (firstId) navigate(path("workspaces", ws, "trainings", tr, "jobs", firstId));
          })}
        />
      ) : null}
      {act.confirmDialog}
    </>
  );
}

function CreateJob(props: {
  ws: string;
  tr: string;
  type: string;
  builtinModel: string | null;
  onClose: () => void;
  onCreated: (firstJobId: string | null) => void;
}) {
  const { ws, tr } = props;
  const builtin = props.type === "builtin";
  const images = usePoll(() => ok(api.api.images.get({ query: { workspace: ws, limit: "500" } })), [ws], 0);
  const datasets = usePoll(() => ok(api.api.workspaces({ ws }).datasets.get({ query: { limit: "500" } })), [ws], 0);
  const code = usePoll(() => ok(api.api.workspaces({ ws }).trainings({ tr }).files.get()), [ws, tr], 0);
  const models = usePoll(() => ok(api.api["builtin-models"].get()), [], 0);
  const model = models.data?.items.find((m) => m.id === props.builtinModel);
  const { form, set } = useFormFields({
    name: "",
    image: "",
    dataset: "",
    runCode: "",
    command: "",
    gpus: "",
    cpus: "",
    memoryMiB: "",
  });
  const [options, setOptions] = useState<GpuOption[]>([]);
  const [sets, setSets] = useState<string[]>([""]);
  const [modelSets, setModelSets] = useState<Record<string, string>[]>([{}]);
  const save = useAction();
  const err = save.fieldError;
  const nameErr = form.name ? nameProblem(form.name, "job name") : null;
  const parsed = sets.map((text) => parseParameters(text));
  const codeFiles = (code.data?.items ?? []).filter((f) => f.type === "file");

  const runCommand = () => {
    if (form.command.trim()) return form.command;
    if (!form.runCode) return "";
    const interp = form.runCode.endsWith(".py") ? "python3" : form.runCode.endsWith(".sh") ? "sh" : "";
    return `${interp ? `${interp} ` : ""}/code/${form.runCode}`;
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (nameErr || parsed.some((p) => "problem" in p)) return;
    const parameterSets = builtin
      ? modelSets.map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== "")))
      : parsed.map((p) => ("set" in p ? p.set : {}));
    const nonEmpty = parameterSets.filter((p) => Object.keys(p).length > 0);
    void save.run(async () => {
      const out = await ok(
        api.api
          .workspaces({ ws })
          .trainings({ tr })
          .jobs.post({
            name: form.name,
            image: form.image || undefined,
            dataset: form.dataset || undefined,
            command: builtin ? undefined : runCommand(),
            gpuOptions: options,
            gpus: form.gpus ? Number(form.gpus) : undefined,
            cpus: form.cpus ? Number(form.cpus) : undefined,
            memoryMiB: form.memoryMiB ? Number(form.memoryMiB) : undefined,
            parameterSets: nonEmpty.length ? parameterSets : undefined,
          }),
      );
      props.onCreated(out.items[0]?.id ?? null);
    });
  };
  return (
    <Dialog title="Create Job" onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <Input
          label="Job Name"
          required
          hint="Up to 20 lowercase letters, digits and hyphens; with several parameter sets each job gets -1, -2, …"
          value={form.name}
          onChange={set("name")}
          error={nameErr ?? err("name")}
        />
        <div className="row">
          <Select label="Docker Image" value={form.image} onChange={set("image")} error={err("image")}>
            <option value="">The training's image</option>
            {(images.data?.items ?? [])
              .filter((i) => i.status === "ready")
              .map((i) => (
                <option key={i.id} value={i.reference}>
                  {i.name}
                </option>
              ))}
          </Select>
          <Select label="Dataset" optional value={form.dataset} onChange={set("dataset")} error={err("dataset")}>
            <option value="">No dataset</option>
            {(datasets.data?.items ?? []).map((d) => (
              <option key={d.name} value={d.name}>
                {d.name}
              </option>
            ))}
          </Select>
          <Input
            label="GPUs"
            type="number"
            min={0}
            step={0.25}
            optional
            placeholder="the training's"
            value={form.gpus}
            onChange={set("gpus")}
            error={err("gpus")}
          />
        </div>
        <CpuMemoryFields
          hint="0 GPUs with CPU cores and memory: a CPU-only job."
          placeholder="the training's"
          fields={{ form, set, err }}
        />
        {builtin ? (
          <p className="hint">
            Runs the built-in model {model?.name ?? props.builtinModel}; the dataset is mounted at /dataset.
          </p>
        ) : (
          <div className="row">
            <Select
              label="Run Code"
              optional
              hint="A file of the training's code folder (/code)."
              value={form.runCode}
              onChange={set("runCode")}
            >
              <option value="">Choose a file</option>
              {codeFiles.map((f) => (
                <option key={f.path} value={f.path}>
                  {f.path}
                </option>
              ))}
            </Select>
            <Input
              label="Command"
              optional
              hint="Instead of a code file: the command to run."
              placeholder={runCommand() || "python3 /code/train.py"}
              value={form.command}
              onChange={set("command")}
              error={err("command")}
            />
          </div>
        )}
        <fieldset>
          <legend>Additional Features</legend>
          {(Object.keys(GPU_OPTION_LABELS) as GpuOption[])
            .filter((o) => o !== "unified-memory" || builtin)
            .map((o) => (
              <Check
                key={o}
                label={GPU_OPTION_LABELS[o]}
                checked={options.includes(o)}
                onChange={(on) => setOptions(on ? [...options, o] : options.filter((x) => x !== o))}
              />
            ))}
          <ErrorText>{err("gpuOptions")}</ErrorText>
        </fieldset>
        <fieldset>
          <legend>Parameters</legend>
          <p className="hint">
            {builtin
              ? "The model's variables (empty: its default). Add makes another set; each set is one job, run in order."
              : "key=value pairs separated by spaces, passed as --key value. Add makes another set; each set is one job, run in order."}
          </p>
          {builtin
            ? modelSets.map((m, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: sets are positional
                <div className="param-set" key={i}>
                  <strong>Set {i + 1}</strong>
                  <div className="row wrap">
                    {Object.entries(model?.defaults ?? {}).map(([k, def]) => (
                      <Input
                        key={k}
                        label={k}
                        placeholder={def}
                        value={m[k] ?? ""}
                        onChange={(e) =>
                          setModelSets(modelSets.map((x, j) => (j === i ? { ...x, [k]: e.target.value } : x)))
                        }
                        error={save.field?.startsWith(`parameterSets[${i}].${k}`) ? save.error : null}
                      />
                    ))}
                  </div>
                  {modelSets.length > 1 ? (
                    <button
                      type="button"
                      className="small"
                      onClick={() => setModelSets(modelSets.filter((_, j) => j !== i))}
                    >
                      Remove set {i + 1}
                    </button>
                  ) : null}
                </div>
              ))
            : sets.map((text, i) => {
                const p = parsed[i];
                return (
                  // biome-ignore lint/suspicious/noArrayIndexKey: sets are positional
                  <div className="param-set row" key={i}>
                    <Input
                      label={`Parameter set ${i + 1}`}
                      placeholder="batch_size=32 epochs=10"
                      value={text}
                      onChange={(e) => setSets(sets.map((x, j) => (j === i ? e.target.value : x)))}
                      error={
                        p && "problem" in p
                          ? p.problem
                          : save.field?.startsWith(`parameterSets[${i}]`)
                            ? save.error
                            : null
                      }
                    />
                    {sets.length > 1 ? (
                      <button type="button" className="small" onClick={() => setSets(sets.filter((_, j) => j !== i))}>
                        Remove set {i + 1}
                      </button>
                    ) : null}
                  </div>
                );
              })}
          <button type="button" onClick={() => (builtin ? setModelSets([...modelSets, {}]) : setSets([...sets, ""]))}>
            Add
          </button>
        </fieldset>
        <ErrorText>
          {save.otherError("name", "image", "dataset", "command", "gpus", "cpus", "memoryMiB", "gpuOptions")}
        </ErrorText>
        <DialogButtons onCancel={props.onClose} submit="Create" busy={save.busy} />
      </form>
    </Dialog>
  );
}

function CodeFolder({ ws, tr }: { ws: string; tr: string }) {
  const files = usePoll(() => ok(api.api.workspaces({ ws }).trainings({ tr }).files.get()), [ws, tr], 0);
  const [progress, setProgress] = useState<number | null>(null);
  const act = useRowActions(files.reload);
  const input = useRef<HTMLInputElement>(null);
  const paging = usePaging();
  const items = (files.data?.items ?? []).filter((f) => f.type === "file");
  const send = (list: FileList | null) => {
    if (!list?.length) return;
    const picked = [...list].map((file) => ({ file, path: uploadPath(file) }));
    const { ok: good, refused } = checkUploads(picked);
    if (refused.length) act.setError(refused.map((r) => `${r.path}: ${r.reason}`).join("; "));
    if (!good.length) return;
    const form = new FormData();
    for (const f of good) form.append("files", f.file, f.path);
    void act.thenReload(async () => {
      setProgress(0);
      try {
        await upload(codeUrl(ws, tr), form, {
          token: currentToken(),
          progress: (l, t) => setProgress(t ? l / t : 0),
        });
      } finally {
        setProgress(null);
        if (input.current) input.current.value = "";
      }
    });
  };
  const remove = (p: string) =>
    act.askThen(`Delete ${p} from the code folder?`, () => deleteAt(codeFileUrl(ws, tr, p), currentToken()));
  return (
    <>
      <div className="section-head">
        <h2>Code folder (/code)</h2>
        <label className="button">
          Upload Code
          <input ref={input} type="file" multiple className="visually-hidden" onChange={(e) => send(e.target.files)} />
        </label>
      </div>
      {progress !== null ? <progress aria-label="Code upload" max={1} value={progress} /> : null}
      <ErrorText>{files.error ?? act.error}</ErrorText>
      <Table
        error={files.error}
        label="Code files"
        rows={files.data ? items.slice(paging.offset, paging.offset + paging.limit) : null}
        rowKey={(f) => f.path}
        empty="The code folder is empty. Upload your training code here, or write it in the notebook."
        columns={[
          { header: "File Name", cell: (f) => f.path },
          { header: "Size", cell: (f) => bytes(f.size) },
          { header: "Modified", cell: (f) => dateTime(f.modifiedAt) },
          {
            header: "Actions",
            cell: (f) => (
              <span className="row-actions">
                <RowButton
                  label={`Download ${f.path}`}
                  onClick={() => act.run(() => download(codeFileUrl(ws, tr, f.path), currentToken(), baseName(f.path)))}
                >
                  Download
                </RowButton>
                <RowButton danger label={`Delete ${f.path}`} onClick={() => remove(f.path)}>
                  Delete
                </RowButton>
              </span>
            ),
          },
        ]}
      />
      {files.data && items.length > 10 ? (
        <Pager
          paging={paging}
          count={Math.min(paging.limit, items.length - paging.offset)}
          total={items.length}
          what="Code files"
        />
      ) : null}
      {act.confirmDialog}
    </>
  );
}
