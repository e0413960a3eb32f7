// The access log: one line per request in <data>/log/YYYYMMDD.log (UTC day), tab-separated:
// time, user, IP, method, path, status, milliseconds. Lines are buffered briefly and appended
// in batches so logging costs the request path almost nothing.
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
  return d.toISOString().slice(0, 10).replaceAll("-", "");
}

export function formatEntry(e: AccessEntry): string {
  const clean = (s: string) => s.replace(/[\t\r\n]/g, " ");
  return [
    e.time.toISOString(),
    clean(e.user ?? "-"),
    e.ip ?? "-",
    e.method,
    clean(e.path),
    String(e.status),
    `${e.ms.toFixed(1)}ms`,
  ].join("\t");
}

export function createAccessLog(dataDir: string, flushMs = 250): AccessLog {
  const dir = join(dataDir, "log");
  mkdirSync(dir, { recursive: true });
  const pending = new Map<string, string[]>();
  let buffered = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    for (const [day, lines] of pending) {
      mkdirSync(dir, { recursive: true });
      appendFileSync(join(dir, `${day}.log`), `${lines.join("\n")}\n`);
    }
    pending.clear();
    buffered = 0;
  };

  return {
    dir,
    write(entry) {
      const day = dayOf(entry.time);
      const lines = pending.get(day);
      if (lines) lines.push(formatEntry(entry));
      else pending.set(day, [formatEntry(entry)]);
      if (++buffered >= 512) flush();
      else if (!timer) timer = setTimeout(flush, flushMs);
    },
    flush,
    close: flush,
  };
}
