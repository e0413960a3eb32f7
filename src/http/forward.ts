// Relaying one HTTP request to a container's server (notebook and deployment proxies), and what
// passes between the browser and a member's server: never Hangar's credentials, the Referer or
// the Origin, and no cookie the app sets outside its own place.
import { clientAddress } from "../auth/context";

/** Hop-by-hop headers and the caller's credentials: never passed to a member's server. */
const DROPPED = ["host", "authorization", "connection", "keep-alive", "upgrade", "referer", "origin"];

/** The Cookie header without Hangar's own cookies (hangar_*), or null when none is left. */
export function appCookies(cookies: string | null): string | null {
  const kept = (cookies ?? "")
    .split(";")
    .map((c) => c.trim())
    .filter((c) => c && !/^hangar_/i.test(c));
  return kept.length ? kept.join("; ") : null;
}

/**
 * The headers a member's server gets from a browser's request: hop-by-hop headers, the
 * Authorization, the Referer and the Origin dropped, and the Cookie header without hangar_*.
 */
export function upstreamHeaders(request: Request): Headers {
  const headers = new Headers(request.headers);
  for (const h of DROPPED) headers.delete(h);
  // The length stays when the client sent one: the body then goes on with it, not chunked
  // (simple servers, e.g. Python's http.server, read Content-Length only).
  if (headers.has("transfer-encoding")) headers.delete("content-length");
  headers.delete("transfer-encoding");
  headers.delete("cookie");
  const cookies = appCookies(request.headers.get("cookie"));
  if (cookies) headers.set("cookie", cookies);
  return headers;
}

/**
 * The Set-Cookie lines of an app that may reach the browser. Dropped: a cookie named hangar_*
 * (it would shadow the master's), one with a Domain (it would reach other hosts) and one whose
 * Path leaves the app's `prefix`. With `mounted` (a deployment: its server sees `/` for the
 * prefix), a Path is taken as relative to the prefix and rewritten under it.
 */
export function appSetCookies(lines: string[], prefix: string, mounted: boolean): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const [pair = "", ...attrs] = line.split(";");
    const name = pair.slice(0, Math.max(0, pair.indexOf("="))).trim();
    if (!name || /^hangar_/i.test(name)) continue;
    if (attrs.some((a) => /^\s*domain\s*=/i.test(a))) continue;
    let ok = true;
    const rewritten = attrs.map((a) => {
      const m = /^\s*path\s*=\s*(.*)$/i.exec(a);
      if (!m) return a;
      let path = (m[1] ?? "").trim();
      if (mounted) path = prefix.replace(/\/$/, "") + (path.startsWith("/") ? path : `/${path}`);
      if (!`${path}/`.startsWith(prefix) && !path.startsWith(prefix)) ok = false;
      return ` Path=${path}`;
    });
    if (ok) out.push([pair, ...rewritten].join(";"));
  }
  return out;
}

/**
 * Sends `request`'s method with `headers` and `body` to `url` and answers with the upstream
 * response as it streams. Redirects go back to the client; the encoding and length headers
 * are dropped because the body is passed on decoded. With `app`, the upstream's Set-Cookie
 * lines pass through appSetCookies.
 */
export async function forwardHttp(
  url: string,
  request: Request,
  headers: Headers,
  body: BodyInit | null | undefined,
  app?: { prefix: string; mounted: boolean },
): Promise<Response> {
  // The client's address as the master saw it; whatever the client claimed is dropped.
  for (const h of ["x-forwarded-for", "forwarded", "x-real-ip"]) headers.delete(h);
  const peer = clientAddress(request);
  if (peer !== "unknown") headers.set("x-forwarded-for", peer);
  const upstream = await fetch(url, { method: request.method, headers, body, redirect: "manual" });
  const out = new Headers(upstream.headers);
  out.delete("content-encoding");
  out.delete("content-length");
  if (app) {
    out.delete("set-cookie");
    for (const c of appSetCookies(upstream.headers.getSetCookie(), app.prefix, app.mounted))
      out.append("set-cookie", c);
  }
  return new Response(upstream.body, { status: upstream.status, headers: out });
}
