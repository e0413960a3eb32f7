import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  BUILTIN_MODELS,
  type BuiltinModel,
  builtinParameters,
  DEFAULT_BUILTIN_IMAGE,
  findBuiltinModel,
} from "../../src/builtin/catalogue";

const TESTDATA = join(import.meta.dir, "..", "..", "src", "builtin", "testdata");

function mustFind(id: string): BuiltinModel {
  const m = findBuiltinModel(id);
  if (!m) throw new Error(`no built-in model ${id}`);
  return m;
}

/** The `default=` of each `add_argument("--key", …)` in a train.py, quotes stripped. */
function scriptDefaults(source: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of source.matchAll(/add_argument\("--([a-z-]+)",[^\n]*?default=("[^"]*"|[^,)]+)/g)) {
    const [, key, value] = m;
    if (key && value) out[key] = value.replace(/^"|"$/g, "");
  }
  return out;
}

describe("built-in model catalogue", () => {
  test("ships the three models with unique ids", () => {
    expect(BUILTIN_MODELS.map((m) => m.id).sort()).toEqual([
      "image-classification",
      "tabular-regression",
      "text-classification",
    ]);
  });

  test.each(BUILTIN_MODELS.map((m) => [m.id, m] as const))("%s is complete", (id, m) => {
    expect(m.name.length).toBeGreaterThan(0);
    expect(m.task.length).toBeGreaterThan(0);
    expect(m.description.length).toBeGreaterThan(0);
    expect(m.datasetLayout.length).toBeGreaterThan(0);
    expect(m.image).toBe(DEFAULT_BUILTIN_IMAGE);
    expect(m.command).toBe("python3 /builtin/train.py");
    expect(basename(m.dir)).toBe(id);
    expect(m.script).toBe(join(m.dir, "train.py"));
    expect(dirname(m.script)).toBe(m.dir);
    expect(existsSync(m.script)).toBe(true);
    expect(existsSync(join(m.dir, "README.md"))).toBe(true);
    expect(existsSync(join(TESTDATA, id))).toBe(true);
  });

  test.each(BUILTIN_MODELS.map((m) => [m.id, m] as const))("%s: defaults match train.py and README", (_id, m) => {
    const script = scriptDefaults(readFileSync(m.script, "utf8"));
    const { dataset, output, ...params } = script;
    expect(dataset).toBe("/dataset");
    expect(output).toBe("/output");
    expect(params).toEqual({ ...m.defaults });
    const readme = readFileSync(join(m.dir, "README.md"), "utf8");
    const rows = [...readme.matchAll(/^\| `([a-z-]+)` +\| `([^`]*)` +\|/gm)].map(([, k, v]) => [k, v]);
    expect(Object.fromEntries(rows)).toEqual({ ...m.defaults });
  });

  test("defaults pass their own validation", () => {
    for (const m of BUILTIN_MODELS) expect(builtinParameters(m, m.defaults)).toEqual({ ok: true, params: m.defaults });
  });

  test("findBuiltinModel", () => {
    expect(findBuiltinModel("text-classification")?.task).toBe("text classification");
    expect(findBuiltinModel("nope")).toBeUndefined();
  });
});

type Case = [string, string, Record<string, string | number>, Record<string, string> | { key: string; has: string }];

const cases: Case[] = [
  ["no overrides", "image-classification", {}, {}],
  ["string override", "image-classification", { epochs: "5" }, { epochs: "5" }],
  ["number override", "image-classification", { epochs: 5, lr: 0.01 }, { epochs: "5", lr: "0.01" }],
  ["exponent float", "text-classification", { "weight-decay": "1e-5" }, { "weight-decay": "1e-5" }],
  ["integer for a float", "text-classification", { lr: "1" }, { lr: "1" }],
  ["string param", "tabular-regression", { target: "price" }, { target: "price" }],
  ["column with a space", "tabular-regression", { target: "sale price" }, { target: "sale price" }],
  ["zero hidden", "tabular-regression", { hidden: 0 }, { hidden: "0" }],
  ["unknown key", "image-classification", { dropout: "0.5" }, { key: "dropout", has: "unknown parameter dropout" }],
  [
    "snake case hint",
    "image-classification",
    { batch_size: 8 },
    { key: "batch_size", has: "did you mean batch-size?" },
  ],
  ["lists the known keys", "text-classification", { foo: "1" }, { key: "foo", has: "ngrams, min-count" }],
  ["non-integer epochs", "image-classification", { epochs: "5.5" }, { key: "epochs", has: "whole number" }],
  ["word for a number", "image-classification", { lr: "fast" }, { key: "lr", has: "must be a number" }],
  ["NaN", "image-classification", { lr: Number.NaN }, { key: "lr", has: "finite" }],
  ["empty value", "tabular-regression", { target: "" }, { key: "target", has: "empty" }],
  ["leading hyphen", "tabular-regression", { target: "-y" }, { key: "target", has: "hyphen" }],
  ["control character", "tabular-regression", { target: "a\nb" }, { key: "target", has: "control" }],
  ["first bad key reported", "image-classification", { epochs: "2", nope: "1" }, { key: "nope", has: "nope" }],
];

describe("builtinParameters", () => {
  test.each(cases)("%s", (_what, id, user, want) => {
    const m = mustFind(id);
    const got = builtinParameters(m, user);
    if ("has" in want) {
      expect(got.ok).toBe(false);
      if (got.ok) return;
      expect(got.key).toBe(want.key);
      expect(got.message).toContain(want.has);
    } else {
      expect(got).toEqual({ ok: true, params: { ...m.defaults, ...want } });
    }
  });

  test("returns a fresh object, leaving the defaults alone", () => {
    const m = mustFind("image-classification");
    const got = builtinParameters(m, { epochs: "1" });
    expect(got.ok && got.params.epochs).toBe("1");
    expect(m.defaults.epochs).toBe("30");
  });
});
