// One large file streamed to a master process over real HTTP (used by a test and bench:upload).

import { streamingMultipart } from "./multipart";
import { client } from "./processes";

export async function makeRandomFile(path: string, mib: number): Promise<void> {
  const p = Bun.spawn(["sh", "-c", `head -c ${mib}M /dev/urandom > '${path}'`]);
  if ((await p.exited) !== 0) throw new Error(`could not write ${path}`);
}

/** Logs in, makes workspace `big` (no GPUs) with dataset `blobs`, and returns an uploader. */
export async function prepareUploads(url: string, rootPassword: string) {
  const api = client(url);
  const token = (await api("POST", "/api/auth/login", undefined, { userId: "root", password: rootPassword })).body
    .token;
  const ws = await api("POST", "/api/workspaces", token, {
    name: "big",
    startsAt: new Date(Date.now() - 86_400_000).toISOString(),
    endsAt: new Date(Date.now() + 86_400_000).toISOString(),
    trainingGpus: 0,
    deploymentGpus: 0,
    manager: "root",
  });
  if (ws.status !== 201) throw new Error(`workspace: ${JSON.stringify(ws.body)}`);
  const ds = await api("POST", "/api/workspaces/big/datasets", token, { name: "blobs" });
  if (ds.status !== 201) throw new Error(`dataset: ${JSON.stringify(ds.body)}`);
  return async (name: string, path: string) => {
    const body = streamingMultipart(name, path);
    const res = await fetch(`${url}/api/workspaces/big/datasets/blobs/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": body.contentType },
      body: body.body,
    });
    return { status: res.status, body: await res.json() };
  };
}
