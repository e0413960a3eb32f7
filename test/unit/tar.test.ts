// tarDirectory: the stream is a tar that GNU tar lists and extracts as the directory was, long
// names (PAX) included; links are stored, not followed; an empty directory is a valid archive.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tarDirectory, tarHeader } from "../../src/lib/tar";

const tmp = mkdtempSync(join(tmpdir(), "hangar-tar-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function archive(dir: string, top = ""): Promise<string> {
  const file = join(tmp, `out-${Math.random().toString(36).slice(2)}.tar`);
  writeFileSync(file, new Uint8Array(await new Response(tarDirectory(dir, top)).arrayBuffer()));
  return file;
}
const tar = (...args: string[]) => {
  const p = Bun.spawnSync(["tar", ...args]);
  if (p.exitCode !== 0) throw new Error(`tar ${args.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString();
};

describe("tarDirectory", () => {
  test("GNU tar lists and extracts every file, nested folders and a 150-character name", async () => {
    const src = join(tmp, "src");
    const long = `${"d".repeat(60)}/${"f".repeat(90)}.txt`;
    mkdirSync(join(src, "sub", "deeper"), { recursive: true });
    mkdirSync(join(src, "d".repeat(60)));
    writeFileSync(join(src, "model.json"), '{"w": 3}');
    writeFileSync(
      join(src, "sub", "deeper", "big.bin"),
      new Uint8Array(200_000).map((_, i) => i % 251),
    );
    writeFileSync(join(src, "sub", "empty.txt"), "");
    writeFileSync(join(src, long), "long name\n");
    symlinkSync("/etc/passwd", join(src, "link"));
    const file = await archive(src, "job-1");
    const names = tar("-tf", file).trim().split("\n").sort();
    expect(names).toEqual(
      [
        `job-1/${"d".repeat(60)}/`,
        `job-1/${long}`,
        "job-1/link",
        "job-1/model.json",
        "job-1/sub/",
        "job-1/sub/deeper/",
        "job-1/sub/deeper/big.bin",
        "job-1/sub/empty.txt",
      ].sort(),
    );
    const out = join(tmp, "x");
    mkdirSync(out);
    tar("-xf", file, "-C", out);
    expect(readFileSync(join(out, "job-1", "model.json"), "utf8")).toBe('{"w": 3}');
    expect(readFileSync(join(out, "job-1", long), "utf8")).toBe("long name\n");
    expect(readFileSync(join(out, "job-1", "sub", "deeper", "big.bin"))).toEqual(
      readFileSync(join(src, "sub", "deeper", "big.bin")),
    );
    // The link is a link in the archive: its target's content is not in it.
    expect(tar("-tvf", file)).toContain("job-1/link -> /etc/passwd");
  });

  test("an empty or missing directory is a valid empty archive", async () => {
    const empty = join(tmp, "empty");
    mkdirSync(empty);
    expect(tar("-tf", await archive(empty)).trim()).toBe("");
    expect(tar("-tf", await archive(join(tmp, "missing"))).trim()).toBe("");
  });

  test("a header's checksum is the sum of its bytes with the checksum as spaces", () => {
    const h = tarHeader({ name: "a.txt", type: "file", mode: 0o644, size: 5, mtime: 0 });
    const stored = Number.parseInt(new TextDecoder().decode(h.subarray(148, 154)), 8);
    const copy = h.slice();
    copy.fill(32, 148, 156);
    expect(stored).toBe(copy.reduce((a, b) => a + b, 0));
    expect(h.length).toBe(512);
  });
});
