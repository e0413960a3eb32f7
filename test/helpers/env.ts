// What the test harness exports (test/harness/*.sh → $HANGAR_TEST_STATE/env and env.extras).

/** The variable's value; a clear error when the suite was not started with `bun run test`. */
export function requireEnv(name: string, setBy = "test/harness/up.sh"): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite with \`bun run test\` (${setBy})`);
  return v;
}

/** Debian + python3 + numpy, built by test/harness/python-image.sh. */
export const pythonImage = () => requireEnv("HANGAR_TEST_PYTHON_IMAGE", "test/harness/python-image.sh");

/** Debian + Jupyter Notebook 6, built by test/harness/notebook-image.sh. */
export const notebookImage = () => requireEnv("HANGAR_TEST_NOTEBOOK_IMAGE", "test/harness/notebook-image.sh");

/** Debian + python3-torch (CPU, Gloo), built by test/harness/torch-image.sh. */
export const torchImage = () => requireEnv("HANGAR_TEST_TORCH_IMAGE", "test/harness/torch-image.sh");

/** The busybox image up.sh imports. */
export const BUSYBOX_IMAGE = process.env.HANGAR_TEST_IMAGE ?? "hangar-test/busybox:latest";
