// The gateway's SFTP subsystem: the job's folders as the container sees them (/code, /output,
// /dataset), served from the master's storage (the same files the container has mounted).
// Paths are checked like uploads: the file-name rules apply, and the file work goes through
// lib/confinedFs: every path is resolved by the kernel under the root's descriptor with no link
// followed at any component, so a job swapping a folder for a link cannot redirect a request.
import { closeSync, constants, fstatSync, readSync, type Stats, writeSync } from "node:fs";
import { posix } from "node:path";
import { type SFTPWrapper, utils } from "ssh2";
import { relativePathProblem } from "../domain/paths";
import { ConfinedDir } from "../lib/confinedFs";

const { OPEN_MODE, STATUS_CODE } = utils.sftp;

export interface SftpRoot {
  /** As the container sees it, e.g. /code. */
  prefix: string;
  dir: string;
  readOnly: boolean;
}

interface Resolved {
  root: SftpRoot | null;
  /** The path under the root ("" for the root itself). */
  rel: string;
  virtual: string;
}

class SftpDenied extends Error {}

function attrs(s: Stats) {
  return {
    mode: s.mode,
    uid: s.uid,
    gid: s.gid,
    size: s.size,
    atime: Math.floor(s.atimeMs / 1000),
    mtime: Math.floor(s.mtimeMs / 1000),
  };
}

const DIR_ATTRS = { mode: 0o40755, uid: 0, gid: 0, size: 4096, atime: 0, mtime: 0 };

export function serveSftp(sftp: SFTPWrapper, roots: SftpRoot[]): void {
  if (process.env.HANGAR_DEBUG_SFTP) {
    const emit = sftp.emit.bind(sftp);
    sftp.emit = ((name: string, ...args: unknown[]) => {
      console.error(
        "SFTP",
        name,
        JSON.stringify(args.slice(0, 3).map((a) => (Buffer.isBuffer(a) ? `buf${a.length}` : a))),
      );
      return emit(name, ...args);
    }) as typeof sftp.emit;
  }
  const handles = new Map<
    number,
    { fd?: number; dir?: { entries: { filename: string; longname: string; attrs: object }[]; sent: boolean } }
  >();
  let next = 1;
  const newHandle = (value: {
    fd?: number;
    dir?: { entries: { filename: string; longname: string; attrs: object }[]; sent: boolean };
  }) => {
    const id = next++;
    handles.set(id, value);
    const buf = Buffer.alloc(4);
    buf.writeUInt32BE(id);
    return buf;
  };
  const handleOf = (buf: Buffer) => (buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined);

  const resolve = (path: string, forWrite = false): Resolved => {
    const virtual = posix.normalize(path.startsWith("/") ? path : `/code/${path}`).replace(/\/+$/, "") || "/";
    if (virtual === "/") return { root: null, rel: "", virtual };
    const root = roots.find((r) => virtual === r.prefix || virtual.startsWith(`${r.prefix}/`));
    if (!root) throw new SftpDenied(`${virtual} is outside ${roots.map((r) => r.prefix).join(", ")}`);
    const rel = virtual.slice(root.prefix.length + 1);
    if (rel && relativePathProblem(rel)) throw new SftpDenied(`${virtual}: ${relativePathProblem(rel)}`);
    if (forWrite && root.readOnly) throw new SftpDenied(`${root.prefix} is read-only`);
    return { root, rel, virtual };
  };
  /** Runs `fn` with the root's folder open (closed after): all file work is relative to it. */
  const inRoot = <T>(r: Resolved, fn: (dir: ConfinedDir, rel: string) => T): T => {
    if (!r.root) throw new SftpDenied("not inside a folder");
    const dir = ConfinedDir.open(r.root.dir);
    try {
      return fn(dir, r.rel || ".");
    } finally {
      dir.close();
    }
  };

  const guard = (reqid: number, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const status =
        err instanceof SftpDenied || code === "EACCES" || code === "EPERM" || code === "ELOOP" || code === "EXDEV"
          ? STATUS_CODE.PERMISSION_DENIED
          : code === "ENOENT"
            ? STATUS_CODE.NO_SUCH_FILE
            : STATUS_CODE.FAILURE;
      // A link in the way is refused, never followed (confinedFs answers ELOOP).
      const message = code === "ELOOP" ? "a symbolic link is in the way" : (err as Error).message;
      sftp.status(reqid, status, message);
    }
  };

  sftp.on("REALPATH", (reqid, path) =>
    guard(reqid, () => {
      const virtual = path === "." || path === "" ? "/code" : resolve(path).virtual;
      sftp.name(reqid, [{ filename: virtual, longname: virtual, attrs: DIR_ATTRS }]);
    }),
  );
  // STAT and LSTAT alike: links are never followed, so a link is described as the link it is.
  const statHandler = (reqid: number, path: string) =>
    guard(reqid, () => {
      const r = resolve(path);
      if (!r.root) return sftp.attrs(reqid, DIR_ATTRS);
      sftp.attrs(reqid, attrs(inRoot(r, (dir, rel) => dir.lstat(rel))));
    });
  sftp.on("STAT", (reqid, path) => statHandler(reqid, path));
  sftp.on("LSTAT", (reqid, path) => statHandler(reqid, path));
  sftp.on("OPEN", (reqid, filename, flags) =>
    guard(reqid, () => {
      const writing = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND | OPEN_MODE.CREAT | OPEN_MODE.TRUNC)) !== 0;
      const r = resolve(filename, writing);
      if (!r.rel) throw new SftpDenied("cannot open a folder as a file");
      sftp.handle(reqid, newHandle({ fd: inRoot(r, (dir, rel) => dir.openFile(rel, openFlags(flags), 0o644)) }));
    }),
  );
  sftp.on("READ", (reqid, handle, offset, length) =>
    guard(reqid, () => {
      const h = handleOf(handle);
      if (h?.fd === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE, "bad handle");
      const buf = Buffer.alloc(Math.min(length, 256 * 1024));
      const n = readSync(h.fd, buf, 0, buf.length, offset);
      if (n === 0) return sftp.status(reqid, STATUS_CODE.EOF);
      sftp.data(reqid, buf.subarray(0, n));
    }),
  );
  sftp.on("WRITE", (reqid, handle, offset, data) =>
    guard(reqid, () => {
      const h = handleOf(handle);
      if (h?.fd === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE, "bad handle");
      writeSync(h.fd, data, 0, data.length, offset);
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on("FSTAT", (reqid, handle) =>
    guard(reqid, () => {
      const h = handleOf(handle);
      if (h?.fd === undefined) return sftp.attrs(reqid, DIR_ATTRS);
      sftp.attrs(reqid, attrs(fstatSync(h.fd)));
    }),
  );
  sftp.on("CLOSE", (reqid, handle) =>
    guard(reqid, () => {
      const h = handleOf(handle);
      if (h?.fd !== undefined) closeSync(h.fd);
      if (handle.length === 4) handles.delete(handle.readUInt32BE(0));
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on("OPENDIR", (reqid, path) =>
    guard(reqid, () => {
      const r = resolve(path);
      const entries = r.root
        ? inRoot(r, (root, rel) => {
            const dir = root.dir(rel);
            try {
              return dir.readdir().flatMap(({ name }) => {
                let s: Stats;
                try {
                  s = dir.lstat(name);
                } catch {
                  return []; // gone since it was listed
                }
                return [{ filename: name, longname: longname(name, s), attrs: attrs(s) }];
              });
            } finally {
              dir.close();
            }
          })
        : roots.map((root) => ({
            filename: root.prefix.slice(1),
            longname: `drwxr-xr-x 1 root root 4096 ${root.prefix.slice(1)}`,
            attrs: DIR_ATTRS,
          }));
      sftp.handle(reqid, newHandle({ dir: { entries, sent: false } }));
    }),
  );
  sftp.on("READDIR", (reqid, handle) =>
    guard(reqid, () => {
      const h = handleOf(handle);
      if (!h?.dir || h.dir.sent) return sftp.status(reqid, STATUS_CODE.EOF);
      h.dir.sent = true;
      sftp.name(reqid, h.dir.entries as never);
    }),
  );
  sftp.on("MKDIR", (reqid, path) =>
    guard(reqid, () => {
      const r = resolve(path, true);
      if (!r.rel) throw new SftpDenied("cannot create the root");
      inRoot(r, (dir, rel) => dir.mkdir(rel, 0o777));
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on("RMDIR", (reqid, path) =>
    guard(reqid, () => {
      const r = resolve(path, true);
      if (!r.rel) throw new SftpDenied("cannot remove a root folder");
      inRoot(r, (dir, rel) => dir.rmdir(rel));
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on("REMOVE", (reqid, path) =>
    guard(reqid, () => {
      const r = resolve(path, true);
      if (!r.rel) throw new SftpDenied("cannot remove that");
      inRoot(r, (dir, rel) => dir.unlink(rel));
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  sftp.on("RENAME", (reqid, from, to) =>
    guard(reqid, () => {
      const a = resolve(from, true);
      const b = resolve(to, true);
      if (!a.rel || !b.rel) throw new SftpDenied("cannot rename a root");
      inRoot(a, (from, relA) => inRoot(b, (to, relB) => from.rename(relA, relB, to)));
      sftp.status(reqid, STATUS_CODE.OK);
    }),
  );
  // The client closing its side ends the session: close ours and every handle it left open.
  sftp.on("end", () => {
    for (const h of handles.values()) if (h.fd !== undefined) closeSync(h.fd);
    handles.clear();
    // OpenSSH's scp (SFTP mode) fails unless the session reports exit status 0; ssh2's SFTP
    // object has no API for it, so send it on the channel through its protocol.
    const raw = sftp as unknown as {
      _protocol?: { exitStatus(id: number, s: number): void; channelEOF(id: number): void };
      outgoing?: { id: number };
    };
    if (raw._protocol && raw.outgoing) {
      raw._protocol.exitStatus(raw.outgoing.id, 0);
      raw._protocol.channelEOF(raw.outgoing.id);
    }
    sftp.end();
  });
  const ok = (reqid: number) => sftp.status(reqid, STATUS_CODE.OK);
  sftp.on("SETSTAT", ok);
  sftp.on("FSETSTAT", ok);
}

/** SFTP open flags → open(2) flags (any combination, unlike a mode string). */
function openFlags(flags: number): number {
  const read = (flags & OPEN_MODE.READ) !== 0;
  const write = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND)) !== 0;
  let out = read && write ? constants.O_RDWR : write ? constants.O_WRONLY : constants.O_RDONLY;
  if (flags & OPEN_MODE.APPEND) out |= constants.O_APPEND;
  if (flags & OPEN_MODE.CREAT) out |= constants.O_CREAT;
  if (flags & OPEN_MODE.TRUNC) out |= constants.O_TRUNC;
  if (flags & OPEN_MODE.EXCL) out |= constants.O_EXCL;
  return out;
}

function longname(name: string, s: Stats): string {
  const type = s.isDirectory() ? "d" : "-";
  return `${type}rw-r--r-- 1 root root ${s.size} ${s.mtime.toISOString().slice(0, 10)} ${name}`;
}
