// A directory as a tar stream (POSIX ustar, with PAX headers for long names), read file by file
// as the client takes it: the archive is never built in memory. Symbolic links are stored as
// links, never followed (a job's /output is written by the job: a link may point anywhere on
// the master). Entries that cannot be read are left out.
import { type FileHandle, lstat, open, readdir, readlink } from "node:fs/promises";
import { join } from "node:path";

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

/** Every entry under `root`, directories before their contents, names sorted. */
async function* walk(root: string, prefix = ""): AsyncGenerator<Entry & { path: string }> {
  let names: string[];
  try {
    names = (await readdir(join(root, prefix))).sort();
  } catch {
    return;
  }
  for (const n of names) {
    const rel = prefix ? `${prefix}/${n}` : n;
    const path = join(root, rel);
    const st = await lstat(path).catch(() => null);
    if (!st) continue;
    const base = { path, mode: st.mode, mtime: st.mtimeMs / 1000 };
    if (st.isSymbolicLink()) {
      const linkname = await readlink(path).catch(() => null);
      if (linkname !== null) yield { ...base, name: rel, type: "symlink", size: 0, linkname };
    } else if (st.isDirectory()) {
      yield { ...base, name: `${rel}/`, type: "dir", size: 0 };
      yield* walk(root, rel);
    } else if (st.isFile()) {
      yield { ...base, name: rel, type: "file", size: st.size };
    }
  }
}

/**
 * The tar of everything under `root` (paths relative to it, under `top/` when given), as a
 * stream that reads each file only when the reader asks for more. A file that grows while
 * it is read is cut at the size its header gave; one that shrinks is padded with zeros.
 */
export function tarDirectory(root: string, top = ""): ReadableStream<Uint8Array> {
  const entries = walk(root);
  let file: { handle: FileHandle; left: number; size: number } | null = null;
  const base = top ? `${top.replace(/\/+$/, "")}/` : "";
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (file) {
          const want = Math.min(CHUNK, file.left);
          const buf = new Uint8Array(want);
          const { bytesRead } = await file.handle.read(buf, 0, want, file.size - file.left).catch(() => ({
            bytesRead: 0,
          }));
          // bytesRead 0 before the end: the file shrank; the rest is zeros.
          const n = bytesRead || want;
          controller.enqueue(buf.subarray(0, n));
          file.left -= n;
          if (file.left === 0) {
            await file.handle.close();
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
          const e = { ...next.value, name: base + next.value.name };
          let handle: FileHandle | null = null;
          if (e.type === "file") {
            handle = await open(e.path, "r").catch(() => null);
            if (!handle) continue; // unreadable: left out
          }
          for (const part of paxFor(e)) controller.enqueue(part);
          controller.enqueue(tarHeader({ ...e, name: e.name.slice(0, 100), linkname: e.linkname?.slice(0, 100) }));
          if (handle) {
            if (e.size > 0) file = { handle, left: e.size, size: e.size };
            else await handle.close();
          }
          return;
        }
      },
      async cancel() {
        await file?.handle.close();
        await entries.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
