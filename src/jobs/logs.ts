// Job logs: every line is appended to <data>/jobs/<id>/log as it arrives (kept after the
// container is gone) and handed to live followers (SSE).
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

type Listener = (event: { text: string } | { end: true }) => void;

export class LogHub {
  private listeners = new Map<string, Set<Listener>>();

  constructor(private readonly dataDir: string) {}

  dir(jobId: string): string {
    return join(this.dataDir, "jobs", jobId);
  }

  file(jobId: string): string {
    return join(this.dir(jobId), "log");
  }

  append(jobId: string, text: string): void {
    if (!text) return;
    mkdirSync(this.dir(jobId), { recursive: true });
    appendFileSync(this.file(jobId), text);
    for (const l of this.listeners.get(jobId) ?? []) l({ text });
  }

  /** The Docker timestamp of the last stored line, so a restarted master resumes without gaps or repeats. */
  lastTimestamp(jobId: string): string | null {
    const f = join(this.dir(jobId), "log.last");
    return existsSync(f) ? readFileSync(f, "utf8").trim() || null : null;
  }

  setLastTimestamp(jobId: string, ts: string): void {
    mkdirSync(this.dir(jobId), { recursive: true });
    writeFileSync(join(this.dir(jobId), "log.last"), ts);
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
