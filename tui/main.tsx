// `bun run tui` / `bun run hangar tui`: the terminal dashboard.
//
// On the master (as root): no setup. The master writes an admin session token to
// <data>/run/local-admin.token (mode 0600) at each start; the dashboard reads it (and reads it
// again when the master restarts). The data dir and port come from the master's own settings
// (HANGAR_DATA_DIR / --data-dir, HANGAR_PORT / --port).
//
// From elsewhere: --url URL with an API key's secret from --key-file FILE or
// HANGAR_API_KEY_FILE, or typed at the prompt: never on the command line or in the environment.
import { readFileSync } from "node:fs";
import { render } from "ink";
import { loadConfig } from "../src/config";
import { dataLayout } from "../src/lib/layout";
import { Dashboard } from "./Dashboard";
import { apiSource } from "./source";

const USAGE = `usage: bun run tui [--data-dir DIR] [--port N]          on the master (reads <data>/run/local-admin.token)
       bun run tui --url URL [--key-file FILE]             elsewhere, with an API key's secret (HANGAR_API_KEY_FILE, or asked)`;

async function readKeyFromTerminal(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.resume();
  let key = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      for (const c of chunk.toString("utf8")) {
        if (c === "\r" || c === "\n") {
          stdin.off("data", onData);
          if (stdin.isTTY) stdin.setRawMode(false);
          stdin.pause();
          process.stderr.write("\n");
          return resolve(key.trim());
        }
        if (c === "\u0003") return reject(new Error("interrupted"));
        if (c === "\u007f") key = key.slice(0, -1);
        else key += c;
      }
    };
    stdin.on("data", onData);
  });
}

async function readFileText(path: string): Promise<string | null> {
  const f = Bun.file(path);
  return (await f.exists()) ? (await f.text()).trim() || null : null;
}

export async function runTui(args: string[]): Promise<number> {
  const rest: string[] = [];
  let url: string | undefined;
  let keyFile = process.env.HANGAR_API_KEY_FILE;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const [flag, inline] = a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => inline ?? args[++i];
    if (flag === "--url") url = value();
    else if (flag === "--key-file") keyFile = value();
    else if (flag === "--help" || flag === "-h") {
      console.log(USAGE);
      return 0;
    } else rest.push(a);
  }

  let token: string | null = null;
  let renew: () => boolean = () => false;
  if (url) {
    url = url.replace(/\/+$/, "");
    token = keyFile ? await readFileText(keyFile) : await readKeyFromTerminal(`API key secret for ${url}: `);
    if (!token) {
      console.error(`hangar tui: no API key secret${keyFile ? ` in ${keyFile}` : ""}`);
      return 2;
    }
  } else {
    const config = loadConfig(process.env, rest);
    const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
    url = `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
    const file = dataLayout(config.dataDir).localAdminTokenFile;
    token = await readFileText(file).catch((err: Error) => {
      throw new Error(`cannot read ${file}: ${err.message} (run as root on the master, or use --url with an API key)`);
    });
    if (!token) {
      console.error(
        `hangar tui: ${file} does not exist: is the master running on this data dir? (or use --url with an API key)`,
      );
      return 2;
    }
    // A restarted master wrote a new token: take it on the next 401.
    renew = () => {
      try {
        const next = readFileSync(file, "utf8").trim();
        if (next && next !== token) {
          token = next;
          return true;
        }
      } catch {}
      return false;
    };
  }
  const source = apiSource(url, () => token, renew);
  // An API key is rate-limited (HANGAR_API_KEY_RATE_LIMIT, 5,000 requests in 15 minutes by
  // default) and one refresh is 9 requests: every 5 s stays well under it; the console's session every 2 s.
  const pollMs = args.some((a) => a === "--url" || a.startsWith("--url=")) ? 5000 : 2000;
  const app = render(<Dashboard source={source} pollMs={pollMs} />, {
    alternateScreen: true,
    incrementalRendering: true,
  });
  await app.waitUntilExit();
  return 0;
}

if (import.meta.main) {
  try {
    process.exit(await runTui(process.argv.slice(2)));
  } catch (err) {
    console.error(`hangar tui: ${(err as Error).message}`);
    process.exit(1);
  }
}
