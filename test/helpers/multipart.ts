// Raw multipart/form-data bodies, byte for byte (FormData would percent-encode odd file names,
// and the tests must send exactly the names a hostile client would).
export interface PartFile {
  name: string;
  data: Uint8Array | string;
  field?: string;
}

const enc = new TextEncoder();

function dispositionName(name: string): string {
  // Non-ASCII names go as RFC 5987 filename*, like browsers and curl do.
  if (/[^\x20-\x7e]/.test(name)) return `filename*=UTF-8''${encodeURIComponent(name)}`;
  return `filename="${name.replace(/(["\\])/g, "\\$1")}"`;
}

export function multipart(
  files: PartFile[],
  fields: Record<string, string> = {},
): { body: Uint8Array<ArrayBuffer>; contentType: string } {
  const boundary = `----hangar${crypto.randomUUID()}`;
  const chunks: Uint8Array[] = [];
  for (const [k, v] of Object.entries(fields))
    chunks.push(enc.encode(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const f of files) {
    chunks.push(
      enc.encode(
        `--${boundary}\r\nContent-Disposition: form-data; name="${f.field ?? "files"}"; ${dispositionName(f.name)}\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    );
    chunks.push(typeof f.data === "string" ? enc.encode(f.data) : f.data);
    chunks.push(enc.encode("\r\n"));
  }
  chunks.push(enc.encode(`--${boundary}--\r\n`));
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const body = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    body.set(c, off);
    off += c.length;
  }
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A streamed multipart body around one large file on disk (never in memory). */
export function streamingMultipart(
  name: string,
  path: string,
): { body: ReadableStream<Uint8Array>; contentType: string; length: number } {
  const boundary = `----hangar${crypto.randomUUID()}`;
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = enc.encode(`\r\n--${boundary}--\r\n`);
  const file = Bun.file(path);
  const fileStream = file.stream();
  let stage = 0;
  const reader = fileStream.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === 0) {
        controller.enqueue(head);
        stage = 1;
        return;
      }
      if (stage === 1) {
        const { value, done } = await reader.read();
        if (!done) {
          controller.enqueue(value);
          return;
        }
        stage = 2;
      }
      controller.enqueue(tail);
      controller.close();
    },
  });
  return {
    body,
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: head.length + file.size + tail.length,
  };
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  return new Bun.CryptoHasher("sha256").update(data).digest("hex");
}

export async function sha256File(path: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) h.update(chunk);
  return h.digest("hex");
}
