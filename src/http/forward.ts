// Relaying one HTTP request to a container's server (notebook and deployment proxies).

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
  const upstream = await fetch(url, { method: request.method, headers, body, redirect: "manual" });
  const out = new Headers(upstream.headers);
  out.delete("content-encoding");
  out.delete("content-length");
  return new Response(upstream.body, { status: upstream.status, headers: out });
}
