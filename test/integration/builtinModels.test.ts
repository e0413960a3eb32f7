// The built-in models end to end: each shipped train.py runs with `docker run` (no network) in
// the harness's python3 + numpy image on its small dataset from src/builtin/testdata, with the
// catalogue's parameters; the log shows epochs 1..5 with a falling loss and a final metric that
// beats a trivial baseline, and the model lands in /output. A dataset in the wrong layout stops
// with a clear message; the same seed gives the same log.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuiltinModel, builtinParameters, findBuiltinModel } from "../../src/builtin/catalogue";
import { pythonImage } from "../helpers/env";

const TESTDATA = join(import.meta.dir, "..", "..", "src", "builtin", "testdata");
const LONG = 60_000;

const image = pythonImage;

function model(id: string): BuiltinModel {
  const m = findBuiltinModel(id);
  if (!m) throw new Error(`no built-in model ${id}`);
  return m;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  out: string;
  seconds: number;
}

const scratch = mkdtempSync(join(tmpdir(), "hangar-builtin-"));
let runs = 0;

/** Runs the model's script as a built-in job would: catalogue parameters, read-only mounts. */
async function train(m: BuiltinModel, dataset: string, user: Record<string, string | number>): Promise<Run> {
  const params = builtinParameters(m, user);
  if (!params.ok) throw new Error(params.message);
  const out = join(scratch, `out-${++runs}`);
  mkdirSync(out);
  const args = Object.entries(params.params).flatMap(([k, v]) => [`--${k}`, v]);
  const started = performance.now();
  const proc = Bun.spawn(
    [
      "docker",
      "run",
      "--rm",
      "--network",
      "none",
      "--user",
      `${process.getuid?.() ?? 0}:${process.getgid?.() ?? 0}`,
      "-v",
      `${dataset}:/dataset:ro`,
      "-v",
      `${out}:/output`,
      "-v",
      `${m.dir}:/builtin:ro`,
      image(),
      ...m.command.split(" "),
      ...args,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr, out, seconds: (performance.now() - started) / 1000 };
}

function losses(log: string): [number, number][] {
  return [...log.matchAll(/^epoch (\d+) loss (\d+\.\d+)$/gm)].map(([, e, l]) => [Number(e), Number(l)]);
}

/** The value of the last line `NAME X`, which must be the log's last line. */
function finalMetric(log: string, name: string): number {
  const last = log.trimEnd().split("\n").at(-1) ?? "";
  const m = last.match(new RegExp(`^${name} (\\d+\\.\\d+)$`));
  if (!m?.[1]) throw new Error(`the log does not end with "${name} X":\n${log}`);
  return Number(m[1]);
}

function expectTrained(run: Run, epochs: number): void {
  if (run.code !== 0) throw new Error(`exit ${run.code}\n${run.stdout}\n${run.stderr}`);
  const seen = losses(run.stdout);
  expect(seen.map(([e]) => e)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
  const first = seen[0]?.[1] ?? 0;
  const last = seen.at(-1)?.[1] ?? Number.POSITIVE_INFINITY;
  expect(last).toBeLessThan(first);
  expect(existsSync(join(run.out, "model.npz"))).toBe(true);
  expect(JSON.parse(readFileSync(join(run.out, "metrics.json"), "utf8"))).toBeObject();
}

function column(csvPath: string, name: string): number[] {
  const [header = "", ...rows] = readFileSync(csvPath, "utf8").trim().split("\n");
  const j = header.split(",").indexOf(name);
  return rows.map((r) => Number(r.split(",")[j]));
}

function std(xs: number[]): number {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
}

describe("built-in models in the python image", () => {
  beforeAll(async () => {
    const inspect = Bun.spawn(["docker", "image", "inspect", image()], { stdout: "ignore", stderr: "ignore" });
    if ((await inspect.exited) !== 0) throw new Error(`${image()} is missing: run test/harness/python-image.sh`);
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  test(
    "image-classification learns the 8x8 glyphs (npy layout)",
    async () => {
      const run = await train(model("image-classification"), join(TESTDATA, "image-classification"), { epochs: 5 });
      expectTrained(run, 5);
      expect(run.stdout).toContain("150 images of 8x8, 3 classes");
      expect(finalMetric(run.stdout, "accuracy")).toBeGreaterThan(0.6); // chance: 1/3
    },
    LONG,
  );

  test(
    "image-classification reads one folder of PGM images per class",
    async () => {
      const run = await train(model("image-classification"), join(TESTDATA, "image-classification-pgm"), {
        epochs: 5,
      });
      expectTrained(run, 5);
      expect(run.stdout).toContain("60 images of 8x8, 3 classes");
      expect(finalMetric(run.stdout, "accuracy")).toBeGreaterThan(0.6);
    },
    LONG,
  );

  test(
    "tabular-regression beats predicting the mean, as MLP and as linear model",
    async () => {
      const data = join(TESTDATA, "tabular-regression");
      const spread = std(column(join(data, "data.csv"), "target"));
      const [mlp, linear] = await Promise.all([
        train(model("tabular-regression"), data, { epochs: 5 }),
        train(model("tabular-regression"), data, { epochs: 5, hidden: 0 }),
      ]);
      for (const run of [mlp, linear]) {
        expectTrained(run, 5);
        const baseline = Number(run.stdout.match(/^baseline rmse (\d+\.\d+)/m)?.[1]);
        const rmse = finalMetric(run.stdout, "rmse");
        expect(rmse).toBeLessThan(spread * 0.6);
        expect(rmse).toBeLessThan(baseline * 0.6);
      }
      expect(linear.stdout).toContain("linear model");
    },
    LONG,
  );

  test(
    "text-classification separates the two labels",
    async () => {
      const data = join(TESTDATA, "text-classification");
      const labels = readFileSync(join(data, "data.tsv"), "utf8").trim().split("\n").slice(1);
      const positive = labels.filter((l) => l.startsWith("positive\t")).length / labels.length;
      const run = await train(model("text-classification"), data, { epochs: 5 });
      expectTrained(run, 5);
      expect(run.stdout).toContain("2 labels (negative, positive)");
      expect(finalMetric(run.stdout, "accuracy")).toBeGreaterThan(Math.max(0.7, positive, 1 - positive));
    },
    LONG,
  );

  test(
    "the same seed gives the same log",
    async () => {
      for (const id of ["image-classification", "tabular-regression", "text-classification"]) {
        const m = model(id);
        const [a, b] = await Promise.all([
          train(m, join(TESTDATA, id), { epochs: 3, seed: 7 }),
          train(m, join(TESTDATA, id), { epochs: 3, seed: 7 }),
        ]);
        expect(a.code).toBe(0);
        expect(b.stdout).toBe(a.stdout);
      }
    },
    LONG,
  );

  test(
    "a dataset in the wrong layout stops the script with a clear message",
    async () => {
      const empty = join(scratch, "empty");
      const imagesOnly = join(scratch, "images-only");
      const noTarget = join(scratch, "no-target");
      const notNumber = join(scratch, "not-number");
      const noTab = join(scratch, "no-tab");
      for (const d of [empty, imagesOnly, noTarget, notNumber, noTab]) mkdirSync(d);
      writeFileSync(join(empty, "notes.txt"), "nothing to see\n");
      copyFileSync(join(TESTDATA, "image-classification", "images.npy"), join(imagesOnly, "images.npy"));
      writeFileSync(join(noTarget, "data.csv"), "a,b\n1,2\n3,4\n5,6\n");
      writeFileSync(join(notNumber, "data.csv"), "a,target\n1,2\nthree,4\n5,6\n");
      writeFileSync(join(noTab, "data.tsv"), "good\tfine text\nbad line without a tab\n");
      const cases: [string, string, string[]][] = [
        ["image-classification", empty, ["neither images.npy + labels.npy nor one folder", "notes.txt"]],
        ["image-classification", imagesOnly, ["labels.npy is missing"]],
        ["tabular-regression", empty, ["data.csv is missing", "notes.txt"]],
        ["tabular-regression", noTarget, ["no column 'target'", "columns: a, b", "--target"]],
        ["tabular-regression", notNumber, ["line 3, column 'a': 'three' is not a number"]],
        ["text-classification", empty, ["data.tsv is missing"]],
        ["text-classification", noTab, ["line 2 is not 'label<TAB>text'"]],
      ];
      const results = await Promise.all(cases.map(([id, dir]) => train(model(id), dir, { epochs: 2 })));
      results.forEach((run, i) => {
        const [id, , phrases] = cases[i] ?? ["", "", []];
        expect(run.code).toBe(1);
        expect(run.stdout).not.toMatch(/^epoch /m);
        expect(run.stderr).toStartWith("error: dataset layout: ");
        expect(run.stderr).toContain(`README.md of ${id}`);
        for (const p of phrases) expect(run.stderr).toContain(p);
      });
    },
    LONG,
  );

  test(
    "a parameter the script refuses stops it before training",
    async () => {
      const run = await train(model("text-classification"), join(TESTDATA, "text-classification"), { ngrams: 3 });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("--ngrams must be 1 or 2");
      expect(run.stdout).toBe("");
    },
    LONG,
  );
});
