// Pure: the file-name rules of docs/product.md#datasets for paths inside a dataset (or a training's code folder).
// Paths are relative, '/'-separated; each segment is printable ASCII without space and without
// * ? : < > " | \ (and so without ₩ or any other non-ASCII letter).

const SEGMENT = /^[\x21-\x7e]+$/;
const FORBIDDEN = /[*?:<>"|\\]/;
const MAX_SEGMENT = 255;
const MAX_PATH = 1024;

export function relativePathProblem(path: string): string | null {
  if (path.length === 0) return "the path is empty";
  if (path.includes("\0")) return "the path contains a NUL character";
  if (path.length > MAX_PATH) return `the path is longer than ${MAX_PATH} characters`;
  if (path.startsWith("/")) return "absolute paths are not allowed";
  for (const segment of path.split("/")) {
    if (segment === "") return "the path has an empty segment (// or a trailing /)";
    if (segment === "." || segment === "..") return "'.' and '..' are not allowed in paths";
    if (segment.length > MAX_SEGMENT) return `a name is longer than ${MAX_SEGMENT} characters`;
    if (!SEGMENT.test(segment))
      return `'${printable(segment)}': names may hold only ASCII letters, digits and symbols, no spaces`;
    const bad = FORBIDDEN.exec(segment);
    if (bad) return `'${printable(segment)}': the character ${bad[0]} is not allowed in names`;
  }
  return null;
}

/** Joins an optional folder prefix and a file name into one relative path (not yet validated). */
export function joinRelative(prefix: string | undefined, name: string): string {
  const p = (prefix ?? "").replace(/^\/+|\/+$/g, "");
  return p ? `${p}/${name}` : name;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, "?").slice(0, 60);
}
