/**
 * The agent API's bearer token: 32 random bytes, hex-encoded, in a file only the owner can
 * read, created on first start. An existing file is trusted only when the agent's user owns
 * it and nobody else can read or write it: another user who could plant a token could stop
 * the agent through the API.
 *
 * @module
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { Config } from "../config/mod.ts";
import { writeFileAtomic } from "../fs/mod.ts";
import { OutpostError } from "../errors.ts";

/**
 * Where `outpost run --dev` keeps its state when `run_path` is not configured: beside the
 * working directory.
 */
export const DEV_RUN_PATH = ".outpost/run";

/**
 * Where the agent keeps its API token: `auth_token_file_path` when set, else beside the
 * config file, else in `run_path`.
 *
 * @example Beside the config file
 * ```ts
 * import { authTokenPath } from "./_auth_token.ts";
 * import { loadConfig } from "../config/mod.ts";
 * import { runtime } from "../runtime/mod.ts";
 * const { config } = await loadConfig(runtime, { searchPaths: [], env: {} });
 * authTokenPath(config, "/etc/outpost/datadog.yaml"); // "/etc/outpost/auth_token"
 * ```
 */
export function authTokenPath(config: Config, configFile: string | null): string {
  if (config.auth_token_file_path) return config.auth_token_file_path;
  return configFile ? join(dirname(configFile), "auth_token") : join(config.run_path, "auth_token");
}

/**
 * Where a client (`outpost status`, `outpost flare`) finds the running agent's token: as
 * {@linkcode authTokenPath} says, except that with no config file and no token there it takes
 * the one `outpost run --dev` made under {@linkcode DEV_RUN_PATH} of the working directory,
 * so that the commands work beside a dev agent started with no config.
 */
export function clientAuthTokenPath(config: Config, configFile: string | null): string {
  const path = authTokenPath(config, configFile);
  if (configFile !== null || existsSync(path)) return path;
  const dev = join(DEV_RUN_PATH, "auth_token");
  return existsSync(dev) ? dev : path;
}

/** Options of {@linkcode ensureAuthToken} and {@linkcode ensureRunPath}. */
export interface OwnerOptions {
  /** The agent's user. @default process.getuid() (no check where there is none) */
  uid?: number;
}

/** What the checks read of a file's status. */
export interface FileStatus {
  uid: number;
  mode: number;
  isFile(): boolean;
  isDirectory(): boolean;
}

const octal = (mode: number) => "0" + (mode & 0o777).toString(8);

/**
 * Throws when the token file is not a regular file owned by `uid` and private to it (no
 * group or other bit). The message names the path and the fix.
 */
export function checkAuthTokenFile(path: string, st: FileStatus, uid: number | undefined): void {
  const refuse = (why: string) =>
    new OutpostError("auth_token", `Refusing the auth token file "${path}": ${why}`);
  if (!st.isFile()) throw refuse("it is not a regular file; remove it and start again");
  if (uid !== undefined && st.uid !== uid) {
    throw refuse(
      `it is owned by uid ${st.uid}, not by the agent's user (uid ${uid}); remove it so that ` +
        `a new one is created, or run: chown ${uid} "${path}"`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw refuse(
      `its mode ${octal(st.mode)} lets other users read or write it; run: chmod 600 "${path}"`,
    );
  }
}

/**
 * Throws when `run_path` is not a directory owned by `uid` (or root) that only its owner can
 * write to. The message names the path and the fix.
 */
export function checkRunPath(path: string, st: FileStatus, uid: number | undefined): void {
  const refuse = (why: string) =>
    new OutpostError("run_path", `Refusing run_path "${path}": ${why}`);
  if (!st.isDirectory()) throw refuse("it is not a directory");
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    throw refuse(
      `it is owned by uid ${st.uid}, not by the agent's user (uid ${uid}) or root; run: ` +
        `chown ${uid} "${path}"`,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    throw refuse(
      `its mode ${octal(st.mode)} lets other users write in it; run: chmod 700 "${path}"`,
    );
  }
}

/** Creates `run_path` (mode 0700) when it is missing, then checks it as {@linkcode checkRunPath} says. */
export function ensureRunPath(path: string, options: OwnerOptions = {}): void {
  try {
    mkdirSync(path, { recursive: true, mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
      throw new OutpostError(
        "run_path",
        `Cannot create run_path "${path}": ${(e as NodeJS.ErrnoException).code ?? e}`,
      );
    }
  }
  checkRunPath(path, lstatSync(path), options.uid ?? process.getuid?.());
  // A directory the agent cannot write would leave the disk queue and the version history
  // failing behind a green health.
  try {
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch (e) {
    throw new OutpostError(
      "run_path",
      `Refusing run_path "${path}": the agent cannot write in it (${
        (e as NodeJS.ErrnoException).code ?? e
      })`,
    );
  }
}

/**
 * Reads the token at `path`, creating the file (mode 0600) and its directory (0700) when it
 * does not exist; refuses a file that {@linkcode checkAuthTokenFile} refuses.
 */
export function ensureAuthToken(path: string, options: OwnerOptions = {}): string {
  try {
    lstatSync(path);
  } catch {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // Exclusive: fails if another process created it meanwhile; then theirs is read and
    // checked. Being atomic too, a racing reader never sees an empty or half-written token.
    try {
      writeFileAtomic(path, randomHex(32), { mode: 0o600, exclusive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new OutpostError(
          "auth_token",
          `Cannot create auth token file "${path}": ${(e as Error).message}`,
        );
      }
    }
  }
  return readCheckedToken(path, options.uid ?? process.getuid?.());
}

/** Opens without following a link and checks what was opened, so the file cannot be swapped. */
function readCheckedToken(path: string, uid: number | undefined): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ELOOP") {
      throw new OutpostError(
        "auth_token",
        `Refusing the auth token file "${path}": it is a symbolic link; remove it so that a ` +
          "new one is created",
      );
    }
    throw new OutpostError("auth_token", `Cannot read auth token file "${path}": ${code ?? e}`);
  }
  try {
    checkAuthTokenFile(path, fstatSync(fd), uid);
    return validToken(path, readFileSync(fd, "utf8"));
  } finally {
    closeSync(fd);
  }
}

/** Reads an existing token (a client's side: no owner check); refuses one shorter than 32 characters. */
export function readAuthToken(path: string): string {
  let token: string;
  try {
    token = readFileSync(path, "utf8");
  } catch (e) {
    throw new OutpostError(
      "auth_token",
      `Cannot read auth token file "${path}": ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  return validToken(path, token);
}

function validToken(path: string, text: string): string {
  const token = text.trim();
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
