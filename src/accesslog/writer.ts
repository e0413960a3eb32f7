// The access log: one line per request in <data>/log/YYYYMMDD.log (UTC day), tab-separated:
// time, user, IP, method, path, status, milliseconds. Each day's file is held open as a
// buffered sink, flushed every `flushMs` and on demand, so logging costs a request about a
// microsecond and no system call.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { FileSink } from "bun";

export interface AccessEntry {
  time: Date;
  user: string | null;
  ip: string | null;
  method: string;
  path: string;
  status: number;
  ms: number;
}

export interface AccessLog {
  readonly dir: string;
  write(entry: AccessEntry): void;
  flush(): void;
  /** Closes the day's file (before it is deleted). */
  release(day: string): void;
  close(): void;
}

export function dayOf(d: Date): string {
  return dayOfIso(d.toISOString());
}

const dayOfIso = (iso: string) => iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10);
const UNSAFE = /[\t\r\n]/;
const clean = (s: string) => (UNSAFE.test(s) ? s.replace(/[\t\r\n]/g, " ") : s);

export function formatEntry(e: AccessEntry, iso = e.time.toISOString()): string {
  const ip = e.ip?.startsWith("::ffff:") ? e.ip.slice(7) : (e.ip ?? "-");
  return `${iso}\t${e.user === null ? "-" : clean(e.user)}\t${ip}\t${e.method}\t${clean(e.path)}\t${e.status}\t${e.ms.toFixed(1)}ms`;
}

export function createAccessLog(dataDir: string, flushMs = 250): AccessLog {
  const dir = join(dataDir, "log");
  mkdirSync(dir, { recursive: true });
  const sinks = new Map<string, FileSink>();
  let timer: ReturnType<typeof setTimeout> | null = null;

  const sinkFor = (day: string): FileSink => {
    let sink = sinks.get(day);
    if (!sink) {
      mkdirSync(dir, { recursive: true });
      sink = Bun.file(join(dir, `${day}.log`)).writer({ highWaterMark: 64 * 1024 });
      sinks.set(day, sink);
    }
    return sink;
  };

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    for (const sink of sinks.values()) sink.flush();
  };

  const release = (day: string) => {
    const sink = sinks.get(day);
    if (!sink) return;
    sinks.delete(day);
    sink.flush();
    void sink.end();
  };

  return {
    dir,
    write(entry) {
      const iso = entry.time.toISOString();
      sinkFor(dayOfIso(iso)).write(`${formatEntry(entry, iso)}\n`);
      if (!timer) timer = setTimeout(flush, flushMs);
    },
    flush,
    release,
    close() {
      flush();
      for (const day of [...sinks.keys()]) release(day);
    },
  };
}
