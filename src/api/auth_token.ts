/**
 * The agent API's bearer token: 32 random bytes, hex-encoded, in a file only the owner can
 * read, created on first start.
 *
 * @module
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { OutpostError } from "../errors.ts";

/** Reads the token at `path`, creating the file (mode 0600) when it does not exist. */
export function ensureAuthToken(path: string): string {
  try {
    statSync(path);
  } catch {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // "wx" fails if another process created it meanwhile; then we read theirs.
    try {
      writeFileSync(path, randomHex(32), { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new OutpostError(
          "auth_token",
          `Cannot create auth token file "${path}": ${(e as Error).message}`,
        );
      }
    }
    chmodSync(path, 0o600);
  }
  return readAuthToken(path);
}

/** Reads an existing token; refuses one shorter than 32 characters. */
export function readAuthToken(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, "utf8").trim();
  } catch (e) {
    throw new OutpostError(
      "auth_token",
      `Cannot read auth token file "${path}": ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  if (token.length < 32) {
    throw new OutpostError(
      "auth_token",
      `Auth token in "${path}" is too short: expected at least 32 characters`,
    );
  }
  return token;
}

/** Compares in constant time, so the answer's timing says nothing about the token. */
export function tokenMatches(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < given.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}

// Web Crypto rather than node:crypto, which would add megabytes to the idle process.
function randomHex(bytes: number): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(bytes)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}
