// Relaying one HTTP request to a container's server (notebook and deployment proxies).
import { clientAddress } from "../auth/context";

/**
 * Sends `request`'s method with `headers` and `body` to `url` and answers with the upstream
 * response as it streams. Redirects go back to the client; the encoding and length headers
 * are dropped because the body is passed on decoded.
 */
export async function forwardHttp(
  url: string,
  request: Request,
  headers: Headers,
  body: BodyInit | null | undefined,
): Promise<Response> {
  // The client's address as the master saw it; whatever the client claimed is dropped.
  for (const h of ["x-forwarded-for", "forwarded", "x-real-ip"]) headers.delete(h);
  const peer = clientAddress(request);
  if (peer !== "unknown") headers.set("x-forwarded-for", peer);
  const upstream = await fetch(url, { method: request.method, headers, body, redirect: "manual" });
  const out = new Headers(upstream.headers);
  out.delete("content-encoding");
  out.delete("content-length");
  return new Response(upstream.body, { status: upstream.status, headers: out });
}
