// Pure: how a node's storage mode is detected and kept . Jobs bind-mount
// their folders from the master's data dir path; on a worker that path must hold the same files.
//   shared: the master writes a probe file (a fresh token) in its data dir and the worker reads
//           the same token at the same path over SSH (NFS, CephFS, Lustre… mounted by the lab).
//   staged: the worker answers but the path has no such file: no shared filesystem (the master
//           will copy what jobs mount; until then such a node's jobs see empty folders).
//   none:   not detected (never connected, or the read failed for another reason).
// The mode is chosen at connect and checked again on every health round: a `shared` node whose
// share is gone fails the round with the reason (and turns `error` as any failing node does).

export const STORAGE_MODES = ["shared", "staged", "none"] as const;
export type StorageMode = (typeof STORAGE_MODES)[number];

/** The node's answer to the probe (exit code, output), or null when it could not be asked. */
export type ProbeRead = { code: number; output: string } | null;

const MISSING = "@@hangar:storage:missing@@";

/** Reads the probe file on the node; prints a marker when the path does not exist there. */
export function storageProbeScript(path: string): string {
  const quoted = `'${path.replaceAll("'", `'\\''`)}'`;
  return `if [ -e ${quoted} ]; then cat ${quoted}; else echo '${MISSING}'; fi`;
}

/** What the node's answer says about its storage. */
export function storageMode(token: string, read: ProbeRead): StorageMode {
  if (!read) return "none";
  const out = read.output.trim();
  if (read.code === 0 && out === token) return "shared";
  // No file there, or another filesystem's old probe: the path is not the master's.
  if (read.code === 0 && (out.includes(MISSING) || /^[0-9a-f]{32}$/.test(out))) return "staged";
  return "none";
}

export interface StorageCheck {
  /** The mode to store: chosen at connect, kept on health rounds (a lost share stays `shared`, failing). */
  storage: StorageMode;
  /** Why the round fails (the share is gone), or null. */
  problem: string | null;
}

/**
 * Connecting (or never detected): the detected mode is chosen. A health round keeps the chosen
 * mode; a `shared` node that no longer reads the probe fails with the reason; a share that
 * appears on a `staged` node is taken.
 */
export function checkStorage(input: {
  chosen: StorageMode;
  detected: StorageMode;
  connecting: boolean;
  dataDir: string;
}): StorageCheck {
  const { chosen, detected } = input;
  if (input.connecting || chosen === "none") return { storage: detected, problem: null };
  if (chosen === "shared" && detected !== "shared") {
    const why = detected === "staged" ? "the master's probe file is not there" : "the probe file could not be read";
    return {
      storage: "shared",
      problem: `shared storage lost: ${input.dataDir} on the node is not the master's data dir any more (${why})`,
    };
  }
  if (chosen === "staged" && detected === "shared") return { storage: "shared", problem: null };
  return { storage: chosen, problem: null };
}
