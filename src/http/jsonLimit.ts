// JSON request bodies are parsed whole in memory, so they are capped (HANGAR_MAX_JSON_BYTES);
// streamed uploads (datasets, image tars) are multipart or octet-stream and have their own limits.
import { tooLarge } from "../domain/errors";

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The request to hand on: the same one when its body is not JSON or declares a length within
 * `max`; a copy holding the body when the body is JSON without a declared length (chunked) and
 * fits. Throws 413 naming `body` when it does not fit.
 */
export async function limitJsonBody(request: Request, max: number): Promise<Request> {
  if (!METHODS_WITH_BODY.has(request.method) || request.body === null) return request;
  const type = request.headers.get("content-type");
  if (type === null || !type.toLowerCase().includes("json")) return request;
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > max) throw overLimit(max);
    return request;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > max) throw overLimit(max);
    chunks.push(chunk);
  }
  return new Request(request, { body: Buffer.concat(chunks) });
}

const overLimit = (max: number) =>
  tooLarge(`a JSON request body may be at most ${max} bytes (HANGAR_MAX_JSON_BYTES)`, "body");
