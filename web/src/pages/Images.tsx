// Docker Images (manual §3 Step 11, §4 Step 3): list, Upload Docker Image (Pull, Dockerfile
// build, Tar) with progress and Docker's messages, release Workspace or Global, Delete.
import { type FormEvent, useState } from "react";
import { ok } from "../../../src/client/api";
import { upload } from "../../../src/client/stream";
import type { ImageRelease } from "../../../src/domain/enums";
import { DialogButtons, useDialogSlot } from "../components/Dialogs";
import { PagedTable, usePagedList } from "../components/PagedTable";
import { RowButton, useRowActions } from "../components/RowActions";
import { useFormFields } from "../components/useFormFields";
import { useSession } from "../context";
import { bytes, dateTime } from "../format";
import { api, baseUrl, currentToken } from "../session";
import {
  Dialog,
  ErrorText,
  Input,
  PageHead,
  Picker,
  PrimaryButton,
  StatusWithReason,
  TextArea,
  useAction,
} from "../ui";

const UPLOAD_TYPE: Record<string, string> = { pull: "Pull", build: "Dockerfile build", tar: "Tar" };

export function Images() {
  const s = useSession();
  const list = usePagedList((page) => ok(api.api.images.get({ query: page })), []);
  const uploading = useDialogSlot();
  const act = useRowActions(list.reload);
  const remove = (id: string, name: string) =>
    act.askThen(`Delete Docker image ${name}? Trainings that use it cannot start new jobs.`, () =>
      ok(api.api.images({ id }).delete()),
    );
  return (
    <section>
      <PageHead title="Docker Images">
        <PrimaryButton onClick={() => uploading.show(true)}>Upload Docker Image</PrimaryButton>
      </PageHead>
      <ErrorText>{list.error ?? act.error}</ErrorText>
      <PagedTable
        list={list}
        label="Docker Images"
        rowKey={(i) => i.id}
        empty="No Docker images yet. Choose Upload Docker Image to pull, build or load one."
        columns={[
          {
            header: "Status",
            cell: (i) => (
              <StatusWithReason value={i.status} title={i.statusReason} reason={i.statusReason} quietWhen="ready" />
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
                <RowButton danger label={`Delete ${i.name}`} onClick={() => remove(i.id, i.name)}>
                  Delete
                </RowButton>
              ) : null,
          },
        ]}
      />
      {uploading.open ? <UploadImage onClose={uploading.close} onDone={uploading.closeThen(list.reload)} /> : null}
      {act.confirmDialog}
    </section>
  );
}

function UploadImage(props: { onClose: () => void; onDone: () => void }) {
  const s = useSession();
  const { form, setForm, set } = useFormFields({
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
  const err = save.fieldError;
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
        {/* Release Type and Workspaces show no error of their own: it shows here. */}
        <ErrorText>{save.otherError("name", "description", "source.ref", "source.dockerfile")}</ErrorText>
        <p className="hint">Pulls and builds run on the master; the list shows the status and Docker's message.</p>
        <DialogButtons onCancel={props.onClose} submit={save.busy ? "Uploading…" : "Upload"} busy={save.busy} />
      </form>
    </Dialog>
  );
}
