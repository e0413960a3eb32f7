// An uploaded `docker save` tar loses its own tags before `docker load` sees it: `docker load`
// applies the tar's RepoTags (manifest.json, the legacy `repositories` file, OCI index.json
// annotations), so a member's tar could otherwise retag another tenant's image or the global
// default. One pass reads the tar's headers (seeking over the layers) and its small control
// files; the load then gets a stream of the tar without them, with a manifest.json whose
// RepoTags are empty appended; Hangar tags the loaded image ID itself.
import { open } from "node:fs/promises";
import { Readable } from "node:stream";

/** Top-level files of a save tar that carry image names. */
const CONTROL = ["manifest.json", "repositories", "index.json"] as const;
const BLOCK = 512;
const MAX_CONTROL_BYTES = 1024 * 1024;

/** A member: `start` is its first header (extended headers included), `end` past its padded data. */
interface Member {
  start: number;
  end: number;
  name: string;
  data: number;
  size: number;
}

const text = (b: Uint8Array, from: number, to: number) => {
  const s = b.subarray(from, to);
  const nul = s.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? s : s.subarray(0, nul));
};

function sizeOf(h: Uint8Array): number {
  if ((h[124] as number) & 0x80) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + (h[i] as number);
    return n;
  }
  const n = Number.parseInt(text(h, 124, 136).trim() || "0", 8);
  if (!Number.isFinite(n)) throw new Error("the tar has a header with a bad size");
  return n;
}

const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** The name as Docker's loader places it under its extraction directory. */
const normalized = (name: string) =>
  name
    .split("/")
    .filter((p) => p !== "" && p !== ".")
    .join("/");

function paxPath(records: string): string | null {
  let path: string | null = null;
  for (const line of records.split("\n")) {
    const m = /^\d+ ([^=]+)=(.*)$/s.exec(line);
    if (m?.[1] === "path") path = m[2] as string;
  }
  return path;
}

async function scan(tarPath: string): Promise<{ members: Member[]; length: number }> {
  const f = await open(tarPath, "r");
  try {
    const { size: total } = await f.stat();
    const members: Member[] = [];
    const header = new Uint8Array(BLOCK);
    let at = 0;
    let start = -1;
    let longName: string | null = null;
    const readData = async (from: number, n: number) => {
      if (n > MAX_CONTROL_BYTES) throw new Error("the tar has an oversized extended header");
      const buf = new Uint8Array(n);
      await f.read(buf, 0, n, from);
      return buf;
    };
    while (at + BLOCK <= total) {
      await f.read(header, 0, BLOCK, at);
      if (header.every((b) => b === 0)) return { members, length: at };
      if (text(header, 257, 262) !== "ustar" && start < 0 && at === 0)
        throw new Error("upload an uncompressed `docker save -o image.tar` file (a compressed tar is not taken)");
      const type = String.fromCharCode(header[156] as number);
      const size = sizeOf(header);
      const data = at + BLOCK;
      if (start < 0) start = at;
      if (type === "g") throw new Error("the tar has a global extended header (docker save writes none)");
      if (type === "x" || type === "L" || type === "K") {
        const body = text(await readData(data, size), 0, size);
        if (type === "x") longName = paxPath(body) ?? longName;
        if (type === "L") longName = body;
        at = data + padded(size);
        continue;
      }
      const prefix = text(header, 345, 500);
      const plain = text(header, 0, 100);
      const name = longName ?? (prefix ? `${prefix}/${plain}` : plain);
      at = data + padded(size);
      members.push({ start, end: at, name, data, size });
      start = -1;
      longName = null;
    }
    throw new Error("the tar ends without its end-of-archive blocks (a truncated upload?)");
  } finally {
    await f.close();
  }
}

function entry(name: string, content: string): Uint8Array {
  const data = new TextEncoder().encode(content);
  const h = new Uint8Array(BLOCK);
  const put = (s: string, at: number) => h.set(new TextEncoder().encode(s), at);
  put(name, 0);
  put("0000644\0", 100);
  put("0000000\0", 108);
  put("0000000\0", 116);
  put(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
  put(
    `${Math.floor(Date.now() / 1000)
      .toString(8)
      .padStart(11, "0")}\0`,
    136,
  );
  put("        ", 148);
  put("0", 156);
  put("ustar\0", 257);
  put("00", 263);
  const sum = h.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const out = new Uint8Array(BLOCK + padded(data.length));
  out.set(h, 0);
  out.set(data, BLOCK);
  return out;
}

/**
 * The tar at `tarPath` as a stream that loads with no tag: its manifest.json with empty
 * RepoTags, no `repositories` file, no image names in index.json. Refuses compressed tars,
 * tars of several images, and a second copy of a control file.
 */
export async function untaggedTar(tarPath: string): Promise<Readable> {
  const { members, length } = await scan(tarPath);
  const control = new Map<string, Member>();
  for (const m of members) {
    const n = normalized(m.name);
    if (!(CONTROL as readonly string[]).includes(n)) continue;
    if (control.has(n)) throw new Error(`the tar holds ${n} more than once`);
    if (m.size > MAX_CONTROL_BYTES) throw new Error(`the tar's ${n} is larger than 1 MiB`);
    control.set(n, m);
  }
  const read = async (m: Member) => {
    const f = await open(tarPath, "r");
    try {
      const buf = new Uint8Array(m.size);
      await f.read(buf, 0, m.size, m.data);
      return new TextDecoder().decode(buf);
    } finally {
      await f.close();
    }
  };
  const manifestMember = control.get("manifest.json");
  if (!manifestMember) throw new Error("the tar has no manifest.json (save it with docker save)");
  let manifest: unknown;
  try {
    manifest = JSON.parse(await read(manifestMember));
  } catch (err) {
    throw new Error(`manifest.json is not JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(manifest) || manifest.length !== 1 || typeof manifest[0] !== "object")
    throw new Error("the tar must hold exactly one image (docker save one image per tar)");
  const added = [entry("manifest.json", JSON.stringify([{ ...manifest[0], RepoTags: null }]))];
  const indexMember = control.get("index.json");
  if (indexMember) {
    // OCI index annotations name the image for containerd-backed engines: drop the names.
    const index = JSON.parse(await read(indexMember));
    for (const m of Array.isArray(index?.manifests) ? index.manifests : [])
      if (m?.annotations) {
        delete m.annotations["io.containerd.image.name"];
        delete m.annotations["org.opencontainers.image.ref.name"];
      }
    added.push(entry("index.json", JSON.stringify(index)));
  }
  const skipped = [...control.values()].sort((a, b) => a.start - b.start);
  async function* chunks() {
    const f = await open(tarPath, "r");
    try {
      const copy = async function* (from: number, to: number) {
        for (let at = from; at < to; ) {
          const n = Math.min(1024 * 1024, to - at);
          const buf = new Uint8Array(n);
          const { bytesRead } = await f.read(buf, 0, n, at);
          if (bytesRead <= 0) throw new Error("the tar changed while it was loaded");
          yield buf.subarray(0, bytesRead);
          at += bytesRead;
        }
      };
      let at = 0;
      for (const m of skipped) {
        yield* copy(at, m.start);
        at = m.end;
      }
      yield* copy(at, length);
      for (const e of added) yield e;
      yield new Uint8Array(2 * BLOCK);
    } finally {
      await f.close();
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
