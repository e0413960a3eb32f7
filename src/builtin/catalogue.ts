// Built-in models (docs/product.md#trainings-and-jobs): the catalogue of models shipped in src/builtin/models/<id>/. Each is
// a train.py (Python standard library + numpy) that reads /dataset, takes `--key value`
// parameters, logs `epoch N loss X` and writes its model to /output. Pure apart from the paths.
import { join } from "node:path";

/** Default image for built-in jobs (python3 + numpy; src/builtin/Dockerfile). Settings may override it. */
export const DEFAULT_BUILTIN_IMAGE = "hangar/builtin-python:latest";
/** Where a job mounts its model's folder, read-only. */
export const BUILTIN_MOUNT = "/builtin";

export interface BuiltinModel {
  id: string;
  name: string;
  task: string;
  description: string;
  /** Default image reference; callers substitute their configured one. */
  image: string;
  /** The model's folder on the master, mounted read-only at BUILTIN_MOUNT. */
  dir: string;
  /** Absolute path of train.py on the master. */
  script: string;
  /** Run inside the container; the parameters follow as `--key value`. */
  command: string;
  /** Every parameter the script takes, with its default. A default's form fixes the value's type. */
  defaults: Readonly<Record<string, string>>;
  datasetLayout: string;
}

const MODELS_DIR = join(import.meta.dir, "models");

function model(m: Omit<BuiltinModel, "image" | "dir" | "script" | "command">): BuiltinModel {
  const dir = join(MODELS_DIR, m.id);
  return {
    ...m,
    image: DEFAULT_BUILTIN_IMAGE,
    dir,
    script: join(dir, "train.py"),
    command: `python3 ${BUILTIN_MOUNT}/train.py`,
  };
}

export const BUILTIN_MODELS: readonly BuiltinModel[] = [
  model({
    id: "image-classification",
    name: "Image classifier (MLP)",
    task: "image classification",
    description: "A one-hidden-layer perceptron for small same-size images; reports held-out accuracy.",
    defaults: {
      epochs: "30",
      lr: "0.05",
      "batch-size": "32",
      hidden: "64",
      "weight-decay": "0.0001",
      "val-split": "0.2",
      seed: "0",
    },
    datasetLayout:
      "images.npy (N×H×W or N×H×W×C) + labels.npy (N integer labels) [+ classes.txt, one name per line], " +
      "or one folder per class of .pgm images",
  }),
  model({
    id: "tabular-regression",
    name: "Tabular regressor (MLP or ridge)",
    task: "tabular regression",
    description: "Predicts a numeric CSV column from the others; hidden=0 gives a linear model. Reports held-out RMSE.",
    defaults: {
      epochs: "100",
      lr: "0.01",
      "batch-size": "16",
      hidden: "32",
      "weight-decay": "0.0001",
      target: "target",
      "val-split": "0.2",
      seed: "0",
    },
    datasetLayout: "data.csv: a header row, numeric cells; the column named by the target parameter is predicted",
  }),
  model({
    id: "text-classification",
    name: "Text classifier (bag-of-words logistic regression)",
    task: "text classification",
    description: "Softmax regression over word (and word-pair) counts; reports held-out accuracy.",
    defaults: {
      epochs: "30",
      lr: "0.5",
      "batch-size": "16",
      ngrams: "1",
      "min-count": "1",
      "max-vocab": "20000",
      "weight-decay": "0.0001",
      "val-split": "0.2",
      seed: "0",
    },
    datasetLayout: "data.tsv (UTF-8): one `label<TAB>text` per line, optional `label<TAB>text` header",
  }),
];

export function findBuiltinModel(id: string): BuiltinModel | undefined {
  return BUILTIN_MODELS.find((m) => m.id === id);
}

export type BuiltinParamsResult =
  | { ok: true; params: Record<string, string> }
  | { ok: false; key: string; message: string };

const INTEGER = /^-?\d+$/;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

function valueProblem(key: string, value: string, fallback: string): string | null {
  if (value.trim() === "") return `parameter ${key} is empty`;
  if (INTEGER.test(fallback))
    return INTEGER.test(value) ? null : `parameter ${key} must be a whole number, got "${value}"`;
  if (NUMBER.test(fallback)) return NUMBER.test(value) ? null : `parameter ${key} must be a number, got "${value}"`;
  if (value.length > 200) return `parameter ${key} is longer than 200 characters`;
  if (CONTROL.test(value)) return `parameter ${key} must not contain control characters`;
  // argparse would read a leading hyphen as the next option rather than as this value.
  if (value.startsWith("-")) return `parameter ${key} must not start with a hyphen`;
  return null;
}

/** The model's defaults overridden by the user's values; unknown keys and mistyped values refused. */
export function builtinParameters(
  model: BuiltinModel,
  userParams: Readonly<Record<string, string | number>>,
): BuiltinParamsResult {
  const params: Record<string, string> = { ...model.defaults };
  for (const [key, raw] of Object.entries(userParams)) {
    const fallback = model.defaults[key];
    if (fallback === undefined) {
      const near = key.replaceAll("_", "-");
      const hint = near !== key && near in model.defaults ? ` (did you mean ${near}?)` : "";
      const known = Object.keys(model.defaults).join(", ");
      return {
        ok: false,
        key,
        message: `unknown parameter ${key} for built-in model ${model.id}${hint}; its parameters are ${known}`,
      };
    }
    if (typeof raw === "number" && !Number.isFinite(raw))
      return { ok: false, key, message: `parameter ${key} must be a finite number` };
    const value = String(raw);
    const problem = valueProblem(key, value, fallback);
    if (problem) return { ok: false, key, message: problem };
    params[key] = value;
  }
  return { ok: true, params };
}
