/**
 * KMS `Decrypt` and Secrets Manager `GetSecretValue` over the AWS JSON 1.1 protocol, signed
 * with SigV4 from the Lambda environment's credentials.
 */
import type { Runtime } from "../../runtime/types.ts";
import { type AwsCredentials, signRequest } from "./sigv4.ts";

/** The environment variables read here. */
export type AwsEnv = Record<string, string | undefined>;

/** The credentials Lambda puts in the environment; throws when they are missing. */
export function credentialsFromEnv(env: AwsEnv): AwsCredentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID ?? "";
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? "";
  if (!accessKeyId || !secretAccessKey) {
    throw new Error("no AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
  }
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
}

/**
 * The service's endpoint: `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL` (the names the
 * AWS SDKs honour), else the regional one.
 */
export function endpointFor(
  service: "kms" | "secretsmanager",
  region: string,
  env: AwsEnv,
): string {
  const specific = service === "kms"
    ? env.AWS_ENDPOINT_URL_KMS
    : env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  return specific || env.AWS_ENDPOINT_URL || `https://${service}.${region}.amazonaws.com`;
}

/** A request's target, service and region. */
interface Call {
  service: "kms" | "secretsmanager";
  target: string;
  region: string;
  body: unknown;
  signal?: AbortSignal;
}

/** An AWS JSON API call; throws with the service's error type and message on a non-2xx. */
export async function awsJsonCall(
  runtime: Runtime,
  env: AwsEnv,
  call: Call,
): Promise<Record<string, unknown>> {
  const url = endpointFor(call.service, call.region, env);
  const body = JSON.stringify(call.body);
  const headers = signRequest({
    method: "POST",
    url,
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": call.target },
    body,
    service: call.service,
    region: call.region,
    credentials: credentialsFromEnv(env),
  });
  delete headers["host"]; // fetch sets it from the URL
  const res = await runtime.fetch(url, { method: "POST", headers, body, signal: call.signal });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    // kept empty: the status below says what happened
  }
  if (!res.ok) {
    const type = String(json.__type ?? json.code ?? `HTTP ${res.status}`).split("#").pop();
    const message = json.message ?? json.Message ?? text.slice(0, 200);
    throw new Error(`${call.target}: ${type}${message ? `: ${message}` : ""}`);
  }
  return json;
}

/**
 * KMS `Decrypt` of a base64 ciphertext, first with the encryption context
 * `LambdaFunctionName=<function>` (how the Datadog tooling encrypts it), then without it.
 */
export async function kmsDecrypt(
  runtime: Runtime,
  env: AwsEnv,
  ciphertextB64: string,
  signal?: AbortSignal,
): Promise<string> {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1";
  const call = (context?: Record<string, string>) =>
    awsJsonCall(runtime, env, {
      service: "kms",
      target: "TrentService.Decrypt",
      region,
      body: {
        CiphertextBlob: ciphertextB64.trim(),
        ...(context ? { EncryptionContext: context } : {}),
      },
      signal,
    });
  let out: Record<string, unknown>;
  const fn = env.AWS_LAMBDA_FUNCTION_NAME;
  try {
    out = await call(fn ? { LambdaFunctionName: fn } : undefined);
  } catch (first) {
    if (!fn || signal?.aborted) throw first;
    out = await call().catch((e) => {
      throw new Error(
        `${(first as Error).message}; without the encryption context: ${(e as Error).message}`,
      );
    });
  }
  if (typeof out.Plaintext !== "string") {
    throw new Error("TrentService.Decrypt: no Plaintext in the answer");
  }
  return Buffer.from(out.Plaintext, "base64").toString("utf8");
}

/** The region of an ARN (`arn:aws:secretsmanager:<region>:...`), if it has one. */
export function arnRegion(arn: string): string | undefined {
  const parts = arn.split(":");
  return parts[0] === "arn" && parts.length >= 6 && parts[3] ? parts[3] : undefined;
}

/** Secrets Manager `GetSecretValue`: the secret's string (or its binary as UTF-8). */
export async function getSecretValue(
  runtime: Runtime,
  env: AwsEnv,
  arn: string,
  signal?: AbortSignal,
): Promise<string> {
  const region = arnRegion(arn) || env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1";
  const out = await awsJsonCall(runtime, env, {
    service: "secretsmanager",
    target: "secretsmanager.GetSecretValue",
    region,
    body: { SecretId: arn },
    signal,
  });
  if (typeof out.SecretString === "string") return out.SecretString;
  if (typeof out.SecretBinary === "string") {
    return Buffer.from(out.SecretBinary, "base64").toString("utf8");
  }
  throw new Error("secretsmanager.GetSecretValue: the secret has no value");
}
