// Docker on a worker, reached through the node's one SSH connection: a local unix socket whose
// every connection becomes a stream-local channel to the worker's /var/run/docker.sock. Docker
// clients (dockerode) then talk to the worker as to a local engine, without a new SSH handshake
// per call (docker-modem's own ssh transport opens one per request: see PITFALLS "Docker").
import { mkdirSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import type { Duplex } from "node:stream";

export interface SocketForward {
  readonly path: string;
  close(): Promise<void>;
}

export async function forwardUnixSocket(
  localPath: string,
  openRemote: () => Promise<Duplex>,
  onError: (err: Error) => void = () => {},
): Promise<SocketForward> {
  mkdirSync(dirname(localPath), { recursive: true, mode: 0o700 });
  rmSync(localPath, { force: true });
  const { server, sockets } = forwardingServer(openRemote, onError);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(localPath, () => resolve());
  });
  return {
    path: localPath,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        rmSync(localPath, { force: true });
      }),
  };
}

export interface TcpForward {
  /** The local port on 127.0.0.1 whose connections reach the remote end. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A port on the master's loopback whose every connection becomes a channel opened by
 * `openRemote` (e.g. an SSH direct-tcpip channel to a worker's 127.0.0.1:PORT).
 */
export async function forwardTcpPort(
  openRemote: () => Promise<Duplex>,
  onError: (err: Error) => void = () => {},
): Promise<TcpForward> {
  const { server, sockets } = forwardingServer(openRemote, onError);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("the forwarded port has no TCP address");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function forwardingServer(openRemote: () => Promise<Duplex>, onError: (err: Error) => void) {
  const sockets = new Set<Socket>();
  // Half-open: a client that ends its request (EOF on stdin) must still read the reply.
  const server: Server = createServer({ allowHalfOpen: true }, (local) => {
    sockets.add(local);
    local.on("close", () => sockets.delete(local));
    local.pause();
    openRemote().then(
      (remote) => {
        local.pipe(remote).pipe(local);
        local.resume();
        remote.on("error", (err: Error) => {
          onError(err);
          local.destroy();
        });
        local.on("error", () => remote.destroy());
        local.on("close", () => remote.destroy());
        // After a clean end the pipe has ended `local`, whose buffer may still hold the remote's
        // last bytes (a slow client): destroying it would drop them — a fast job's log tail.
        remote.on("close", () => {
          if (!local.writableEnded) local.destroy();
        });
      },
      (err: Error) => {
        onError(err);
        local.destroy();
      },
    );
  });
  return { server, sockets };
}
