// Serves the web app (web/src, React + TypeScript) built by Bun's own bundler in this process:
// built once, on the first request for a page, kept in memory (gzipped too), no network and no
// separate build step. Non-API paths that are not assets get index.html, so deep links and
// reloads work; the app's router takes it from there.
import { join } from "node:path";
import { Elysia } from "elysia";
import { errorResponse } from "./http/errors";

const WEB_DIR = join(import.meta.dir, "..", "web");
const ENTRY = join(WEB_DIR, "src", "main.tsx");

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
  type: string;
  /** Hashed names never change: cache them for a year. */
  immutable: boolean;
}

export interface WebBundle {
  /** URL path → file. "/" is index.html. */
  assets: Map<string, Asset>;
  /** The JS files index.html loads at once (for the bundle-size benchmark). */
  entryScripts: string[];
  buildMs: number;
}

let cached: Promise<WebBundle> | null = null;

/** Builds the app once per process (concurrent callers share the build). */
export function webBundle(): Promise<WebBundle> {
  cached ??= buildWeb().catch((err) => {
    cached = null;
    throw err;
  });
  return cached;
}

async function buildWeb(): Promise<WebBundle> {
  const t0 = performance.now();
  const result = await Bun.build({
    entrypoints: [ENTRY],
    target: "browser",
    minify: true,
    splitting: true,
    sourcemap: "none",
    naming: { entry: "[name]-[hash].[ext]", chunk: "chunk-[hash].[ext]", asset: "[name]-[hash].[ext]" },
    publicPath: "/assets/",
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
  });
  if (!result.success) throw new Error(`building the web UI failed: ${result.logs.map(String).join("\n")}`);
  const assets = new Map<string, Asset>();
  const scripts: string[] = [];
  const styles: string[] = [];
  for (const out of result.outputs) {
    const name = out.path.replace(/^\.\//, "");
    const url = `/assets/${name}`;
    const body = new Uint8Array(await out.arrayBuffer());
    assets.set(url, { body, gzip: gzip(body), type: out.type || "application/octet-stream", immutable: true });
    if (out.kind === "entry-point" && name.endsWith(".js")) scripts.push(url);
    if (name.endsWith(".css")) styles.push(url);
  }
  const html = new TextEncoder().encode(indexHtml(scripts, styles));
  assets.set("/", { body: html, gzip: gzip(html), type: "text/html; charset=utf-8", immutable: false });
  return { assets, entryScripts: scripts, buildMs: performance.now() - t0 };
}

const gzip = (b: Uint8Array<ArrayBuffer>) => Bun.gzipSync(b) as Uint8Array<ArrayBuffer>;

function indexHtml(scripts: string[], styles: string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hangar</title>
${styles.map((s) => `<link rel="stylesheet" href="${s}">`).join("\n")}
${scripts.map((s) => `<script type="module" src="${s}"></script>`).join("\n")}
</head>
<body>
<div id="root"></div>
<noscript>Hangar's web UI needs JavaScript.</noscript>
</body>
</html>
`;
}

/**
 * Sent with every page and asset of the web UI. The app has no inline script (index.html loads
 * hashed modules); React sets styles through the DOM and the 2FA QR code is inline SVG markup,
 * hence 'unsafe-inline' for styles only. No framing, no sniffing, no referrer to other origins.
 */
export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; " +
    "frame-ancestors 'none'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

/**
 * SECURITY_HEADERS for one request: forms may also post to this host's other ports, where
 * notebooks and deployments are served (Open Editor's ticket login, http/appOrigins).
 */
export function securityHeaders(request: Request): Record<string, string> {
  const host = (request.headers.get("host") ?? "").replace(/:\d+$/, "");
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(host)) return SECURITY_HEADERS;
  const csp = (SECURITY_HEADERS["content-security-policy"] as string).replace(
    "form-action 'self'",
    `form-action 'self' http://${host}:* https://${host}:*`,
  );
  return { ...SECURITY_HEADERS, "content-security-policy": csp };
}

function serve(asset: Asset, request: Request): Response {
  const gzip = /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "");
  const headers: Record<string, string> = {
    "content-type": asset.type,
    "cache-control": asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
    vary: "accept-encoding",
  };
  if (gzip) headers["content-encoding"] = "gzip";
  return new Response(gzip ? asset.gzip : asset.body, { headers: { ...headers, ...securityHeaders(request) } });
}

export const webRoutes = () =>
  new Elysia({ name: "web" }).get(
    "/*",
    async ({ params, request }) => {
      const path = `/${params["*"] ?? ""}`;
      if (path === "/api" || path.startsWith("/api/")) return errorResponse(404, "not_found", "no such route");
      const bundle = await webBundle();
      if (path.startsWith("/assets/")) {
        const asset = bundle.assets.get(path);
        return asset ? serve(asset, request) : errorResponse(404, "not_found", "no such file");
      }
      return serve(bundle.assets.get("/") as Asset, request);
    },
    { detail: { hide: true } },
  );
