import type { FileSink } from "bun";
import { dataLayout } from "../lib/layout";
import { ensurePrivateDir, ensurePrivateFile } from "../lib/private";

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
  /** The file of a day (YYYYMMDD). */
  file(day: string): string;
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

// toISOString per request is a measurable cost at API rates: the text up to the second is
// computed once per second and the milliseconds appended.
let isoSecond = Number.NaN;
let isoPrefix = "";

/** The same text as `d.toISOString()` (years 0000–9999). */
export function isoOf(d: Date): string {
  const ms = d.getTime();
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    const iso = d.toISOString();
    if (iso.length !== 24) return iso;
    isoSecond = second;
    isoPrefix = iso.slice(0, 20);
  }
  const frac = ms - second * 1000;
  return `${isoPrefix}${frac < 10 ? "00" : frac < 100 ? "0" : ""}${frac}Z`;
}

export function formatEntry(e: AccessEntry, iso = isoOf(e.time)): string {
  const ip = e.ip?.startsWith("::ffff:") ? e.ip.slice(7) : (e.ip ?? "-");
  return `${iso}\t${e.user === null ? "-" : clean(e.user)}\t${ip}\t${e.method}\t${clean(e.path)}\t${e.status}\t${e.ms.toFixed(1)}ms`;
}

export function createAccessLog(dataDir: string, flushMs = 250): AccessLog {
  const layout = dataLayout(dataDir);
  const dir = layout.accessLogs;
  ensurePrivateDir(dir);
  const sinks = new Map<string, FileSink>();
  // Lines not yet handed to a sink, per day. A FileSink written to on every request flushes
  // at the end of each event-loop tick, i.e. one write(2) per request; collecting the lines
  // here makes it one write per day's file per `flushMs` (or per 64 KiB).
  const pending = new Map<string, string[]>();
  let pendingBytes = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const sinkFor = (day: string): FileSink => {
    let sink = sinks.get(day);
    if (!sink) {
      ensurePrivateDir(dir);
      ensurePrivateFile(layout.accessLogFile(day));
      sink = Bun.file(layout.accessLogFile(day)).writer({ highWaterMark: 64 * 1024 });
      sinks.set(day, sink);
    }
    return sink;
  };

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    for (const [day, lines] of pending) sinkFor(day).write(lines.join(""));
    pending.clear();
    pendingBytes = 0;
    for (const sink of sinks.values()) sink.flush();
  };

  const release = (day: string) => {
    flush();
    const sink = sinks.get(day);
    if (!sink) return;
    sinks.delete(day);
    void sink.end();
  };

  return {
    dir,
    file: layout.accessLogFile,
    write(entry) {
      const iso = isoOf(entry.time);
      const day = dayOfIso(iso);
      const line = `${formatEntry(entry, iso)}\n`;
      const lines = pending.get(day);
      if (lines) lines.push(line);
      else pending.set(day, [line]);
      pendingBytes += line.length;
      if (pendingBytes >= 64 * 1024) flush();
      else if (!timer) timer = setTimeout(flush, flushMs);
    },
    flush,
    release,
    close() {
      flush();
      for (const day of [...sinks.keys()]) release(day);
    },
  };
}
