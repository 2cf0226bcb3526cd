/**
 * The API key (and any other `DD_` secret) of the Lambda mode, from plain text, KMS or Secrets
 * Manager: `DD_<NAME>_KMS_ENCRYPTED` (and `DD_KMS_API_KEY`) are decrypted with KMS,
 * `DD_<NAME>_SECRET_ARN` are fetched from Secrets Manager, and each gives `DD_<NAME>`. Only the
 * variables that are set cost a request; all of them run in parallel, bounded together.
 */
import type { Runtime } from "../runtime/types.ts";
import { type AwsEnv, getSecretValue, kmsDecrypt } from "./aws/client.ts";

/** The whole resolution's bound (spec: the API key must not hold the start up for longer). */
export const RESOLVE_TIMEOUT_MS = 2_000;

/** Where one `DD_` variable's value comes from, in the order they are preferred. */
export type SecretSource = "kms" | "secret" | "plain";

/** One variable to resolve. */
export interface SecretRef {
  /** The variable it gives, e.g. `DD_API_KEY`. */
  target: string;
  source: Exclude<SecretSource, "plain">;
  /** The variable it was read from, e.g. `DD_API_KEY_SECRET_ARN`. */
  from: string;
  value: string;
}

/** What the resolution gives: the values, and lines to log. */
export interface ResolvedSecrets {
  /** Every `DD_<NAME>` that was asked for, resolved or not. */
  targets: string[];
  /** `DD_<NAME>` → value, for the variables that resolved. */
  values: Record<string, string>;
  /** One line per failure, naming the variable, the ARN or key and the cause. */
  errors: string[];
  /** A variable set in more than one place. */
  warnings: string[];
}

/**
 * The secret references in `env`, one per target: KMS is preferred over Secrets Manager, and
 * both over the plain value. A target set in more than one place gets a warning.
 */
export function secretRefs(env: AwsEnv): { refs: SecretRef[]; warnings: string[] } {
  const byTarget = new Map<string, SecretRef[]>();
  const add = (ref: SecretRef) =>
    byTarget.set(ref.target, [...(byTarget.get(ref.target) ?? []), ref]);
  for (const [name, value] of Object.entries(env)) {
    if (!value || !name.startsWith("DD_")) continue;
    if (name === "DD_KMS_API_KEY") add({ target: "DD_API_KEY", source: "kms", from: name, value });
    else if (name.endsWith("_KMS_ENCRYPTED") && name.length > "DD__KMS_ENCRYPTED".length - 1) {
      add({ target: name.slice(0, -"_KMS_ENCRYPTED".length), source: "kms", from: name, value });
    } else if (name.endsWith("_SECRET_ARN") && name.length > "DD__SECRET_ARN".length - 1) {
      add({ target: name.slice(0, -"_SECRET_ARN".length), source: "secret", from: name, value });
    }
  }
  const refs: SecretRef[] = [];
  const warnings: string[] = [];
  for (const [target, list] of [...byTarget].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort((
      a,
      b,
    ) => (a.source === b.source ? (a.from < b.from ? -1 : 1) : a.source === "kms" ? -1 : 1));
    const chosen = list[0]!;
    const others = list.slice(1).map((r) => r.from);
    if (env[target]) others.push(target);
    if (others.length) {
      warnings.push(
        `${target} is set in more than one place; using ${chosen.from}, ignoring ${
          others.join(", ")
        }`,
      );
    }
    refs.push(chosen);
  }
  return { refs, warnings };
}

/**
 * Resolves every secret reference in `env` in parallel within `timeoutMs`; never throws. A
 * failure leaves its target unset (for the API key: the extension registers and idles).
 */
export async function resolveSecrets(
  runtime: Runtime,
  env: AwsEnv,
  timeoutMs = RESOLVE_TIMEOUT_MS,
): Promise<ResolvedSecrets> {
  const { refs, warnings } = secretRefs(env);
  const out: ResolvedSecrets = {
    targets: refs.map((r) => r.target),
    values: {},
    errors: [],
    warnings,
  };
  if (refs.length === 0) return out;
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error(`timed out after ${timeoutMs} ms`)),
    timeoutMs,
  );
  const stopped = new Promise<never>((_, reject) =>
    abort.signal.addEventListener("abort", () => reject(abort.signal.reason), { once: true })
  );
  stopped.catch(() => {});
  try {
    await Promise.all(refs.map(async (ref) => {
      try {
        const fetched = ref.source === "kms"
          ? kmsDecrypt(runtime, env, ref.value, abort.signal)
          : getSecretValue(runtime, env, ref.value, abort.signal);
        const value = (await Promise.race([fetched, stopped])).trim();
        if (!value) throw new Error("the value is empty");
        out.values[ref.target] = value;
      } catch (e) {
        const what = ref.source === "kms"
          ? "KMS decryption"
          : `Secrets Manager secret ${ref.value}`;
        out.errors.push(`${ref.from}: ${what} failed for ${ref.target}: ${(e as Error).message}`);
      }
    }));
  } finally {
    clearTimeout(timer);
  }
  return out;
}
