import { chmodSync, rmSync, statSync } from "node:fs";

/** Removes a stale socket file left by a previous run; refuses to delete anything else. */
export function removeStaleSocket(path: string): void {
  let isSocket: boolean;
  try {
    isSocket = statSync(path).isSocket();
  } catch {
    return; // nothing there
  }
  if (!isSocket) {
    throw new Error(`Cannot listen on "${path}": a file that is not a socket is in the way`);
  }
  rmSync(path);
}

/** Gives the socket file its mode once the runtime has created it. */
export function setSocketMode(path: string, mode: number): void {
  chmodSync(path, mode);
}
