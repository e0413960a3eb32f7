// The forwarded socket hands over every byte the remote end sent before it closed, even to a
// client that reads slower than the remote writes (a Docker log of a fast job, read by the master
// while the worker's channel has already ended).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { forwardTcpPort, forwardUnixSocket } from "../../src/executor/socketForward";

const TOTAL = 8 * 1024 * 1024;

describe("socket forwarding", () => {
  const dir = mkdtempSync(join(tmpdir(), "forward-"));
  // The remote end: writes TOTAL bytes at once, then ends and closes (as an SSH channel does
  // once the worker's Docker has sent its last byte).
  const remote = createServer((s) => {
    s.on("error", () => {});
    s.end(Buffer.alloc(TOTAL, 0x61));
  });
  const remoteReady = new Promise<void>((resolve) => remote.listen(0, "127.0.0.1", () => resolve()));
  const remotePort = () => (remote.address() as { port: number }).port;
  const openRemote = async () => {
    await remoteReady;
    return connect(remotePort(), "127.0.0.1");
  };
  afterAll(() => {
    remote.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Reads everything from `socket`, pausing 20 ms after every 256 KiB (a slow client). */
  const slowRead = (socket: ReturnType<typeof connect>) =>
    new Promise<number>((resolve, reject) => {
      let got = 0;
      let sinceBreak = 0;
      socket.on("data", (b: Buffer) => {
        got += b.length;
        sinceBreak += b.length;
        if (sinceBreak >= 256 * 1024) {
          sinceBreak = 0;
          socket.pause();
          setTimeout(() => socket.resume(), 20);
        }
      });
      socket.on("end", () => resolve(got));
      socket.on("error", reject);
    });

  test("a unix socket: every byte reaches a slow client", async () => {
    const forward = await forwardUnixSocket(join(dir, "docker.sock"), openRemote);
    try {
      expect(await slowRead(connect(forward.path))).toBe(TOTAL);
    } finally {
      await forward.close();
    }
  });

  test("a TCP port: every byte reaches a slow client", async () => {
    const forward = await forwardTcpPort(openRemote);
    try {
      expect(await slowRead(connect(forward.port, "127.0.0.1"))).toBe(TOTAL);
    } finally {
      await forward.close();
    }
  });
});
