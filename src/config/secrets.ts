/**
 * `ENC[handle]` values, resolved through `secret_backend_command` with the Datadog
 * secret-backend protocol: the handles go in on stdin as
 * `{"version":"1.0","secrets":[…]}`, and the command prints `{"<handle>":{"value":…,"error":…}}`.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import { OutpostError } from "../errors.ts";

const ENC = /^\s*ENC\[(.+)\]\s*$/;

/** Settings of the secret backend. */
export interface SecretBackend {
  command: string;
  arguments: string[];
  /** Seconds. */
  timeout: number;
  outputMaxSize: number;
}

/** The handles in every `ENC[…]` string of `value`, at any depth. */
export function findHandles(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === "string") {
    const m = ENC.exec(value);
    if (m) into.add(m[1]);
  } else if (Array.isArray(value)) {
    for (const x of value) findHandles(x, into);
  } else if (value && typeof value === "object") {
    for (const x of Object.values(value)) findHandles(x, into);
  }
  return into;
}

/** Replaces every `ENC[handle]` string in `value` (mutating objects and arrays). */
export function replaceHandles(value: unknown, secrets: Map<string, string>): unknown {
  if (typeof value === "string") {
    const m = ENC.exec(value);
    return m ? secrets.get(m[1]) : value;
  }
  if (Array.isArray(value)) {
    value.forEach((x, i) => (value[i] = replaceHandles(x, secrets)));
  } else if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = replaceHandles(o[k], secrets);
  }
  return value;
}

/** Runs the backend once for all `handles`; throws an `OutpostError` that names the handle. */
export async function fetchSecrets(
  runtime: Runtime,
  handles: string[],
  backend: SecretBackend,
): Promise<Map<string, string>> {
  const fail = (message: string) => new OutpostError("secret_backend", message);
  const names = handles.join(", ");
  if (!backend.command) {
    throw fail(`Cannot resolve secret ${names}: "secret_backend_command" is not set`);
  }
  const stdin = new TextEncoder().encode(JSON.stringify({ version: "1.0", secrets: handles }));
  let result;
  try {
    result = await runtime.spawn([backend.command, ...backend.arguments], {
      stdin,
      timeoutMs: backend.timeout * 1000,
    });
  } catch (e) {
    throw fail(
      `Cannot resolve secret ${names}: cannot run "${backend.command}": ${(e as Error).message}`,
    );
  }
  if (result.timedOut) {
    throw fail(
      `Cannot resolve secret ${names}: "${backend.command}" did not answer within ${backend.timeout}s`,
    );
  }
  if (result.code !== 0) {
    const err = new TextDecoder().decode(result.stderr).trim().split("\n")[0];
    throw fail(
      `Cannot resolve secret ${names}: "${backend.command}" exited with code ${result.code}${
        err ? `: ${err}` : ""
      }`,
    );
  }
  if (result.stdout.length > backend.outputMaxSize) {
    throw fail(
      `Cannot resolve secret ${names}: the backend's output is larger than ${backend.outputMaxSize} bytes`,
    );
  }
  let answer: Record<string, { value?: unknown; error?: unknown }>;
  try {
    answer = JSON.parse(new TextDecoder().decode(result.stdout));
  } catch {
    throw fail(`Cannot resolve secret ${names}: the backend's output is not JSON`);
  }
  const secrets = new Map<string, string>();
  for (const handle of handles) {
    const entry = answer?.[handle];
    if (!entry) {
      throw fail(`Cannot resolve secret "${handle}": the backend returned nothing for it`);
    }
    if (entry.error) throw fail(`Cannot resolve secret "${handle}": ${String(entry.error)}`);
    if (typeof entry.value !== "string" || entry.value === "") {
      throw fail(`Cannot resolve secret "${handle}": the backend returned an empty value`);
    }
    secrets.set(handle, entry.value);
  }
  return secrets;
}
