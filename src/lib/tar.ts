// A directory as a tar stream (POSIX ustar, with PAX headers for long names), read file by file
// as the client takes it: the archive is never built in memory. Symbolic links are stored as
// links, never followed (a job's /output is written by the job: a link may point anywhere on
// the master). The walk goes through descriptors (lib/confinedFs): a folder the job swaps for
// a link while it is read is not entered. Entries that cannot be read are left out.
import { closeSync, read } from "node:fs";
import { ConfinedDir } from "./confinedFs";

const BLOCK = 512;
const CHUNK = 64 * 1024;
const enc = new TextEncoder();

interface Entry {
  /** Path inside the archive, `/`-separated, a trailing `/` for directories. */
  name: string;
  type: "file" | "dir" | "symlink";
  mode: number;
  size: number;
  mtime: number;
  linkname?: string;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function put(block: Uint8Array, offset: number, width: number, text: string): void {
  block.set(enc.encode(text).subarray(0, width), offset);
}

/** One 512-byte ustar header. Names over 100 bytes must have gone in a PAX header first. */
export function tarHeader(
  e: Entry | { name: string; type: "pax"; size: number; mode: number; mtime: number },
): Uint8Array {
  const h = new Uint8Array(BLOCK);
  put(h, 0, 100, e.name);
  put(h, 100, 8, octal(e.mode & 0o7777, 8));
  put(h, 108, 8, octal(0, 8));
  put(h, 116, 8, octal(0, 8));
  put(h, 124, 12, octal(e.size, 12));
  put(h, 136, 12, octal(Math.max(0, Math.floor(e.mtime)), 12));
  put(h, 148, 8, "        "); // the checksum counts itself as spaces
  const flag = { file: "0", dir: "5", symlink: "2", pax: "x" }[e.type];
  put(h, 156, 1, flag);
  if ("linkname" in e && e.linkname) put(h, 157, 100, e.linkname);
  put(h, 257, 6, "ustar\0");
  put(h, 263, 2, "00");
  let sum = 0;
  for (const b of h) sum += b;
  put(h, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return h;
}

/** A PAX extended header (its header and padded body) carrying `path` and `linkpath` when too long. */
function paxFor(e: Entry): Uint8Array[] {
  const records: string[] = [];
  const record = (key: string, value: string) => {
    // "<length> key=value\n", the length counting its own digits.
    const body = ` ${key}=${value}\n`;
    const n = enc.encode(body).length;
    let len = n + String(n).length;
    while (n + String(len).length !== len) len = n + String(len).length;
    records.push(`${len}${body}`);
  };
  if (enc.encode(e.name).length > 100) record("path", e.name);
  if (e.linkname && enc.encode(e.linkname).length > 100) record("linkpath", e.linkname);
  if (!records.length) return [];
  const body = enc.encode(records.join(""));
  return [
    tarHeader({ name: "PaxHeader", type: "pax", size: body.length, mode: 0o644, mtime: e.mtime }),
    body,
    new Uint8Array(padding(body.length)),
  ];
}

const padding = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;

/** Every entry under `dir`, directories before their contents, names sorted. */
async function* walk(dir: ConfinedDir, prefix = ""): AsyncGenerator<Entry & { open?: () => number }> {
  let names: string[];
  try {
    names = dir
      .readdir()
      .map((e) => e.name)
      .sort();
  } catch {
    return;
  }
  for (const n of names) {
    const rel = prefix ? `${prefix}/${n}` : n;
    let st: ReturnType<ConfinedDir["lstat"]>;
    try {
      st = dir.lstat(n);
    } catch {
      continue;
    }
    const base = { mode: st.mode, mtime: st.mtimeMs / 1000 };
    if (st.isSymbolicLink()) {
      let linkname: string | null = null;
      try {
        linkname = dir.readlink(n);
      } catch {}
      if (linkname !== null) yield { ...base, name: rel, type: "symlink", size: 0, linkname };
    } else if (st.isDirectory()) {
      let sub: ConfinedDir;
      try {
        sub = dir.dir(n);
      } catch {
        continue; // swapped for a link (or gone) since it was listed
      }
      try {
        yield { ...base, name: `${rel}/`, type: "dir", size: 0 };
        yield* walk(sub, rel);
      } finally {
        sub.close();
      }
    } else if (st.isFile()) {
      yield { ...base, name: rel, type: "file", size: st.size, open: () => dir.openRead(n).fd };
    }
  }
}

const readAt = (fd: number, buf: Uint8Array, length: number, position: number) =>
  new Promise<number>((resolve) => read(fd, buf, 0, length, position, (err, n) => resolve(err ? 0 : n)));

async function* walkRoot(root: string): AsyncGenerator<Entry & { open?: () => number }> {
  let dir: ConfinedDir;
  try {
    dir = ConfinedDir.open(root);
  } catch {
    return;
  }
  try {
    yield* walk(dir);
  } finally {
    dir.close();
  }
}

/**
 * The tar of everything under `root` (paths relative to it, under `top/` when given), as a
 * stream that reads each file only when the reader asks for more. A file that grows while
 * it is read is cut at the size its header gave; one that shrinks is padded with zeros.
 */
export function tarDirectory(root: string, top = ""): ReadableStream<Uint8Array> {
  const entries = walkRoot(root);
  let file: { fd: number; left: number; size: number } | null = null;
  const base = top ? `${top.replace(/\/+$/, "")}/` : "";
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (file) {
          const want = Math.min(CHUNK, file.left);
          const buf = new Uint8Array(want);
          const bytesRead = await readAt(file.fd, buf, want, file.size - file.left);
          // bytesRead 0 before the end: the file shrank; the rest is zeros.
          const n = bytesRead || want;
          controller.enqueue(buf.subarray(0, n));
          file.left -= n;
          if (file.left === 0) {
            closeSync(file.fd);
            const pad = padding(file.size);
            if (pad) controller.enqueue(new Uint8Array(pad));
            file = null;
          }
          return;
        }
        for (;;) {
          const next = await entries.next();
          if (next.done) {
            controller.enqueue(new Uint8Array(BLOCK * 2)); // the end-of-archive marker
            controller.close();
            return;
          }
          const { open, ...e } = { ...next.value, name: base + next.value.name };
          let handle: number | null = null;
          if (open) {
            try {
              handle = open();
            } catch {
              continue; // unreadable, or no longer a file: left out
            }
          }
          for (const part of paxFor(e)) controller.enqueue(part);
          controller.enqueue(tarHeader({ ...e, name: e.name.slice(0, 100), linkname: e.linkname?.slice(0, 100) }));
          if (handle !== null) {
            if (e.size > 0) file = { fd: handle, left: e.size, size: e.size };
            else closeSync(handle);
          }
          return;
        }
      },
      async cancel() {
        if (file) closeSync(file.fd);
        file = null;
        await entries.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
