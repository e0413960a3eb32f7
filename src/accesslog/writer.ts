// The access log: one line per request in <data>/log/YYYYMMDD.log (UTC day), tab-separated:
// time, user, IP, method, path, status, milliseconds. Lines are buffered briefly and appended
// in batches, so logging costs the request path about a microsecond.
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

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
  const pending = new Map<string, string[]>();
  let buffered = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const append = (day: string, text: string) => {
    const file = join(dir, `${day}.log`);
    try {
      appendFileSync(file, text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      mkdirSync(dir, { recursive: true }); // someone removed the folder: make it again
      appendFileSync(file, text);
    }
  };

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    for (const [day, lines] of pending) append(day, `${lines.join("\n")}\n`);
    pending.clear();
    buffered = 0;
  };

  return {
    dir,
    write(entry) {
      const iso = entry.time.toISOString();
      const day = dayOfIso(iso);
      const line = formatEntry(entry, iso);
      const lines = pending.get(day);
      if (lines) lines.push(line);
      else pending.set(day, [line]);
      if (++buffered >= 512) flush();
      else if (!timer) timer = setTimeout(flush, flushMs);
    },
    flush,
    close: flush,
  };
}
