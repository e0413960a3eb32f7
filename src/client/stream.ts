// What Eden Treaty cannot do for a browser: follow a Server-Sent-Events log with the token in
// the Authorization header (EventSource cannot send one), upload with progress (fetch has no
// upload progress; XMLHttpRequest does), and save a download under its name. Errors carry the
// API's own {code, message, field} like ./api.ts.
import { ApiError, problemOf } from "./api";

export interface LogEnd {
  status: string;
  exitCode: number | null;
}

/** One SSE message: `event: NAME` and its `data:` lines joined. */
export interface SseMessage {
  event: string;
  data: string;
}

/** Splits a buffer into complete SSE messages and the unfinished rest. Pure. */
export function parseSse(buffer: string): { messages: SseMessage[]; rest: string } {
  const messages: SseMessage[] = [];
  let rest = buffer;
  for (let cut = rest.indexOf("\n\n"); cut >= 0; cut = rest.indexOf("\n\n")) {
    const block = rest.slice(0, cut);
    rest = rest.slice(cut + 2);
    let event = "message";
    const data: string[] = [];
    let fields = 0;
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
      else if (line === "data:") data.push("");
      else continue; // a `: comment` (the server's keepalive) or an unknown field
      fields++;
    }
    if (fields) messages.push({ event, data: data.join("\n") });
  }
  return { messages, rest };
}

async function failure(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {}
  return new ApiError(problemOf(res.status, value));
}

const bearer = (token: string | null): Record<string, string> => (token ? { authorization: `Bearer ${token}` } : {});

/**
 * Follows a job's log (`GET /api/jobs/:id/log?follow=1`): every line as it arrives, then the
 * final status. Resolves when the stream ends; abort with `signal`.
 */
export async function followLog(
  baseUrl: string,
  token: string | null,
  jobId: string,
  on: { line: (text: string) => void; end: (end: LogEnd) => void },
  signal?: AbortSignal,
): Promise<void> {
  const res = await fetch(`${baseUrl}/api/jobs/${encodeURIComponent(jobId)}/log?follow=1`, {
    headers: bearer(token),
    signal,
  });
  if (!res.ok || !res.body) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const { messages, rest } = parseSse(buffer + value);
    buffer = rest;
    for (const m of messages) {
      if (m.event === "line") on.line(m.data);
      else if (m.event === "end") on.end(JSON.parse(m.data) as LogEnd);
    }
  }
}

/** The result of one upload: the API's JSON on success. */
export interface UploadOptions {
  token: string | null;
  /** Called with bytes sent so far and the total. */
  progress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
}

/** POSTs multipart form data with upload progress; resolves with the parsed JSON answer. */
export function upload<T = unknown>(url: string, form: FormData, opts: UploadOptions): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    for (const [k, v] of Object.entries(bearer(opts.token))) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => opts.progress?.(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onerror = () => reject(new ApiError({ status: 0, code: "network", message: "the upload was interrupted" }));
    xhr.onabort = () => reject(new ApiError({ status: 0, code: "aborted", message: "the upload was cancelled" }));
    xhr.onload = () => {
      let value: unknown = xhr.responseText;
      try {
        value = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {}
      if (xhr.status >= 200 && xhr.status < 300) resolve(value as T);
      else reject(new ApiError(problemOf(xhr.status, value)));
    };
    opts.signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(form);
  });
}

/**
 * DELETE of a wildcard path (`…/files/*path`): Eden Treaty names a `*` segment literally and
 * cannot fill it, so these go straight to fetch.
 */
export async function deleteAt(url: string, token: string | null): Promise<void> {
  const res = await fetch(url, { method: "DELETE", headers: bearer(token) });
  if (!res.ok) throw await failure(res);
}

/** GET of a text body with the token (a whole job log: Eden would parse digits and JSON out of it). */
export async function readText(url: string, token: string | null): Promise<string> {
  const res = await fetch(url, { headers: bearer(token) });
  if (!res.ok) throw await failure(res);
  return res.text();
}

/** Fetches a file with the token and hands it to the browser as a download named `name`. */
export async function download(url: string, token: string | null, name: string): Promise<void> {
  const res = await fetch(url, { headers: bearer(token) });
  if (!res.ok) throw await failure(res);
  const href = URL.createObjectURL(await res.blob());
  const a = document.createElement("a");
  a.href = href;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
