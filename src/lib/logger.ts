// Minimal structured logger: one JSON line per event on stderr (stdout is for the CLI's output).
type Level = "debug" | "info" | "warn" | "error";
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(min: Level = "info", write: (line: string) => void = (l) => process.stderr.write(l)) {
  const log = (level: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (order[level] < order[min]) return;
    const extra = fields ? normalise(fields) : {};
    write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...extra })}\n`);
  };
  return { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") } satisfies Logger;
}

function normalise(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? (v.stack ?? v.message) : v;
  return out;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
