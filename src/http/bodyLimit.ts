// What a request may carry before anything reads it. JSON bodies are parsed whole in memory, so
// they are capped (HANGAR_MAX_JSON_BYTES); any other body is refused (415) on every route but the
// streaming uploads, which authenticate before they read a byte and stream to disk.
import { tooLarge, unsupportedType } from "../domain/errors";

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** The routes that stream their body (they are declared with `parse: "none"`). */
const UPLOAD_ROUTES: RegExp[] = [
  /^\/api\/workspaces\/[^/]+\/datasets\/[^/]+\/files\/?$/,
  /^\/api\/workspaces\/[^/]+\/trainings\/[^/]+\/files\/?$/,
  /^\/api\/images\/[^/]+\/upload\/?$/,
];

export function isUploadRoute(method: string, path: string): boolean {
  return method === "POST" && UPLOAD_ROUTES.some((r) => r.test(path));
}

/**
 * The request to hand on: the same one when it has no body, its body is JSON declaring a length
 * within `max`, or it is a streaming upload; a copy holding the body when the body is JSON without
 * a declared length (chunked) and fits. Throws 413 (JSON over `max`) or 415 (any other body),
 * both naming `body`, without reading more than `max` bytes.
 */
export async function limitBody(request: Request, path: string, max: number): Promise<Request> {
  if (!METHODS_WITH_BODY.has(request.method) || request.body === null) return request;
  if (isUploadRoute(request.method, path)) return request;
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) === 0) return request;
  const type = request.headers.get("content-type");
  if (type === null || !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type.trim())) {
    throw unsupportedType("this route takes a JSON body (content-type application/json) or none", "body");
  }
  if (declared !== null) {
    if (!(Number(declared) <= max)) throw overLimit(max);
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
