// Unauthenticated memory exhaustion (issue 10, item 4): a large body sent without logging in is
// refused before it is read, so the master's resident memory barely moves.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MasterProcess, spawnMaster } from "../helpers/processes";

const BODY_MB = 300;
/** How far the master's peak resident memory may rise while a 300 MB body is thrown at it. */
const BOUND_MB = 50;

/** VmRSS / VmHWM (peak) of a process in MB. */
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/** A 300 MB body produced 1 MB at a time (the test process never holds it whole). */
function bigBody(): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024).fill(97);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent++ >= BODY_MB) controller.close();
      else controller.enqueue(chunk);
    },
  });
}

/** Sends the body with a declared length (as curl and browsers do); the status, or "reset". */
async function post(url: string, contentType: string, declared: boolean): Promise<number | "reset"> {
  const headers: Record<string, string> = contentType ? { "content-type": contentType } : {};
  if (declared) headers["content-length"] = String(BODY_MB * 1024 * 1024);
  try {
    const res = await fetch(url, { method: "POST", headers, body: bigBody(), duplex: "half" } as RequestInit);
    await res.text();
    return res.status;
  } catch {
    return "reset";
  }
}

describe("request bodies before authentication", () => {
  const dir = mkdtempSync(join(tmpdir(), "hangar-body-"));
  let master: MasterProcess;
  beforeAll(async () => {
    master = await spawnMaster({ HANGAR_DATA_DIR: join(dir, "data"), HANGAR_ROOT_PASSWORD: "bodyRoot1!" });
  });
  afterAll(async () => {
    await master?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: [string, string, string, number[]][] = [
    ["an API route, text/plain", "/api/workspaces", "text/plain", [415]],
    ["an API route, JSON", "/api/workspaces", "application/json", [413]],
    ["an API route, no type", "/api/auth/login", "", [415]],
    ["an unknown route", "/api/nope", "application/octet-stream", [415]],
    ["the web UI", "/", "application/x-www-form-urlencoded", [415]],
    ["a dataset upload", "/api/workspaces/w/datasets/d/files", "multipart/form-data; boundary=x", [401]],
    ["a code upload", "/api/workspaces/w/trainings/t/files", "text/plain", [401]],
    ["an image upload", "/api/images/i/upload", "multipart/form-data; boundary=x", [401]],
  ];
  for (const [what, path, type, statuses] of cases) {
    for (const declared of [true, false]) {
      test(`${what} (${declared ? "declared length" : "chunked"}): ${statuses.join("/")}, RSS +<${BOUND_MB} MB`, async () => {
        const pid = master.proc.pid;
        writeFileSync(`/proc/${pid}/clear_refs`, "5"); // resets VmHWM, the peak
        const before = memory(pid);
        const status = await post(`${master.url}${path}`, type, declared);
        const after = memory(pid);
        const rise = Math.max(after.peak, after.rss) - before.rss;
        console.log(
          `${what} ${declared ? "declared" : "chunked"}: ${status}, RSS ${before.rss.toFixed(0)} → peak ${after.peak.toFixed(0)} MB`,
        );
        expect(statuses).toContain(status as number);
        expect(rise).toBeLessThan(BOUND_MB);
        // The master still answers.
        expect((await fetch(`${master.url}/api/health`)).status).toBe(200);
      }, 60_000);
    }
  }
});
