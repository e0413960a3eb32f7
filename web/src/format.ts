// Pure formatting for the browser: dates in the viewer's local time, sizes, GPU counts, labels.

const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-03-04 09:05:07" in the browser's local time zone; "—" for nothing or garbage. */
export function dateTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "—";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "2026-03-04 09:05" local (periods, where seconds are noise). */
export function dateMinute(iso: string | null | undefined): string {
  return dateTime(iso).slice(0, 16);
}

/** The value of an `<input type="datetime-local">` for an ISO time, in local time. */
export function toLocalInput(iso: string): string {
  const s = dateTime(iso);
  return s === "—" ? "" : s.slice(0, 16).replace(" ", "T");
}

/** An `<input type="datetime-local">` value (local time) as ISO 8601 UTC; null when empty or bad. */
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** 0 B, 512 B, 1.5 KB, 12.3 MB, 1.07 GB (powers of 1024). */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n) || n < 0) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${v} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

/** "1/2 GPUs"; fractions stay as they are ("0.5/1 GPUs"). */
export function gpuUse(inUse: number, total: number): string {
  return `${Number(inUse.toFixed(2))}/${total} GPU${total === 1 ? "" : "s"}`;
}

/** "33%" of used/total, 0% when there is nothing to use. */
export function percent(used: number, total: number): string {
  return total > 0 ? `${Math.round((used / total) * 100)}%` : "0%";
}

/** "3 files", "1 file". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "admin" → "Admin", "manager" → "Workspace Manager", as the manual names the user types. */
export function roleLabel(role: string): string {
  return (
    { admin: "Admin", manager: "Workspace Manager", owner: "Training Owner", user: "User" }[role] ??
    role.charAt(0).toUpperCase() + role.slice(1)
  );
}

/** A status word as a label: "attached" → "Attached". */
export function statusLabel(status: string): string {
  return status ? status.charAt(0).toUpperCase() + status.slice(1).replaceAll("-", " ") : "—";
}

/** The one-line command that puts the master's key in a worker's authorized_keys. */
export function authorizeCommand(publicKey: string, sshUser = "root"): string {
  const key = publicKey.trim().replaceAll("'", "");
  const home = sshUser === "root" ? "/root" : `/home/${sshUser}`;
  return `mkdir -p ${home}/.ssh && echo '${key}' >> ${home}/.ssh/authorized_keys && chmod 600 ${home}/.ssh/authorized_keys`;
}

/** "ssh alice@10.0.0.1 -p 30022" (manual Step 5-D). */
export function sshCommand(user: string, host: string, port: number): string {
  return `ssh ${user}@${host} -p ${port}`;
}

/** "1–10 of 23", "0 of 0". */
export function pageRange(offset: number, count: number, total: number): string {
  return count === 0 ? `0 of ${total}` : `${offset + 1}–${offset + count} of ${total}`;
}

/** A job's parameters as its command line gets them, "lr=0.1 epochs=3"; none: a dash. */
export function parameterText(parameters: Record<string, string>): string {
  return (
    Object.entries(parameters)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ") || "—"
  );
}
