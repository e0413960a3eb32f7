// Pure URL helpers of the router.

/** Matches "/workspaces/:ws/trainings" against a path; params are URL-decoded. Pure. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/").filter(Boolean);
  const s = path.split("/").filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const want = p[i] as string;
    const got = s[i] as string;
    if (want.startsWith(":")) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        return null;
      }
    } else if (want !== got) return null;
  }
  return params;
}

/** Builds a path from segments, encoding each: path("workspaces", ws) → "/workspaces/my-ws". */
export function path(...segments: string[]): string {
  return `/${segments.map(encodeURIComponent).join("/")}`;
}

/** A file's path in a URL: each folder and the name encoded, the slashes kept. */
export function encodeFilePath(p: string): string {
  return p.split("/").map(encodeURIComponent).join("/");
}

/** The last part of a file's path: "data/a.csv" → "a.csv". */
export function baseName(p: string): string {
  return p.split("/").pop() ?? p;
}
