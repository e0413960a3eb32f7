// File work inside a folder that a job can change while the master works on it (a dataset, a
// training's code, a job's /output). A path checked by name and then opened again by name can
// be redirected in between: a job swaps a folder for a symlink to /etc and the second lookup
// follows it. So nothing here re-resolves a checked path. A root folder is opened once (its
// own path is the master's, from lib/layout), and every path under it is resolved by the kernel
// relative to that descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a symlink at
// any component fails the call (ELOOP), it is never followed. Operations on a last component
// (mkdir, unlink, rmdir, rename) open its parent that way and call the *at syscall on the name,
// which never follows a link at the last component.
//
// Why openat2 and not a confined helper process (chroot / mount namespace): one syscall per
// lookup in the master's process, no extra process to supervise, no privilege to set it up, and
// the rule "no symlink at any component" is enforced by the kernel itself. It needs Linux 5.6
// (2020) and glibc; without it the master refuses to start (see `confinedFsProblem`): there is no
// unsafe fallback.
import { dlopen, FFIType, ptr, read } from "bun:ffi";
import { closeSync, constants, fstatSync, read as readFd, type Stats } from "node:fs";

const O_PATH = 0o10000000;
const O_CLOEXEC = 0o2000000; // the same on x86_64 and aarch64
const RESOLVE_NO_SYMLINKS = 0x04n;
const RESOLVE_BENEATH = 0x08n;
const AT_FDCWD = -100;
const AT_REMOVEDIR = 0x200;
const SYS_OPENAT2 = 437n; // the same number on x86_64 and aarch64 (new syscalls are unified)
const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;

const ERRNO: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT",
  9: "EBADF",
  13: "EACCES",
  17: "EEXIST",
  18: "EXDEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  24: "EMFILE",
  28: "ENOSPC",
  30: "EROFS",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  95: "EOPNOTSUPP",
  122: "EDQUOT",
};

/** A failed syscall, shaped like Node's errors (`code` is "ENOENT", "ELOOP", …). */
export class ConfinedFsError extends Error {
  constructor(
    readonly code: string,
    readonly errno: number,
    op: string,
  ) {
    super(`${code}: ${op} failed`);
  }
}

type Libc = {
  syscall(n: bigint, a: number, b: number, c: number, d: bigint): bigint;
  mkdirat(fd: number, path: number, mode: number): number;
  unlinkat(fd: number, path: number, flags: number): number;
  renameat(ofd: number, opath: number, nfd: number, npath: number): number;
  getdents64(fd: number, buf: number, n: bigint): bigint;
  readlinkat(fd: number, path: number, buf: number, n: bigint): bigint;
  __errno_location(): number;
};

let libc: Libc | null = null;
let loadProblem: string | null = null;
try {
  const lib = dlopen("libc.so.6", {
    syscall: { args: [FFIType.i64, FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    mkdirat: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    unlinkat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    renameat: { args: [FFIType.i32, FFIType.ptr, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    getdents64: { args: [FFIType.i32, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    readlinkat: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.u64], returns: FFIType.i64 },
    __errno_location: { args: [], returns: FFIType.ptr },
  });
  libc = lib.symbols as unknown as Libc;
} catch (err) {
  loadProblem = `cannot load glibc (libc.so.6) through bun:ffi: ${(err as Error).message}`;
}

function fail(op: string): never {
  const errno = libc ? read.i32(libc.__errno_location(), 0) : 0;
  throw new ConfinedFsError(ERRNO[errno] ?? `errno ${errno}`, errno, op);
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`);
}

function lib(): Libc {
  if (!libc) throw new ConfinedFsError("ENOSYS", 38, loadProblem ?? "libc");
  return libc;
}

/** openat2(dirfd, rel, flags) resolving beneath `dirfd` and refusing symlinks at every component. */
function openat2(dirfd: number, rel: string, flags: number, mode = 0, confined = true): number {
  const how = new BigUint64Array([
    BigInt(flags | O_CLOEXEC),
    // openat2 refuses a mode unless the call may create the file.
    BigInt(flags & constants.O_CREAT ? mode : 0),
    confined ? RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS : 0n,
  ]);
  const path = cstr(rel);
  const fd = Number(lib().syscall(SYS_OPENAT2, dirfd, ptr(path), ptr(how), 24n));
  if (fd < 0) fail("openat2");
  return fd;
}

let probed: string | null | undefined;

/**
 * Why confined file work cannot run here (old kernel without openat2, no glibc), or null.
 * The master refuses to start when this is not null: serving member files by name is unsafe.
 */
export function confinedFsProblem(): string | null {
  if (probed === undefined) probed = probe();
  return probed;
}

function probe(): string | null {
  if (loadProblem) return loadProblem;
  try {
    const root = openat2(AT_FDCWD, "/", O_PATH | constants.O_DIRECTORY, 0, false);
    try {
      closeSync(openat2(root, ".", O_PATH | constants.O_DIRECTORY));
    } finally {
      closeSync(root);
    }
    return null;
  } catch (err) {
    const code = (err as ConfinedFsError).code;
    return code === "ENOSYS"
      ? "the kernel has no openat2 (Linux 5.6 or newer is needed to serve files safely)"
      : `openat2 failed: ${code}`;
  }
}

function split(rel: string): { parent: string; leaf: string } {
  const at = rel.lastIndexOf("/");
  return at < 0 ? { parent: ".", leaf: rel } : { parent: rel.slice(0, at), leaf: rel.slice(at + 1) };
}

function checkRel(rel: string): string {
  // Callers validate with domain/paths; this is the last line: no absolute path, no '..'.
  if (rel === "" || rel === ".") return ".";
  if (rel.startsWith("/") || rel.includes("\0") || rel.split("/").some((s) => s === ".." || s === ""))
    throw new ConfinedFsError("EINVAL", 22, "path");
  return rel;
}

export interface DirEntry {
  name: string;
  type: "file" | "dir" | "symlink" | "other";
}

/**
 * An open folder; every path given to its methods is relative to it and resolved without
 * following any symlink. Close it when done (it holds a descriptor).
 */
export class ConfinedDir {
  private closed = false;

  private constructor(readonly fd: number) {}

  /** Opens `path` (the master's own path, from lib/layout; symlinks in it are the admin's). */
  static open(path: string): ConfinedDir {
    return new ConfinedDir(openat2(AT_FDCWD, path, O_PATH | constants.O_DIRECTORY, 0, false));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** A folder under this one, as its own ConfinedDir. */
  dir(rel: string): ConfinedDir {
    return new ConfinedDir(openat2(this.fd, checkRel(rel), O_PATH | constants.O_DIRECTORY));
  }

  /**
   * A descriptor of the file at `rel` (`flags` as open(2): O_RDONLY, O_WRONLY|O_CREAT|O_EXCL, …).
   * Never follows a link; opens without blocking (a FIFO does not hang the master). The caller
   * closes it.
   */
  openFile(rel: string, flags: number, mode = 0o644): number {
    return openat2(
      this.fd,
      checkRel(rel),
      flags | constants.O_NOFOLLOW | constants.O_NOCTTY | constants.O_NONBLOCK,
      mode,
    );
  }

  /** A regular file opened for reading, with its stat; ENOENT/EISDIR-like errors for anything else. */
  openRead(rel: string): { fd: number; stat: Stats } {
    const fd = this.openFile(rel, constants.O_RDONLY);
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      closeSync(fd);
      throw new ConfinedFsError(stat.isDirectory() ? "EISDIR" : "EINVAL", stat.isDirectory() ? 21 : 22, "open");
    }
    return { fd, stat };
  }

  /** lstat: a symlink at the last component is described, not followed; one before it fails (ELOOP). */
  lstat(rel: string): Stats {
    const fd = openat2(this.fd, checkRel(rel), O_PATH | constants.O_NOFOLLOW);
    try {
      return fstatSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** The entries of the folder at `rel` (not `.` and `..`). */
  readdir(rel = "."): DirEntry[] {
    const fd = openat2(this.fd, checkRel(rel), constants.O_RDONLY | constants.O_DIRECTORY);
    const out: DirEntry[] = [];
    const buf = Buffer.alloc(64 * 1024);
    try {
      for (;;) {
        const n = Number(lib().getdents64(fd, ptr(buf), BigInt(buf.length)));
        if (n < 0) fail("getdents64");
        if (n === 0) break;
        // struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, char name[] (the same on every arch)
        for (let at = 0; at < n; ) {
          const reclen = buf.readUInt16LE(at + 16);
          const t = buf.readUInt8(at + 18);
          const end = buf.indexOf(0, at + 19);
          const name = buf.toString("utf8", at + 19, end < 0 || end > at + reclen ? at + reclen : end);
          at += reclen;
          if (name === "." || name === "..") continue;
          out.push({
            name,
            type: t === DT_REG ? "file" : t === DT_DIR ? "dir" : t === DT_LNK ? "symlink" : "other",
          });
        }
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /** The target text of the symlink at `rel` (read, never followed). */
  readlink(rel: string): string {
    const buf = Buffer.alloc(4096);
    const n = this.atParent(rel, (fd, leaf) => Number(lib().readlinkat(fd, ptr(leaf), ptr(buf), BigInt(buf.length))));
    if (n < 0) fail("readlinkat");
    return buf.toString("utf8", 0, n);
  }

  private parentOf(rel: string): { dir: ConfinedDir; leaf: string } {
    const { parent, leaf } = split(checkRel(rel));
    if (leaf === ".") throw new ConfinedFsError("EINVAL", 22, "path");
    return { dir: parent === "." ? this : this.dir(parent), leaf };
  }

  private atParent<T>(rel: string, fn: (fd: number, leaf: Buffer) => T): T {
    const { dir, leaf } = this.parentOf(rel);
    try {
      return fn(dir.fd, cstr(leaf));
    } finally {
      if (dir !== this) dir.close();
    }
  }

  mkdir(rel: string, mode = 0o755): void {
    this.atParent(rel, (fd, leaf) => {
      if (lib().mkdirat(fd, ptr(leaf), mode) < 0) fail("mkdirat");
    });
  }

  /** Makes every missing folder of `rel` (none of them may be a symlink) and opens the last. */
  mkdirp(rel: string, mode = 0o755): ConfinedDir {
    let current: ConfinedDir = this;
    for (const part of checkRel(rel) === "." ? [] : rel.split("/")) {
      let next: ConfinedDir;
      try {
        next = current.dir(part);
      } catch (err) {
        if ((err as ConfinedFsError).code !== "ENOENT") {
          if (current !== this) current.close();
          throw err;
        }
        try {
          current.mkdir(part, mode);
        } catch (e) {
          if ((e as ConfinedFsError).code !== "EEXIST") {
            if (current !== this) current.close();
            throw e;
          }
        }
        try {
          next = current.dir(part);
        } catch (e) {
          if (current !== this) current.close();
          throw e;
        }
      }
      if (current !== this) current.close();
      current = next;
    }
    return current === this ? this.dir(".") : current;
  }

  /** Removes a file or a symlink (the link itself, never its target). */
  unlink(rel: string): void {
    this.atParent(rel, (fd, leaf) => {
      if (lib().unlinkat(fd, ptr(leaf), 0) < 0) fail("unlinkat");
    });
  }

  rmdir(rel: string): void {
    this.atParent(rel, (fd, leaf) => {
      if (lib().unlinkat(fd, ptr(leaf), AT_REMOVEDIR) < 0) fail("unlinkat");
    });
  }

  /** Renames `from` (under this folder) to `to` under `target` (this folder by default). */
  rename(from: string, to: string, target: ConfinedDir = this): void {
    this.atParent(from, (ofd, oleaf) =>
      target.atParent(to, (nfd, nleaf) => {
        if (lib().renameat(ofd, ptr(oleaf), nfd, ptr(nleaf)) < 0) fail("renameat");
      }),
    );
  }

  /** Moves `source` (an absolute path the master owns, e.g. a staged upload) to `rel` here. */
  moveIn(source: string, rel: string): void {
    const src = cstr(source);
    this.atParent(rel, (fd, leaf) => {
      if (lib().renameat(AT_FDCWD, ptr(src), fd, ptr(leaf)) < 0) fail("renameat");
    });
  }

  /**
   * Removes everything under `rel` (and `rel` itself unless it is "."). Links are removed as
   * links; a folder swapped for a link while this runs is unlinked, never descended into.
   */
  removeTree(rel = "."): void {
    const clear = (dir: ConfinedDir) => {
      for (const e of dir.readdir()) {
        try {
          dir.unlink(e.name);
          continue;
        } catch (err) {
          const code = (err as ConfinedFsError).code;
          if (code === "ENOENT") continue;
          if (code !== "EISDIR" && code !== "EPERM") throw err;
        }
        let sub: ConfinedDir;
        try {
          sub = dir.dir(e.name);
        } catch (err) {
          const code = (err as ConfinedFsError).code;
          if (code === "ENOENT") continue;
          if (code === "ELOOP" || code === "ENOTDIR") {
            dir.unlink(e.name); // swapped for a link or a file since: remove that, not its target
            continue;
          }
          throw err;
        }
        try {
          clear(sub);
        } finally {
          sub.close();
        }
        try {
          dir.rmdir(e.name);
        } catch (err) {
          if ((err as ConfinedFsError).code !== "ENOENT") throw err;
        }
      }
    };
    const top = this.dir(checkRel(rel));
    try {
      clear(top);
    } finally {
      top.close();
    }
    if (checkRel(rel) !== ".") this.rmdir(rel);
  }
}

/** Runs `fn` with `root` open, closing it after (also when `fn` throws). */
export function withDir<T>(root: string, fn: (dir: ConfinedDir) => T): T {
  const dir = ConfinedDir.open(root);
  try {
    return fn(dir);
  } finally {
    dir.close();
  }
}

/**
 * A file descriptor as a web stream of exactly `size` bytes, read as the client takes it;
 * the descriptor is closed at the end or when the client goes away.
 */
export function fdStream(fd: number, size: number): ReadableStream<Uint8Array> {
  let pos = 0;
  let open = true;
  const done = () => {
    if (open) {
      open = false;
      closeSync(fd);
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const want = Math.min(256 * 1024, size - pos);
        if (want <= 0) {
          done();
          controller.close();
          return;
        }
        const buf = Buffer.allocUnsafe(want);
        let n: number;
        try {
          n = await new Promise<number>((res, rej) => readFd(fd, buf, 0, want, pos, (e, b) => (e ? rej(e) : res(b))));
        } catch (err) {
          done();
          controller.error(err);
          return;
        }
        if (n === 0) {
          // The file shrank under us: the announced length cannot be met.
          done();
          controller.error(new Error("the file changed while it was read"));
          return;
        }
        pos += n;
        controller.enqueue(buf.subarray(0, n));
      },
      cancel() {
        done();
      },
    },
    { highWaterMark: 1 },
  );
}
