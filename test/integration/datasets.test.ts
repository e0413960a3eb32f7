// Datasets over the API on SQLite and PostgreSQL: streaming multipart upload, the file-name
// rules, quota, permissions, and isolation between workspaces.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { makeWorkspace } from "../helpers/factories";
import { multipart, sha256File, sha256Hex } from "../helpers/multipart";
import { STORE_TARGETS } from "../helpers/stores";
import { forbiddenPaths } from "../helpers/tables";
import { seedAttachedNodes, startTestMaster, type TestMaster } from "../helpers/testMaster";

/** Every file and folder under the data dir except the access log, with sizes. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (full.includes("/log/") || e.name === "log" || e.name.startsWith("hangar.db")) continue;
      out.push(`${full}${e.isFile() ? `:${statSync(full).size}` : "/"}`);
      if (e.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return out.sort();
}

for (const target of STORE_TARGETS) {
  describe(`datasets on ${target}`, () => {
    let m: TestMaster;
    let alice: string;
    let carol: string;
    let dave: string;
    beforeAll(async () => {
      m = await startTestMaster(target, { workspaceQuotaMiB: 8 });
      m.clock.set(new Date("2026-06-01T00:00:00Z"));
      const root = await m.rootToken();
      await seedAttachedNodes(m, [4]);
      alice = await m.userWithToken("alice");
      carol = await m.userWithToken("carol");
      dave = await m.userWithToken("dave");
      for (const [name, users] of [
        ["team-a", ["alice", "dave"]],
        ["team-b", ["carol"]],
      ] as const) {
        await makeWorkspace(m, root, name, { users });
      }
      expect(
        (await m.json("POST", "/api/workspaces/team-a/datasets", { token: alice, body: { name: "mnist" } })).status,
      ).toBe(201);
      expect(
        (
          await m.json("POST", "/api/workspaces/team-b/datasets", {
            token: carol,
            body: { name: "secret", access: "read-only" },
          })
        ).status,
      ).toBe(201);
    });
    afterAll(() => m.close());

    const upload = (ws: string, ds: string, token: string, parts: ReturnType<typeof multipart>, query = "") =>
      m.request("POST", `/api/workspaces/${ws}/datasets/${ds}/files${query}`, {
        token,
        raw: parts.body,
        headers: { "content-type": parts.contentType },
      });

    test("250 files in one request, nested folders, arrive whole", async () => {
      const files = Array.from({ length: 250 }, (_, i) => ({
        name: `train/class-${i % 10}/img-${String(i).padStart(3, "0")}.bin`,
        data: crypto.getRandomValues(new Uint8Array(1000 + i * 7)),
      }));
      const res = await upload("team-a", "mnist", alice, multipart(files));
      expect(res.status).toBe(201);
      expect((await res.json()).total).toBe(250);
      const dir = join(m.config.dataDir, "workspaces/team-a/datasets/mnist");
      for (const f of files) expect(await sha256File(join(dir, f.name))).toBe(await sha256Hex(f.data));
      const list = await m.json("GET", "/api/workspaces/team-a/datasets/mnist/files?limit=500", { token: alice });
      expect(list.body.total).toBe(250);
      expect(list.body.items[0]).toMatchObject({
        path: "train/class-0/img-000.bin",
        type: "file",
        size: 1000,
        modifiedBy: "alice",
      });
      const dl = await m.request("GET", "/api/workspaces/team-a/datasets/mnist/files/train/class-3/img-013.bin", {
        token: alice,
      });
      expect(dl.status).toBe(200);
      expect(await sha256Hex(new Uint8Array(await dl.arrayBuffer()))).toBe(
        await sha256Hex(files[13]?.data as Uint8Array),
      );
      const detail = await m.json("GET", "/api/workspaces/team-a/datasets/mnist", { token: alice });
      expect(detail.body).toMatchObject({ files: 250, access: "read-write" });
      expect(detail.body.totalBytes).toBe(files.reduce((s, f) => s + f.data.length, 0));
    });

    test("a folder prefix from ?path= or a leading 'path' field", async () => {
      expect(
        (await upload("team-a", "mnist", alice, multipart([{ name: "a.csv", data: "x,y\n1,2\n" }]), "?path=raw/2026"))
          .status,
      ).toBe(201);
      expect(
        (await upload("team-a", "mnist", dave, multipart([{ name: "b.csv", data: "1" }], { path: "raw" }))).status,
      ).toBe(201);
      const list = await m.json("GET", "/api/workspaces/team-a/datasets/mnist/files?limit=500", { token: alice });
      const paths = list.body.items.map((f: { path: string }) => f.path);
      expect(paths).toContain("raw/2026/a.csv");
      expect(paths).toContain("raw/b.csv");
      expect(list.body.items.find((f: { path: string }) => f.path === "raw/b.csv").modifiedBy).toBe("dave");
    });

    test("every forbidden name is a 400 and the data dir is unchanged", async () => {
      const before = snapshot(m.config.dataDir);
      for (const [name, why] of forbiddenPaths) {
        const res = await upload(
          "team-a",
          "mnist",
          alice,
          multipart([
            { name: "ok-first.txt", data: "fine" },
            { name, data: "evil" },
          ]),
        );
        expect(`${why}: ${res.status}`).toBe(`${why}: 400`);
      }
      for (const prefix of ["../up", "a/../../up", "a b", "데이터"]) {
        const res = await upload(
          "team-a",
          "mnist",
          alice,
          multipart([{ name: "x.txt", data: "x" }]),
          `?path=${encodeURIComponent(prefix)}`,
        );
        expect(res.status).toBe(400);
      }
      expect(snapshot(m.config.dataDir)).toEqual(before);
    });

    test("a symlink planted in a dataset cannot be written through", async () => {
      const dir = join(m.config.dataDir, "workspaces/team-a/datasets/mnist");
      const outside = join(m.config.dataDir, "outside");
      mkdirSync(outside, { recursive: true });
      symlinkSync(outside, join(dir, "link"));
      const res = await upload("team-a", "mnist", alice, multipart([{ name: "link/pwn.txt", data: "x" }]));
      expect(res.status).toBe(400);
      expect(readdirSync(outside)).toEqual([]);
      expect(
        (await m.request("GET", "/api/workspaces/team-a/datasets/mnist/files/link/pwn.txt", { token: alice })).status,
      ).toBe(400);
    });

    test("past the workspace quota the upload is 413 and nothing is kept", async () => {
      const before = snapshot(m.config.dataDir);
      const big = new Uint8Array(9 * 1024 * 1024);
      const res = await upload(
        "team-a",
        "mnist",
        alice,
        multipart([
          { name: "small.bin", data: "1" },
          { name: "big.bin", data: big },
        ]),
      );
      expect(res.status).toBe(413);
      expect((await res.json()).error.code).toBe("too_large");
      expect(snapshot(m.config.dataDir)).toEqual(before);
    });

    test("read-only datasets: members read, only the creator writes", async () => {
      const root = await m.rootToken();
      await m.json("PATCH", "/api/workspaces/team-b", { token: root, body: { users: ["carol", "dave"] } });
      expect((await upload("team-b", "secret", carol, multipart([{ name: "k.txt", data: "k" }]))).status).toBe(201);
      expect((await m.json("GET", "/api/workspaces/team-b/datasets/secret/files", { token: dave })).body.total).toBe(1);
      const denied = await upload("team-b", "secret", dave, multipart([{ name: "d.txt", data: "d" }]));
      expect(denied.status).toBe(403);
      expect(
        (await m.request("DELETE", "/api/workspaces/team-b/datasets/secret/files/k.txt", { token: dave })).status,
      ).toBe(403);
      await m.json("PATCH", "/api/workspaces/team-b", { token: root, body: { users: ["carol"] } });
    });

    test("a user of workspace A gets 404 on every workspace-scoped route of workspace B", async () => {
      const doc = (await m.json("GET", "/api/openapi.json")).body;
      const routes: [string, string][] = [];
      for (const [path, ops] of Object.entries(doc.paths as Record<string, object>))
        if (path.startsWith("/api/workspaces/{ws}"))
          for (const method of Object.keys(ops)) routes.push([method.toUpperCase(), path]);
      expect(routes.length).toBeGreaterThanOrEqual(9);
      for (const [method, path] of routes) {
        const url = path
          .replace("{ws}", "team-b")
          .replace("{ds}", "secret")
          .replace("{*}", "k.txt")
          .replace(/\/\*$/, "/k.txt");
        const parts = multipart([{ name: "z.txt", data: "z" }]);
        const res =
          path.endsWith("/files") && method === "POST"
            ? await m.request(method, url, {
                token: alice,
                raw: parts.body,
                headers: { "content-type": parts.contentType },
              })
            : await m.request(method, url, {
                token: alice,
                body: method === "GET" || method === "DELETE" ? undefined : { name: "x" },
              });
        expect(`${method} ${url} ${res.status}`).toBe(`${method} ${url} 404`);
      }
      // The object itself is untouched.
      expect((await m.json("GET", "/api/workspaces/team-b/datasets/secret/files", { token: carol })).body.total).toBe(
        1,
      );
    });

    test("GET /api/datasets: an admin sees every workspace's datasets; others get 403", async () => {
      const root = await m.rootToken();
      const all = await m.json("GET", "/api/datasets?limit=500", { token: root });
      expect(all.status).toBe(200);
      const names = all.body.items.map((d: { workspace: string; name: string }) => `${d.workspace}/${d.name}`);
      expect(names).toContain("team-a/mnist");
      expect(names).toContain("team-b/secret");
      expect(all.body.total).toBe(all.body.items.length);
      const paged = await m.json("GET", "/api/datasets?limit=1&offset=1", { token: root });
      expect(paged.body.items).toHaveLength(1);
      expect(paged.body.items[0].name).toBe(all.body.items[1].name);
      expect((await m.json("GET", "/api/datasets", { token: alice })).status).toBe(403);
    });

    test("delete a file, then the dataset", async () => {
      expect(
        (await m.request("DELETE", "/api/workspaces/team-a/datasets/mnist/files/raw/b.csv", { token: alice })).status,
      ).toBe(204);
      expect(
        (await m.request("GET", "/api/workspaces/team-a/datasets/mnist/files/raw/b.csv", { token: alice })).status,
      ).toBe(404);
      expect((await m.request("DELETE", "/api/workspaces/team-a/datasets/mnist", { token: dave })).status).toBe(403);
      expect((await m.request("DELETE", "/api/workspaces/team-a/datasets/mnist", { token: alice })).status).toBe(204);
      expect((await m.json("GET", "/api/workspaces/team-a/datasets/mnist", { token: alice })).status).toBe(404);
      expect(readdirSync(join(m.config.dataDir, "workspaces/team-a/datasets"))).toEqual([]);
    });
  });
}
