// The one command the master runs on a node to learn its facts ("Get Info" and each health
// probe). POSIX sh, for Debian/Ubuntu workers, root or not. Every part is guarded so one failure
// never stops the rest. Sections start with `@@hangar:<name>@@` and end with
// `@@hangar:<name>:exit=<code>@@`, so facts.ts can tell "nothing found" from "the command failed".
// Time limits keep a hung Docker daemon or GPU from stalling the probe: 5 s per Docker call
// (`docker info` only when `docker version` answered), 10 s for nvidia-smi, 2 s more each to KILL.
// The script itself is probe.sh next to this file (shellcheck can read it there).
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const PROBE_SCRIPT = readFileSync(join(import.meta.dir, "probe.sh"), "utf8");

/**
 * A script as one `sh -c '…'` command. An SSH exec hands its command to the user's login shell,
 * which may be zsh (it aborts on an unmatched glob such as /sys/class/infiniband/*) or fish.
 */
export function shCommand(script: string): string {
  return `sh -c '${script.replaceAll("'", `'\\''`)}'`;
}
