// Checks the browser makes before sending, with the server's own rules (src/domain): the same
// functions, imported, so the two never disagree.
import { relativePathProblem } from "../../src/domain/paths";
import { isRole, nameProblem, passwordProblem, userIdProblem } from "../../src/domain/rules";

export { nameProblem, passwordProblem, relativePathProblem, userIdProblem };

export interface NewUser {
  userId: string;
  password: string;
  again: string;
  role: string;
}

/** Problems of an Add User form by field; empty fields that were not typed in yet are quiet. */
export function newUserProblems(u: NewUser, touched: Partial<Record<keyof NewUser, boolean>> = {}) {
  const out: Partial<Record<keyof NewUser, string>> = {};
  if (u.userId || touched.userId) {
    const p = userIdProblem(u.userId);
    if (p) out.userId = p;
  }
  if (u.password || touched.password) {
    const p = passwordProblem(u.password);
    if (p) out.password = p;
  }
  if ((u.again || touched.again) && u.again !== u.password) out.again = "the two passwords differ";
  if (!isRole(u.role)) out.role = "choose a user type";
  return out;
}

/** A file picked for upload, with the path it will have in the dataset (folders kept). */
export interface PickedFile {
  file: File;
  path: string;
}

/** The path of a picked or dropped file inside the dataset: its folder path when it has one. */
export function uploadPath(file: File, prefix = ""): string {
  const rel = (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;
  const p = prefix.replace(/^\/+|\/+$/g, "");
  return p ? `${p}/${rel}` : rel;
}

/** Splits picked files into those the server will accept and those it would refuse (with why). */
export function checkUploads(files: PickedFile[]): { ok: PickedFile[]; refused: { path: string; reason: string }[] } {
  const ok: PickedFile[] = [];
  const refused: { path: string; reason: string }[] = [];
  for (const f of files) {
    const reason = relativePathProblem(f.path);
    if (reason) refused.push({ path: f.path, reason });
    else ok.push(f);
  }
  return { ok, refused };
}

/**
 * Parameter sets typed as lines of `key=value` pairs separated by spaces (one set per row in the
 * form). Returns the set or a problem.
 */
export function parseParameters(text: string): { set: Record<string, string> } | { problem: string } {
  const set: Record<string, string> = {};
  for (const pair of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return { problem: `"${pair}" is not key=value` };
    const key = pair.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(key))
      return { problem: `"${key}": parameter names are letters, digits, _ or -` };
    set[key] = pair.slice(eq + 1);
  }
  return { set };
}

/** An interface as Get Info reports it (the fields the choice needs). */
export interface InterfaceFacts {
  name: string;
  kind: string;
}

/**
 * The manual's defaults from Get Info: the 1 GbE interface for control (else the first real
 * one), the fastest other Ethernet for data, InfiniBand when there is one.
 */
export function defaultChoice(interfaces: InterfaceFacts[]): { control?: string; data?: string; infiniband?: string } {
  const real = interfaces.filter((i) => i.kind !== "virtual" && i.name !== "lo");
  const byKind = (k: string) => real.find((i) => i.kind === k)?.name;
  const control = byKind("1GbE") ?? real[0]?.name;
  const data = byKind("100GbE") ?? byKind("40GbE") ?? byKind("25GbE") ?? byKind("10GbE");
  return { control, data: data !== control ? data : undefined, infiniband: byKind("InfiniBand") };
}
