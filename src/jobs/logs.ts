// Job logs: every line is appended to <data>/jobs/<id>/log as it arrives (kept after the
// container is gone) and handed to live followers (SSE).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { type DataLayout, dataLayout } from "../lib/layout";

type Listener = (event: { text: string } | { end: true }) => void;

export class LogHub {
  private listeners = new Map<string, Set<Listener>>();

  private readonly layout: DataLayout;

  constructor(dataDir: string) {
    this.layout = dataLayout(dataDir);
  }

  dir(jobId: string): string {
    return this.layout.jobLogDir(jobId);
  }

  file(jobId: string): string {
    return this.layout.jobLog(jobId);
  }

  append(jobId: string, text: string): void {
    if (!text) return;
    mkdirSync(this.dir(jobId), { recursive: true });
    appendFileSync(this.file(jobId), text);
    for (const l of this.listeners.get(jobId) ?? []) l({ text });
  }

  /** The Docker timestamp of the last stored line, so a restarted master resumes without gaps or repeats. */
  lastTimestamp(jobId: string): string | null {
    const f = this.layout.jobLogLast(jobId);
    return existsSync(f) ? readFileSync(f, "utf8").trim() || null : null;
  }

  setLastTimestamp(jobId: string, ts: string): void {
    mkdirSync(this.dir(jobId), { recursive: true });
    writeFileSync(this.layout.jobLogLast(jobId), ts);
  }

  read(jobId: string): string {
    return existsSync(this.file(jobId)) ? readFileSync(this.file(jobId), "utf8") : "";
  }

  end(jobId: string): void {
    for (const l of this.listeners.get(jobId) ?? []) l({ end: true });
    this.listeners.delete(jobId);
  }

  subscribe(jobId: string, listener: Listener): () => void {
    const set = this.listeners.get(jobId) ?? new Set<Listener>();
    this.listeners.set(jobId, set);
    set.add(listener);
    return () => set?.delete(listener);
  }
}
