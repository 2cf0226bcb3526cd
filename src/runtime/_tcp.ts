/**
 * A TCP stream listener on `node:net`, which Bun and Deno both implement with the same
 * semantics (pause/resume reach the kernel, so a paused peer is held back by TCP itself);
 * both adapters use it for {@linkcode Runtime.listenTcp}.
 *
 * @module
 */
import { createServer, type Socket } from "node:net";
import type { TcpConnection, TcpListenOptions, TcpServer } from "./types.ts";

/** See {@linkcode Runtime.listenTcp}. */
export function listenTcpNode(
  hostname: string,
  port: number,
  options: TcpListenOptions,
): Promise<TcpServer> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const conn: TcpConnection = {
      remoteAddress: socket.remoteAddress ?? "",
      pause: () => void socket.pause(),
      resume: () => void socket.resume(),
      close: () => void socket.destroy(),
    };
    const handlers = options.onConnection(conn);
    if (options.idleTimeoutMs) {
      socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
    }
    socket.on("data", (chunk: Uint8Array) => handlers.onData(new Uint8Array(chunk)));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      sockets.delete(socket);
      handlers.onClose();
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: hostname, port }, () => {
      server.off("error", reject);
      const addr = server.address();
      resolve({
        port: typeof addr === "object" && addr ? addr.port : port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
