// A job's log (manual §4 Steps 6 and 8): followed live over SSE while it runs, Download, Cancel.
import { useEffect, useRef, useState } from "react";
import { ApiError, ok } from "../../../src/client/api";
import { followLog, readText } from "../../../src/client/stream";
import { useRowActions } from "../components/RowActions";
import { WorkspaceCrumbs } from "../components/WorkspaceCrumbs";
import { dateTime, parameterText } from "../format";
import { downloadJobLog, downloadJobOutput, JOB_OUTPUT_TITLE } from "../jobDownloads";
import { api, baseUrl, currentToken } from "../session";
import { ErrorText, messageOf, PageHead, Status, usePoll } from "../ui";
import { GPU_OPTION_LABELS } from "./TrainingDetail";

export function JobLog({ ws, tr, id }: { ws: string; tr: string; id: string }) {
  const job = usePoll(() => ok(api.api.jobs({ id }).get()), [id], 2000);
  const reloadJob = useRef(job.reload);
  reloadJob.current = job.reload;
  const [lines, setLines] = useState<string[]>([]);
  const [ended, setEnded] = useState<string | null>(null);
  const [streamError, setStreamError] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  const pre = useRef<HTMLPreElement>(null);
  const act = useRowActions(job.reload);

  useEffect(() => {
    const abort = new AbortController();
    setLines([]);
    setEnded(null);
    setStreamError(null);
    const buffer: string[] = [];
    let replace = false;
    let flush: ReturnType<typeof setTimeout> | undefined;
    const line = (text: string) => {
      buffer.push(text);
      // Batch bursts of lines into one render.
      flush ??= setTimeout(() => {
        flush = undefined;
        const add = buffer.splice(0);
        const fresh = replace;
        replace = false;
        setLines((old) => (fresh ? add : old.concat(add)));
      }, 50);
    };
    // The stream starts with the whole log so far. A connection cut before the job's end (an
    // idle timeout on a quiet job, a restart) is opened again and replaces what was shown.
    const follow = async () => {
      for (let attempt = 0; !abort.signal.aborted; attempt++) {
        let done = false;
        replace = attempt > 0;
        try {
          await followLog(
            baseUrl,
            currentToken(),
            id,
            {
              line,
              end: (e) => {
                done = true;
                setEnded(e.status);
                reloadJob.current();
              },
            },
            abort.signal,
          );
          setStreamError(null);
        } catch (err) {
          if (abort.signal.aborted) return;
          const status = err instanceof ApiError ? err.status : 0;
          if (status >= 400 && status < 500) {
            setStreamError(messageOf(err));
            return;
          }
          setStreamError(`${messageOf(err)} (trying again)`);
        }
        if (done) return;
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * (attempt + 1))));
      }
    };
    void follow();
    return () => {
      abort.abort();
      clearTimeout(flush);
    };
  }, [id]);

  // Belt and braces: when the polled status is final but the stream never said so (a cut
  // connection that hangs), read the whole log once.
  const polled = job.data?.status;
  useEffect(() => {
    if (!polled || ended || ["pending", "starting", "running"].includes(polled)) return;
    let live = true;
    readText(`${baseUrl}/api/jobs/${encodeURIComponent(id)}/log`, currentToken())
      .then((text) => {
        if (!live) return;
        setLines(text.replace(/\n$/, "").split("\n"));
        setEnded(polled);
      })
      .catch((err) => live && setStreamError(messageOf(err)));
    return () => {
      live = false;
    };
  }, [polled, ended, id]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: scroll on new lines
  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [lines, follow]);

  const j = job.data;
  const status = ended ?? j?.status ?? "…";
  const open = ["pending", "starting", "running"].includes(status);
  const cancel = async () => {
    if (!j) return;
    await act.askThen(
      `Cancel job ${j.name}? Its container stops.`,
      () => ok(api.api.jobs({ id }).cancel.post()),
      "Cancel job",
    );
  };
  return (
    <section>
      <PageHead
        title={`View Job Log: ${j?.name ?? id}`}
        crumbs={<WorkspaceCrumbs ws={ws} section="Trainings" item={tr} />}
      >
        <button type="button" onClick={() => void act.run(() => downloadJobLog(id, j?.name ?? id))}>
          Download
        </button>
        <button
          type="button"
          title={JOB_OUTPUT_TITLE}
          onClick={() => void act.run(() => downloadJobOutput(id, j?.name ?? id))}
        >
          Download Output
        </button>
        {open ? (
          <button type="button" className="danger" onClick={() => void cancel()}>
            Cancel job
          </button>
        ) : null}
      </PageHead>
      <ErrorText>{job.error ?? act.error}</ErrorText>
      {j ? (
        <div className="info">
          <dl>
            <dt>Status</dt>
            <dd>
              <span role="status" aria-label="Job status">
                <Status value={status} />
              </span>
              {j.statusReason && status !== "succeeded" ? <span className="reason"> {j.statusReason}</span> : null}
              {j.exitCode !== null && j.exitCode !== undefined ? (
                <span className="muted"> exit code {j.exitCode}</span>
              ) : null}
            </dd>
            <dt>Node</dt>
            <dd>{j.node ?? "—"}</dd>
            <dt>GPUs</dt>
            <dd>
              {j.gpus}
              {j.gpuOptions.length
                ? ` with ${j.gpuOptions.map((o) => GPU_OPTION_LABELS[o as keyof typeof GPU_OPTION_LABELS] ?? o).join(", ")}`
                : ""}
            </dd>
            <dt>Parameters</dt>
            <dd>{parameterText(j.parameters)}</dd>
            <dt>Command</dt>
            <dd>
              <code>{j.command}</code>
            </dd>
            <dt>Times</dt>
            <dd>
              created {dateTime(j.createdAt)}, started {dateTime(j.startedAt)}, finished {dateTime(j.finishedAt)}
            </dd>
          </dl>
        </div>
      ) : null}
      <div className="section-head">
        <h2>Log</h2>
        <label className="inline">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow the end
        </label>
      </div>
      <ErrorText>{streamError}</ErrorText>
      <pre className="log" ref={pre} role="log" aria-label="Job log">
        {lines.length ? lines.join("\n") : open ? "Waiting for the job's output…" : "(no output)"}
      </pre>
      {act.confirmDialog}
    </section>
  );
}
