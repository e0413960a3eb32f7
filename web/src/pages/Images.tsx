// Docker Images (manual §3 Step 11, §4 Step 3): list, Upload Docker Image (Pull, Dockerfile
// build, Tar) with progress and Docker's messages, release Workspace or Global, Delete.
import { type FormEvent, useState } from "react";
import { ok } from "../../../src/client/api";
import { upload } from "../../../src/client/stream";
import type { ImageRelease } from "../../../src/domain/enums";
import { useSession } from "../context";
import { bytes, dateTime } from "../format";
import { api, baseUrl, currentToken } from "../session";
import {
  Dialog,
  ErrorText,
  Input,
  PageHead,
  Pager,
  Picker,
  Status,
  Table,
  TextArea,
  useAction,
  useConfirm,
  usePaging,
  usePoll,
} from "../ui";

const UPLOAD_TYPE: Record<string, string> = { pull: "Pull", build: "Dockerfile build", tar: "Tar" };

export function Images() {
  const s = useSession();
  const paging = usePaging();
  const list = usePoll(
    () => ok(api.api.images.get({ query: { limit: String(paging.limit), offset: String(paging.offset) } })),
    [paging.limit, paging.offset],
  );
  const [uploading, setUploading] = useState(false);
  const confirm = useConfirm();
  const act = useAction();
  const remove = async (id: string, name: string) => {
    if (!(await confirm.ask(`Delete Docker image ${name}? Trainings that use it cannot start new jobs.`))) return;
    await act.run(async () => {
      await ok(api.api.images({ id }).delete());
      list.reload();
    });
  };
  return (
    <section>
      <PageHead title="Docker Images">
        <button type="button" className="primary" onClick={() => setUploading(true)}>
          Upload Docker Image
        </button>
      </PageHead>
      <ErrorText>{list.error ?? act.error}</ErrorText>
      <Table
        error={list.error}
        label="Docker Images"
        rows={list.data?.items ?? null}
        rowKey={(i) => i.id}
        empty="No Docker images yet. Choose Upload Docker Image to pull, build or load one."
        columns={[
          {
            header: "Status",
            cell: (i) => (
              <>
                <Status value={i.status} title={i.statusReason} />
                {i.statusReason && i.status !== "ready" ? <div className="reason">{i.statusReason}</div> : null}
              </>
            ),
          },
          {
            header: "Upload Type",
            cell: (i) => (i.builtin ? "Built-in" : (UPLOAD_TYPE[i.source.type] ?? i.source.type)),
          },
          { header: "Release Type", cell: (i) => (i.release === "global" ? "Global" : "Workspace") },
          {
            header: "Docker Image Name",
            cell: (i) => (
              <>
                {i.name}
                <div className="muted small-text">{i.reference}</div>
              </>
            ),
          },
          { header: "Size", cell: (i) => bytes(i.sizeBytes) },
          { header: "Workspace", cell: (i) => (i.release === "global" ? "All Workspaces" : i.workspaces.join(", ")) },
          { header: "Uploader", cell: (i) => i.uploader },
          { header: "Uploaded", cell: (i) => dateTime(i.createdAt) },
          {
            header: "Actions",
            cell: (i) =>
              !i.builtin && (s.isAdmin || i.uploader === s.me.userId) ? (
                <button
                  type="button"
                  className="small danger"
                  aria-label={`Delete ${i.name}`}
                  onClick={() => void remove(i.id, i.name)}
                >
                  Delete
                </button>
              ) : null,
          },
        ]}
      />
      {list.data ? (
        <Pager paging={paging} count={list.data.items.length} total={list.data.total} what="Docker Images" />
      ) : null}
      {uploading ? (
        <UploadImage
          onClose={() => setUploading(false)}
          onDone={() => {
            setUploading(false);
            list.reload();
          }}
        />
      ) : null}
      {confirm.element}
    </section>
  );
}

function UploadImage(props: { onClose: () => void; onDone: () => void }) {
  const s = useSession();
  const [form, setForm] = useState({
    name: "",
    description: "",
    type: "pull",
    ref: "",
    dockerfile: "",
    release: "workspace",
  });
  const [chosen, setChosen] = useState<string[]>(s.workspace ? [s.workspace] : []);
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const save = useAction();
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const err = (f: string) => (save.field === f ? save.error : null);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (form.type === "tar" && !file) {
      save.setError("choose the docker-save tar file");
      return;
    }
    void save.run(async () => {
      const source =
        form.type === "pull"
          ? { type: "pull" as const, ref: form.ref.trim() }
          : form.type === "build"
            ? { type: "build" as const, dockerfile: form.dockerfile, ...(file ? { context: "upload" as const } : {}) }
            : { type: "tar" as const };
      const image = await ok(
        api.api.images.post({
          name: form.name,
          description: form.description || undefined,
          source,
          release: form.release as ImageRelease,
          workspaces: form.release === "workspace" ? chosen : undefined,
        }),
      );
      if (file && form.type !== "pull") {
        const body = new FormData();
        body.append("file", file, file.name);
        setProgress(0);
        try {
          await upload(`${baseUrl}/api/images/${encodeURIComponent(image.id)}/upload`, body, {
            token: currentToken(),
            progress: (l, t) => setProgress(t ? l / t : 0),
          });
        } finally {
          setProgress(null);
        }
      }
      props.onDone();
    });
  };
  const known = ["name", "description", "source.ref", "source.dockerfile", "release", "workspaces"];
  return (
    <Dialog title="Upload Docker Image" onClose={props.onClose} wide>
      <form onSubmit={submit}>
        <Input
          label="Docker Image Name"
          required
          maxLength={20}
          hint="Up to 20 characters."
          value={form.name}
          onChange={set("name")}
          error={err("name")}
        />
        <TextArea
          label={`Docker Image Description (${form.description.length}/200)`}
          optional
          rows={2}
          maxLength={200}
          value={form.description}
          onChange={set("description")}
          error={err("description")}
        />
        <fieldset className="radios">
          <legend>Docker Image Upload Type</legend>
          {Object.entries(UPLOAD_TYPE).map(([v, l]) => (
            <label key={v}>
              <input
                type="radio"
                name="uploadType"
                checked={form.type === v}
                onChange={() => setForm({ ...form, type: v })}
              />
              {l}
            </label>
          ))}
        </fieldset>
        {form.type === "pull" ? (
          <Input
            label="Image URL"
            required
            placeholder="nvcr.io/nvidia/tensorflow:19.02-py3"
            hint="Please enter only the URL of the Docker image."
            value={form.ref}
            onChange={set("ref")}
            error={err("source.ref") ?? err("source")}
          />
        ) : null}
        {form.type === "build" ? (
          <>
            <TextArea
              label="Dockerfile"
              required
              rows={6}
              className="mono"
              placeholder={"FROM hangar/builtin-python:latest\nRUN pip install torch"}
              value={form.dockerfile}
              onChange={set("dockerfile")}
              error={err("source.dockerfile")}
            />
            <Input
              label="Build context (tar)"
              type="file"
              optional
              accept=".tar,application/x-tar"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
            />
          </>
        ) : null}
        {form.type === "tar" ? (
          <Input
            label="Image tar (docker save)"
            type="file"
            required
            accept=".tar,application/x-tar"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        ) : null}
        <fieldset className="radios">
          <legend>Release Type</legend>
          {[
            ["workspace", "Workspace"],
            ["global", "Global"],
          ].map(([v, l]) => (
            <label key={v}>
              <input
                type="radio"
                name="release"
                checked={form.release === v}
                onChange={() => setForm({ ...form, release: v as string })}
              />
              {l}
            </label>
          ))}
        </fieldset>
        {form.release === "workspace" ? (
          <Picker label="Workspaces" options={s.workspaces.map((w) => w.name)} chosen={chosen} onChange={setChosen} />
        ) : null}
        {progress !== null ? <progress aria-label="Image upload" max={1} value={progress} /> : null}
        {save.error && !known.includes(save.field ?? "") ? <ErrorText>{save.error}</ErrorText> : null}
        {save.field === "release" || save.field === "workspaces" ? <ErrorText>{save.error}</ErrorText> : null}
        <p className="hint">Pulls and builds run on the master; the list shows the status and Docker's message.</p>
        <div className="actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={save.busy}>
            {save.busy ? "Uploading…" : "Upload"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
