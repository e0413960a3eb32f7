// Datasets (manual §3 Step 10, §4 Step 4): list, Create Dataset with many files and folders
// (picker and drag and drop), a progress bar per file, names checked before sending with the
// server's own rules, the server's refusal shown per file; detail with its files.
import { type DragEvent, type FormEvent, useRef, useState } from "react";
import { ok } from "../../../src/client/api";
import { deleteAt, download, upload } from "../../../src/client/stream";
import type { DatasetAccess } from "../../../src/domain/enums";
import { DialogButtons, useDialogSlot } from "../components/Dialogs";
import { PagedTable, usePagedList } from "../components/PagedTable";
import { RowButton, useRowActions } from "../components/RowActions";
import { WorkspaceCrumbs } from "../components/WorkspaceCrumbs";
import { useSession } from "../context";
import { bytes, dateTime, plural } from "../format";
import { baseName, encodeFilePath } from "../paths";
import { Link, navigate, path } from "../router";
import { checkUploads, nameProblem, type PickedFile, uploadPath } from "../rules";
import { api, baseUrl, currentToken } from "../session";
import {
  Dialog,
  ErrorText,
  Input,
  messageOf,
  Options,
  PageHead,
  PrimaryButton,
  Select,
  Table,
  useAction,
  usePoll,
} from "../ui";

const ACCESS: Record<string, string> = { "read-write": "Read and Write", "read-only": "Read Only" };
const enc = encodeURIComponent;
const filesUrl = (ws: string, ds: string) => `${baseUrl}/api/workspaces/${enc(ws)}/datasets/${enc(ds)}/files`;
const fileUrl = (ws: string, ds: string, p: string) => `${filesUrl(ws, ds)}/${encodeFilePath(p)}`;

/** Admins: every workspace's datasets (`GET /api/datasets`). */
export function AllDatasets() {
  const list = usePagedList((page) => ok(api.api.datasets.get({ query: page })), []);
  return (
    <section>
      <PageHead title="Datasets" />
      <p className="muted">Every workspace's datasets. Create one from its workspace's Datasets page.</p>
      <ErrorText>{list.error}</ErrorText>
      <PagedTable
        list={list}
        label="Datasets"
        rowKey={(d) => `${d.workspace}/${d.name}`}
        empty="No datasets in any workspace yet."
        columns={[
          {
            header: "Dataset Name",
            cell: (d) => <Link href={path("workspaces", d.workspace, "datasets", d.name)}>{d.name}</Link>,
          },
          {
            header: "Workspace",
            cell: (d) => <Link href={path("workspaces", d.workspace, "datasets")}>{d.workspace}</Link>,
          },
          { header: "Access Type", cell: (d) => ACCESS[d.access] ?? d.access },
          { header: "Files", cell: (d) => plural(d.files, "file") },
          { header: "Size", cell: (d) => bytes(d.totalBytes) },
          { header: "Creator", cell: (d) => d.createdBy },
          { header: "Updated", cell: (d) => dateTime(d.updatedAt) },
        ]}
      />
    </section>
  );
}

export function Datasets({ ws }: { ws: string }) {
  const list = usePagedList((page) => ok(api.api.workspaces({ ws }).datasets.get({ query: page })), [ws]);
  const creating = useDialogSlot();
  const act = useRowActions(list.reload);
  const remove = (ds: string) =>
    act.askThen(`Delete dataset ${ds} and all its files?`, () =>
      ok(api.api.workspaces({ ws }).datasets({ ds }).delete()),
    );
  return (
    <section>
      <PageHead title="Datasets" crumbs={<WorkspaceCrumbs ws={ws} />}>
        <PrimaryButton onClick={() => creating.show(true)}>Create Dataset</PrimaryButton>
      </PageHead>
      <ErrorText>{list.error ?? act.error}</ErrorText>
      <PagedTable
        list={list}
        label="Datasets"
        rowKey={(d) => d.name}
        empty="No datasets yet. Choose Create Dataset and drop your files or folders in."
        columns={[
          {
            header: "Dataset Name",
            cell: (d) => <Link href={path("workspaces", ws, "datasets", d.name)}>{d.name}</Link>,
          },
          { header: "Access Type", cell: (d) => ACCESS[d.access] ?? d.access },
          { header: "Files", cell: (d) => plural(d.files, "file") },
          { header: "Size", cell: (d) => bytes(d.totalBytes) },
          { header: "Workspace", cell: (d) => d.workspace },
          { header: "Creator", cell: (d) => d.createdBy },
          { header: "Updated", cell: (d) => dateTime(d.updatedAt) },
          { header: "Created", cell: (d) => dateTime(d.createdAt) },
          {
            header: "Actions",
            cell: (d) => (
              <RowButton danger label={`Delete ${d.name}`} onClick={() => remove(d.name)}>
                Delete
              </RowButton>
            ),
          },
        ]}
      />
      {creating.open ? (
        <CreateDataset
          ws={ws}
          onClose={creating.closeThen(list.reload)}
          onDone={creating.closeThen((name: string) => navigate(path("workspaces", ws, "datasets", name)))}
        />
      ) : null}
      {act.confirmDialog}
    </section>
  );
}

interface UploadRow {
  path: string;
  size: number;
  progress: number;
  state: "refused" | "waiting" | "sending" | "done" | "failed";
  message?: string;
}

/** Uploads files one request each (three at a time): per-file progress and per-file errors. */
function useUploads() {
  const [rows, setRows] = useState<UploadRow[]>([]);
  const patch = (p: string, change: Partial<UploadRow>) =>
    setRows((old) => old.map((r) => (r.path === p ? { ...r, ...change } : r)));
  const start = async (url: string, picked: PickedFile[]) => {
    const { ok: good, refused } = checkUploads(picked);
    setRows([
      ...refused.map((r) => ({ path: r.path, size: 0, progress: 0, state: "refused" as const, message: r.reason })),
      ...good.map((f) => ({ path: f.path, size: f.file.size, progress: 0, state: "waiting" as const })),
    ]);
    const queue = [...good];
    const worker = async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        const form = new FormData();
        form.append("files", f.file, f.path);
        const p = f.path;
        patch(p, { state: "sending" });
        try {
          await upload(url, form, { token: currentToken(), progress: (l, t) => patch(p, { progress: t ? l / t : 0 }) });
          patch(p, { state: "done", progress: 1 });
        } catch (err) {
          patch(p, { state: "failed", message: messageOf(err) });
        }
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  };
  return { rows, start, clear: () => setRows([]) };
}

/** Files from a drop, folders walked (webkitGetAsEntry). */
async function droppedFiles(e: DragEvent): Promise<PickedFile[]> {
  const out: PickedFile[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
      out.push({ file, path: prefix + file.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
        if (!batch.length) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  };
  const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter(Boolean) as FileSystemEntry[];
  if (entries.length) for (const en of entries) await walk(en, "");
  else for (const file of e.dataTransfer.files) out.push({ file, path: file.name });
  return out;
}

function FilePicker(props: { onPick: (files: PickedFile[]) => void; picked: number }) {
  const [over, setOver] = useState(false);
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    props.onPick(await droppedFiles(e));
  };
  const pick = (list: FileList | null) =>
    props.onPick([...(list ?? [])].map((file) => ({ file, path: uploadPath(file) })));
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: the drop zone; the labelled inputs inside are the accessible way
    <div
      className={over ? "dropzone over" : "dropzone"}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => void onDrop(e)}
    >
      <p>Drop files or folders here, or</p>
      <label className="button">
        Choose files
        <input type="file" multiple className="visually-hidden" onChange={(e) => pick(e.target.files)} />
      </label>{" "}
      <label className="button">
        Choose a folder
        <input
          type="file"
          multiple
          className="visually-hidden"
          {...({ webkitdirectory: "" } as object)}
          onChange={(e) => pick(e.target.files)}
        />
      </label>
      <p className="hint">
        {props.picked ? `${plural(props.picked, "file")} chosen. ` : ""}Names: ASCII only, no spaces, none of * ? : &lt;
        &gt; " | \
      </p>
    </div>
  );
}

function UploadTable({ rows }: { rows: UploadRow[] }) {
  if (!rows.length) return null;
  return (
    <Table
      label="Uploads"
      rows={rows}
      rowKey={(r) => r.path}
      empty=""
      columns={[
        { header: "File", cell: (r) => r.path },
        { header: "Size", cell: (r) => (r.state === "refused" ? "—" : bytes(r.size)) },
        {
          header: "Progress",
          cell: (r) =>
            r.state === "refused" || r.state === "failed" ? (
              <span className="error-text" role="alert">
                Refused: {r.message}
              </span>
            ) : (
              <>
                <progress aria-label={`Upload of ${r.path}`} max={1} value={r.progress} />{" "}
                {r.state === "done" ? "Done" : r.state === "sending" ? `${Math.round(r.progress * 100)}%` : "Waiting"}
              </>
            ),
        },
      ]}
    />
  );
}

function CreateDataset(props: { ws: string; onClose: () => void; onDone: (name: string) => void }) {
  const [name, setName] = useState("");
  const [access, setAccess] = useState<DatasetAccess>("read-write");
  const [picked, setPicked] = useState<PickedFile[]>([]);
  const [created, setCreated] = useState<string | null>(null);
  const uploads = useUploads();
  const save = useAction();
  const nameErr = name ? nameProblem(name, "dataset name") : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (nameErr) return;
    void save.run(async () => {
      if (!created) {
        await ok(api.api.workspaces({ ws: props.ws }).datasets.post({ name, access }));
        setCreated(name);
      }
      await uploads.start(filesUrl(props.ws, name), picked);
    });
  };
  const finished =
    created && uploads.rows.length > 0 && uploads.rows.every((r) => r.state !== "waiting" && r.state !== "sending");
  return (
    <Dialog title="Create Dataset" onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <Input
          label="Dataset Name"
          required
          disabled={Boolean(created)}
          hint="Up to 20 lowercase letters, digits and hyphens."
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={nameErr ?? save.fieldError("name")}
        />
        <Select
          label="Access Type"
          value={access}
          disabled={Boolean(created)}
          onChange={(e) => setAccess(e.target.value as DatasetAccess)}
        >
          <Options values={Object.keys(ACCESS)} label={(v) => ACCESS[v] ?? v} />
        </Select>
        {!created ? <FilePicker picked={picked.length} onPick={(f) => setPicked([...picked, ...f])} /> : null}
        <UploadTable rows={uploads.rows} />
        <ErrorText>{save.otherError("name")}</ErrorText>
        {finished ? (
          <div className="actions">
            <button type="button" className="primary" onClick={() => props.onDone(created)}>
              Open {created}
            </button>
          </div>
        ) : (
          <DialogButtons
            onCancel={props.onClose}
            submit={save.busy ? "Uploading…" : "Create"}
            busy={save.busy}
            disabled={Boolean(created)}
          />
        )}
      </form>
    </Dialog>
  );
}

export function DatasetDetail({ ws, ds }: { ws: string; ds: string }) {
  const s = useSession();
  const detail = usePoll(() => ok(api.api.workspaces({ ws }).datasets({ ds }).get()), [ws, ds]);
  const files = usePagedList(
    (page) => ok(api.api.workspaces({ ws }).datasets({ ds }).files.get({ query: page })),
    [ws, ds],
    {
      pageSize: 25,
    },
  );
  const [adding, setAdding] = useState(false);
  const uploads = useUploads();
  const reload = () => {
    files.reload();
    detail.reload();
  };
  const act = useRowActions(reload);
  const picked = useRef<PickedFile[]>([]);
  const d = detail.data;
  const writable = d?.access === "read-write" || s.isAdmin;
  const remove = (p: string) =>
    act.askThen(`Delete ${p} from ${ds}?`, () => deleteAt(fileUrl(ws, ds, p), currentToken()));
  return (
    <section>
      <PageHead title={ds} crumbs={<WorkspaceCrumbs ws={ws} section="Datasets" />}>
        {writable ? <PrimaryButton onClick={() => setAdding(!adding)}>File Upload</PrimaryButton> : null}
      </PageHead>
      <ErrorText>{detail.error ?? files.error ?? act.error}</ErrorText>
      {d ? (
        <div className="info">
          <dl>
            <dt>Access Type</dt>
            <dd>{ACCESS[d.access] ?? d.access}</dd>
            <dt>Total number of Files</dt>
            <dd>{d.files}</dd>
            <dt>Total File Capacity</dt>
            <dd>{bytes(d.totalBytes)}</dd>
            <dt>Creator</dt>
            <dd>{d.createdBy}</dd>
          </dl>
        </div>
      ) : null}
      {adding ? (
        <div className="panel">
          <FilePicker
            picked={0}
            onPick={(f) => {
              picked.current = f;
              void uploads.start(filesUrl(ws, ds), f).then(reload);
            }}
          />
          <UploadTable rows={uploads.rows} />
        </div>
      ) : null}
      <PagedTable
        list={files}
        label="Files"
        rowKey={(f) => f.path}
        empty="No files yet. Choose File Upload to add some."
        columns={[
          { header: "File Type", cell: (f) => f.type },
          { header: "File Name", cell: (f) => f.path },
          { header: "Size", cell: (f) => bytes(f.size) },
          { header: "Modifier", cell: (f) => f.modifiedBy ?? "—" },
          { header: "Modified", cell: (f) => dateTime(f.modifiedAt) },
          {
            header: "Actions",
            cell: (f) => (
              <span className="row-actions">
                <RowButton
                  label={`Download ${f.path}`}
                  onClick={() => act.run(() => download(fileUrl(ws, ds, f.path), currentToken(), baseName(f.path)))}
                >
                  Download
                </RowButton>
                {writable ? (
                  <RowButton danger label={`Delete ${f.path}`} onClick={() => remove(f.path)}>
                    Delete
                  </RowButton>
                ) : null}
              </span>
            ),
          },
        ]}
      />
      {act.confirmDialog}
    </section>
  );
}
