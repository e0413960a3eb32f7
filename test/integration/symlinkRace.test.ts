// Symlink races: a hostile job swaps a folder of its dataset, code folder or /output for a
// symlink to a folder outside the data dir, as fast as it can (test/helpers/swapper.ts, its own
// process), while the API and the SSH gateway's SFTP are hammered with downloads, uploads,
// deletes, listings, output tars, SFTP reads, writes and directory reads of paths under that
// folder. Whatever each request answers, nothing outside may be read, written or deleted:
// zero escapes in thousands of tries.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, type SFTPWrapper } from "ssh2";
import { dataLayout } from "../../src/lib/layout";
import { pythonImage } from "../helpers/env";
import { makeTraining, makeWorkspace } from "../helpers/factories";
import { multipart } from "../helpers/multipart";
import { keyPair } from "../helpers/ssh";
import { startTestMaster, type TestMaster } from "../helpers/testMaster";
import { attachWorker, testWorkers } from "../helpers/workers";

const SECRET = "SECRET-OUTSIDE-7f3a";
const OUTSIDE_ONLY = "outside-only.txt";
const TRIES = Number(process.env.HANGAR_RACE_TRIES ?? 1000);
const PARALLEL = 8;

/** Runs `fn(i)` for i in 0..n-1, `PARALLEL` at a time. */
async function hammer(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** A folder outside the data dir: a secret, a name only it has, victims to delete, a file to overwrite. */
function makeOutside(base: string, name: string, victims: number): string {
  const dir = join(base, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "secret.txt"), SECRET);
  writeFileSync(join(dir, "target.txt"), `UNTOUCHED ${SECRET}`);
  writeFileSync(join(dir, OUTSIDE_ONLY), SECRET);
  for (let i = 0; i < victims; i++) writeFileSync(join(dir, `victim-${i}.txt`), SECRET);
  return dir;
}

/** In `root`: `sub/` (a real folder with harmless twins of the outside files) and `.swap` → outside. */
function plant(root: string, outside: string, victims: number): void {
  mkdirSync(join(root, "sub"), { recursive: true });
  writeFileSync(join(root, "sub", "secret.txt"), "inside");
  writeFileSync(join(root, "sub", "target.txt"), "inside");
  for (let i = 0; i < victims; i++) writeFileSync(join(root, "sub", `victim-${i}.txt`), "inside");
  symlinkSync(outside, join(root, ".swap"));
}

/** What escaped into or out of `outside`: files that were not there, files gone, a file changed. */
function damage(outside: string, victims: number): string[] {
  const expected = new Set(["secret.txt", "target.txt", OUTSIDE_ONLY]);
  for (let i = 0; i < victims; i++) expected.add(`victim-${i}.txt`);
  const found = readdirSync(outside);
  const out = [
    ...found.filter((n) => !expected.has(n)).map((n) => `created ${n}`),
    ...[...expected].filter((n) => !found.includes(n)).map((n) => `deleted ${n}`),
  ];
  if (readFileSync(join(outside, "target.txt"), "utf8") !== `UNTOUCHED ${SECRET}`) out.push("overwrote target.txt");
  if (readFileSync(join(outside, "secret.txt"), "utf8") !== SECRET) out.push("overwrote secret.txt");
  return out;
}

const sftpRead = (sftp: SFTPWrapper, path: string) =>
  new Promise<string | null>((resolve) => sftp.readFile(path, (err, data) => resolve(err ? null : data.toString())));
const sftpWrite = (sftp: SFTPWrapper, path: string, data: string) =>
  new Promise<boolean>((resolve) => sftp.writeFile(path, data, (err) => resolve(!err)));
const sftpReaddir = (sftp: SFTPWrapper, path: string) =>
  new Promise<string[]>((resolve) =>
    sftp.readdir(path, (err, list) => resolve(err ? [] : list.map((e) => e.filename))),
  );

describe("symlink races", () => {
  const base = mkdtempSync(join(tmpdir(), "hangar-race-"));
  const VICTIMS = Math.ceil(TRIES / 2);
  let m: TestMaster;
  let token: string;
  let jobId: string;
  let port = 0;
  let swapper: ReturnType<typeof Bun.spawn> | null = null;
  let conn: Client | null = null;
  let sftp: SFTPWrapper;
  const outside = { dataset: "", code: "", output: "" };
  const escapes: Record<string, number> = {};
  const tries: Record<string, number> = {};
  /** Tries that did their work on the real folder: the race did not just make everything fail. */
  const served: Record<string, number> = {};
  const count = (kind: string, escaped: boolean, ok = false) => {
    tries[kind] = (tries[kind] ?? 0) + 1;
    if (escaped) escapes[kind] = (escapes[kind] ?? 0) + 1;
    if (ok && !escaped) served[kind] = (served[kind] ?? 0) + 1;
  };

  beforeAll(async () => {
    m = await startTestMaster("sqlite", { schedulerBackstopSeconds: 0.2, sshHost: "127.0.0.1" }, { scheduler: true });
    const root = await m.rootToken();
    token = await m.userWithToken("mallory");
    const key = await keyPair(base, "mallory");
    expect((await m.json("PUT", "/api/me/ssh-key", { token, body: { publicKey: key.pub } })).status).toBe(200);
    const w = testWorkers()[0];
    if (!w) throw new Error("no worker");
    await attachWorker(m, root, w, "race-worker");
    await makeWorkspace(m, root, "lab", { users: ["mallory"] });
    await makeTraining(m, token, "lab", "tr");
    expect((await m.json("POST", "/api/workspaces/lab/datasets", { token, body: { name: "ds" } })).status).toBe(201);
    const res = await m.json("POST", "/api/workspaces/lab/trainings/tr/jobs", {
      token,
      body: { name: "evil", image: pythonImage(), command: "sleep 600" },
    });
    jobId = res.body.items[0].id;
    for (let i = 0; i < 300 && !port; i++) {
      const j = (await m.json("GET", `/api/jobs/${jobId}`, { token })).body;
      if (j.status === "running" && j.sshPort) port = j.sshPort;
      else await Bun.sleep(100);
    }
    if (!port) throw new Error("the job got no ssh port");

    const layout = dataLayout(m.config.dataDir);
    const roots = {
      dataset: layout.dataset("lab", "ds"),
      code: layout.code("lab", "tr"),
      output: layout.jobOutput("lab", "tr", jobId),
    };
    for (const [kind, dir] of Object.entries(roots) as [keyof typeof roots, string][]) {
      outside[kind] = makeOutside(base, `outside-${kind}`, VICTIMS);
      plant(dir, outside[kind], VICTIMS);
    }
    swapper = Bun.spawn(["bun", join(import.meta.dir, "../helpers/swapper.ts"), ...Object.values(roots)], {
      stdout: "ignore",
      stderr: "inherit",
    });
    // The swapper is really at work: `sub` is seen as a folder and as a link.
    const seen = new Set<string>();
    for (let i = 0; i < 2000 && seen.size < 2; i++) {
      const s = lstatSync(join(roots.code, "sub"), { throwIfNoEntry: false });
      if (s) seen.add(s.isSymbolicLink() ? "link" : "dir");
      if (i % 100 === 99) await Bun.sleep(5);
    }
    expect([...seen].sort()).toEqual(["dir", "link"]);

    conn = new Client();
    const c = conn;
    await new Promise<void>((resolve, reject) => {
      c.on("ready", () => resolve())
        .on("error", reject)
        .connect({ host: "127.0.0.1", port, username: "mallory", privateKey: readFileSync(key.key) });
    });
    sftp = await new Promise<SFTPWrapper>((resolve, reject) => c.sftp((err, s) => (err ? reject(err) : resolve(s))));
  }, 120_000);

  afterAll(async () => {
    swapper?.kill();
    await swapper?.exited;
    conn?.end();
    console.log(
      `symlink races: ${Object.entries(tries)
        .map(([k, n]) => `${k} ${escapes[k] ?? 0}/${n} (${served[k] ?? 0} served)`)
        .join(", ")} escaped`,
    );
    await m?.close();
    rmSync(base, { recursive: true, force: true });
  });

  const api = (path: string) => `/api/workspaces/lab/${path}`;

  test(`${TRIES} dataset and ${TRIES} code downloads never return a file from outside`, async () => {
    for (const [kind, prefix] of [
      ["dataset download", "datasets/ds/files"],
      ["code download", "trainings/tr/files"],
    ] as const)
      await hammer(TRIES, async () => {
        const res = await m.request("GET", api(`${prefix}/sub/secret.txt`), { token });
        const body = await res.text().catch(() => "");
        count(kind, body.includes(SECRET), body === "inside");
        expect([200, 400, 404]).toContain(res.status);
      });
    expect(escapes["dataset download"] ?? 0).toBe(0);
    expect(escapes["code download"] ?? 0).toBe(0);
    expect(served["dataset download"]).toBeGreaterThan(0);
    expect(served["code download"]).toBeGreaterThan(0);
  }, 120_000);

  test(`${TRIES} dataset and ${TRIES} code uploads never land outside`, async () => {
    for (const [kind, prefix, out] of [
      ["dataset upload", "datasets/ds/files", outside.dataset],
      ["code upload", "trainings/tr/files", outside.code],
    ] as const) {
      await hammer(TRIES, async (i) => {
        const { body, contentType } = multipart([{ name: `sub/up-${i}.txt`, data: "uploaded" }]);
        const res = await m.request("POST", api(prefix), {
          token,
          raw: body,
          headers: { "content-type": contentType },
        });
        await res.text();
        count(kind, readdirSync(out).includes(`up-${i}.txt`), res.status === 201);
        expect([201, 400, 409]).toContain(res.status);
      });
      expect(damage(out, VICTIMS)).toEqual([]);
      expect(served[kind]).toBeGreaterThan(0);
    }
  }, 180_000);

  test("deletes never remove a file outside", async () => {
    for (const [kind, prefix, out] of [
      ["dataset delete", "datasets/ds/files", outside.dataset],
      ["code delete", "trainings/tr/files", outside.code],
    ] as const) {
      await hammer(VICTIMS, async (i) => {
        const res = await m.request("DELETE", api(`${prefix}/sub/victim-${i}.txt`), { token });
        await res.text();
        count(kind, !readdirSync(out).includes(`victim-${i}.txt`), res.status === 204);
        expect([204, 400, 404]).toContain(res.status);
      });
      expect(damage(out, VICTIMS)).toEqual([]);
    }
  }, 120_000);

  test("listings and the output tar never show what is outside", async () => {
    await hammer(Math.ceil(TRIES / 4), async () => {
      const res = await m.json("GET", api("datasets/ds/files?limit=1000"), { token });
      count("dataset listing", JSON.stringify(res.body).includes(OUTSIDE_ONLY));
    });
    await hammer(Math.ceil(TRIES / 4), async () => {
      const res = await m.request("GET", `/api/jobs/${jobId}/output.tar`, { token });
      const tar = await res.text();
      count("output tar", tar.includes(SECRET) || tar.includes(OUTSIDE_ONLY));
      expect(res.status).toBe(200);
    });
    expect(escapes["dataset listing"] ?? 0).toBe(0);
    expect(escapes["output tar"] ?? 0).toBe(0);
  }, 120_000);

  test(`${TRIES} SFTP reads, writes and directory reads through the gateway never leave /code or /output`, async () => {
    await hammer(TRIES, async (i) => {
      const folder = i % 2 ? "/code" : "/output";
      const data = await sftpRead(sftp, `${folder}/sub/secret.txt`);
      count("sftp read", data?.includes(SECRET) === true, data === "inside");
    });
    await hammer(TRIES, async (i) => {
      const folder = i % 2 ? "code" : "output";
      const name = i % 4 < 2 ? `w-${i}.txt` : "target.txt";
      const ok = await sftpWrite(sftp, `/${folder}/sub/${name}`, "written");
      const out = outside[folder];
      count(
        "sftp write",
        readdirSync(out).includes(`w-${i}.txt`) || readFileSync(join(out, "target.txt"), "utf8") === "written",
        ok,
      );
    });
    await hammer(Math.ceil(TRIES / 4), async () => {
      const names = await sftpReaddir(sftp, "/code/sub");
      count("sftp readdir", names.includes(OUTSIDE_ONLY), names.includes("secret.txt"));
    });
    expect(damage(outside.code, VICTIMS)).toEqual([]);
    expect(damage(outside.output, VICTIMS)).toEqual([]);
    expect(escapes["sftp read"] ?? 0).toBe(0);
    expect(escapes["sftp readdir"] ?? 0).toBe(0);
    for (const kind of ["sftp read", "sftp write", "sftp readdir"]) expect(served[kind]).toBeGreaterThan(0);
  }, 180_000);

  test("at the end, nothing outside changed", () => {
    swapper?.kill();
    for (const kind of ["dataset", "code", "output"] as const) expect(damage(outside[kind], VICTIMS)).toEqual([]);
    expect(escapes).toEqual({});
  });
});
