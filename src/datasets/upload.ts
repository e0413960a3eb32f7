// Streaming multipart upload (busboy): each file goes straight from the request to a staging
// folder on disk, never whole into memory. Nothing reaches the dataset until every file of the
// request has arrived and passed the checks; any failure removes the staging folder.
import { createWriteStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { AppError, badRequest, conflict, rateLimited, tooLarge } from "../domain/errors";
import { joinRelative, relativePathProblem } from "../domain/paths";
import { type Reservation, reserveSpace } from "../lib/quota";

export interface StagedFile {
  path: string;
  staged: string;
  size: number;
}

export interface StagedUpload {
  dir: string;
  files: StagedFile[];
  cleanup(): Promise<void>;
}

export interface UploadLimits {
  /** Bytes the request may add in total (the workspace's remaining quota). */
  maxBytes: number;
  /** Reserves each chunk's bytes against a shared quota (src/lib/quota.ts); false refuses the upload. */
  take?: (bytes: number) => boolean;
  /** What the 413 says when `maxBytes` or `take` refuses. */
  quotaMessage?: string;
  /** Bytes all uploads in flight may hold in the staging folder together (HANGAR_STAGING_MB). */
  stagingMaxBytes?: number;
  maxFiles: number;
  /** The multipart field that carries files (default `files`). */
  field?: string;
}

export async function stageUpload(
  request: Request,
  stagingRoot: string,
  limits: UploadLimits,
  prefixFromQuery?: string,
): Promise<StagedUpload> {
  const contentType = request.headers.get("content-type") ?? "";
  if (!contentType.startsWith("multipart/form-data"))
    throw badRequest("files", "send the files as multipart/form-data in the field 'files'");
  if (!request.body) throw badRequest("files", "the request has no body");
  const dir = join(stagingRoot, `upload-${crypto.randomUUID()}`);
  // Staged bytes are only in flight: reserved from 0, given back when the staging folder goes.
  const staging =
    limits.stagingMaxBytes === undefined
      ? null
      : await reserveSpace(stagingRoot, limits.stagingMaxBytes, async () => 0);
  await mkdir(dir, { recursive: true });
  const files: StagedFile[] = [];
  const cleanup = async () => {
    await rm(dir, { recursive: true, force: true });
    staging?.release();
  };
  try {
    // A declared length is reserved whole before reading: first come, first served, instead of
    // concurrent uploads each taking part of the room and all failing.
    const declared = Number(request.headers.get("content-length") ?? Number.NaN);
    const prepaid = Number.isSafeInteger(declared) && declared > 0 ? declared : 0;
    if (prepaid > 0) {
      if (staging && !staging.take(prepaid)) throw stagingFull(staging);
      if (prepaid > limits.maxBytes * 1.01 + 64 * 1024 || (limits.take && !limits.take(prepaid)))
        throw quotaExceeded(limits);
    }
    await parse(request, contentType, dir, files, { ...limits, staging, prepaid }, prefixFromQuery);
    if (files.length === 0) throw badRequest("files", "no file in the field 'files'");
    return { dir, files, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

async function parse(
  request: Request,
  contentType: string,
  dir: string,
  files: StagedFile[],
  limits: UploadLimits & { staging: Reservation | null; prepaid: number },
  prefixFromQuery: string | undefined,
): Promise<void> {
  let prefix = prefixFromQuery;
  let total = 0;
  const seen = new Set<string>();
  const writes: Promise<void>[] = [];
  const bb = busboy({
    headers: { "content-type": contentType },
    preservePath: true,
    limits: { files: limits.maxFiles, fields: 20, fieldSize: 4096, parts: limits.maxFiles + 20 },
  });
  const source = Readable.fromWeb(request.body as unknown as import("node:stream/web").ReadableStream<Uint8Array>);
  let failure: Error | null = null;
  const fail = (err: Error) => {
    failure ??= err;
    source.unpipe(bb);
    source.destroy();
    bb.destroy();
  };

  bb.on("field", (name, value) => {
    if (name === "path") {
      if (files.length > 0) fail(badRequest("path", "send the 'path' field before the files (or as ?path=)"));
      else prefix = value;
    }
  });
  bb.on("file", (field, stream, info) => {
    // A part stream errors when the parser is torn down mid-file; that is reported through `fail`.
    stream.on("error", () => {});
    if (failure) return stream.resume();
    const expected = limits.field ?? "files";
    if (field !== expected) return fail(badRequest(expected, `unexpected file field '${field}': use '${expected}'`));
    const rel = joinRelative(prefix, decodeFormName(info.filename ?? ""));
    const problem = relativePathProblem(rel);
    if (problem) return fail(badRequest("files", `${rel.replace(/[^\x20-\x7e]/g, "?")}: ${problem}`, "invalid_path"));
    if (prefix !== undefined && relativePathProblem(prefix.replace(/^\/+|\/+$/g, "") || "x"))
      return fail(badRequest("path", "the folder prefix breaks the file-name rules", "invalid_path"));
    if (seen.has(rel)) return fail(badRequest("files", `${rel} appears twice in this upload`));
    seen.add(rel);
    const staged = join(dir, "f", rel);
    const entry: StagedFile = { path: rel, staged, size: 0 };
    files.push(entry);
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        entry.size += chunk.length;
        total += chunk.length;
        // Bytes past the reserved declared length are reserved as they come.
        const extra = Math.max(0, total - limits.prepaid) - Math.max(0, total - chunk.length - limits.prepaid);
        if (extra > 0 && limits.staging && !limits.staging.take(extra)) {
          done(stagingFull(limits.staging));
          return;
        }
        if (total > limits.maxBytes || (extra > 0 && limits.take && !limits.take(extra))) {
          done(quotaExceeded(limits));
          return;
        }
        done(null, chunk);
      },
    });
    writes.push(
      mkdir(dirname(staged), { recursive: true })
        .then(() => pipeline(stream, counter, createWriteStream(staged)))
        .catch((err: Error) => fail(err)),
    );
  });
  bb.on("filesLimit", () => fail(tooLarge(`at most ${limits.maxFiles} files per upload`, "files")));
  bb.on("error", (err) => fail(err as Error));

  await new Promise<void>((resolve) => {
    bb.on("close", () => resolve());
    source.on("error", (err) => {
      fail(err);
      resolve();
    });
    bb.on("error", () => resolve());
    source.pipe(bb);
  });
  await Promise.allSettled(writes);
  if (failure) {
    const err = failure as Error;
    if (err instanceof AppError) throw err;
    const errno = err as NodeJS.ErrnoException;
    if (errno.code === "ENOTDIR" || errno.code === "EISDIR" || errno.code === "EEXIST")
      throw conflict("a file and a folder of this upload have the same name", "name_clash", "files");
    // File-system errors name paths on the master: never echo them.
    if (errno.code !== undefined) throw badRequest("files", "the upload could not be stored");
    throw badRequest("files", `the upload could not be read: ${err.message}`);
  }
}

const stagingFull = (staging: Reservation) =>
  rateLimited(
    `the master's upload staging is full (HANGAR_STAGING_MB: ${Math.round(staging.quota / 1024 / 1024)} MiB); try again later`,
    30,
    "staging_full",
  );

const quotaExceeded = (limits: UploadLimits) =>
  tooLarge(
    limits.quotaMessage ?? `the upload exceeds the workspace's storage quota (${limits.maxBytes} bytes left)`,
    "files",
  );

/**
 * Browsers send `"`, CR and LF in a multipart file name as %22, %0D and %0A (the HTML form
 * encoding); decoded, the name rules see the real name.
 */
export function decodeFormName(name: string): string {
  return name.replace(/%22/g, '"').replace(/%0D/gi, "\r").replace(/%0A/gi, "\n");
}
