/**
 * The Lambda API key from KMS and from Secrets Manager against moto in server mode (the venv
 * `bun scripts/pyenv.ts` makes), set up with boto3, and read by outpost's own signed requests.
 * A missing key and a failing decryption both register and idle: every INVOKE is acknowledged
 * and SHUTDOWN exits 0.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import * as outpost from "../../mod.ts";
import {
  lambdaSettings,
  newLoopStats,
  resolveSecrets,
  runExtension,
} from "../../src/serverless/mod.ts";
import { freePort, waitFor } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";
import { TestRuntimeApi } from "../_lambda_runtime_api.ts";

const { configDefaults, createLogger, runtime } = outpost;
const PYTHON = join(resolve(import.meta.dirname, "../.."), ".venv-moto", "bin", "python");
const FUNCTION = "outpost-test";
const KEY = "0123456789abcdef0123456789abcdef";

let moto: ChildProcess;
let endpoint = "";
/** What boto3 made in moto: a ciphertext with the function's context, one without, a secret. */
let made: { withContext: string; noContext: string; secretArn: string };

const baseEnv = () => ({
  AWS_ACCESS_KEY_ID: "testing",
  AWS_SECRET_ACCESS_KEY: "testing",
  AWS_SESSION_TOKEN: "token",
  AWS_REGION: "us-east-1",
  AWS_LAMBDA_FUNCTION_NAME: FUNCTION,
  AWS_ENDPOINT_URL: endpoint,
});

// boto3, not outpost, creates the key and the secret: an independent client does the encrypting.
const SETUP = `
import base64, json, sys, boto3
url, fn, key = sys.argv[1:4]
kms = boto3.client("kms", endpoint_url=url, region_name="us-east-1")
kid = kms.create_key()["KeyMetadata"]["KeyId"]
enc = lambda ctx: base64.b64encode(kms.encrypt(KeyId=kid, Plaintext=key.encode(), **ctx)["CiphertextBlob"]).decode()
sm = boto3.client("secretsmanager", endpoint_url=url, region_name="us-east-1")
arn = sm.create_secret(Name="dd-api-key", SecretString=key)["ARN"]
print(json.dumps({"withContext": enc({"EncryptionContext": {"LambdaFunctionName": fn}}), "noContext": enc({}), "secretArn": arn}))
`;

describe("lambda API key against moto", { timeout: 60_000 }, () => {
  before(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}`;
    moto = spawn(PYTHON, ["-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)], {
      stdio: "ignore",
    });
    await waitFor(
      "moto",
      async () => ((await fetch(`${endpoint}/moto-api/`)).ok ? true : undefined),
      30_000,
    );
    const r = spawnSync(PYTHON, ["-c", SETUP, endpoint, FUNCTION, KEY], {
      env: { ...process.env, ...baseEnv() },
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    made = JSON.parse(r.stdout);
  });
  after(() => {
    moto?.kill();
  });

  it("decrypts DD_KMS_API_KEY with the function-name context, and without it when it was encrypted without", async () => {
    for (const ciphertext of [made.withContext, made.noContext]) {
      const r = await resolveSecrets(runtime, { ...baseEnv(), DD_KMS_API_KEY: ciphertext });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.values, { DD_API_KEY: KEY });
    }
    // moto checks the context: another function's name cannot decrypt, with it or without it.
    const other = await resolveSecrets(runtime, {
      ...baseEnv(),
      AWS_LAMBDA_FUNCTION_NAME: "another",
      DD_KMS_API_KEY: made.withContext,
    });
    assert.deepEqual(other.values, {});
    assert.match(
      other.errors[0]!,
      /InvalidCiphertext.*; without the encryption context: .*InvalidCiphertext/,
    );
  });

  it("fetches DD_API_KEY_SECRET_ARN and any DD_*_SECRET_ARN from Secrets Manager", async () => {
    const r = await resolveSecrets(runtime, {
      ...baseEnv(),
      DD_API_KEY_SECRET_ARN: made.secretArn,
      DD_APP_KEY_KMS_ENCRYPTED: made.withContext,
    });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.values, { DD_API_KEY: KEY, DD_APP_KEY: KEY });
  });

  it("a missing secret fails with the ARN and moto's error", async () => {
    const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf";
    const r = await resolveSecrets(runtime, { ...baseEnv(), DD_API_KEY_SECRET_ARN: arn });
    assert.deepEqual(r.values, {});
    assert.match(
      r.errors[0]!,
      new RegExp(`Secrets Manager secret ${arn} failed for DD_API_KEY: .*ResourceNotFound`),
    );
  });

  /**
   * Runs the extension with `env`: without a key, through three INVOKEs and SHUTDOWN; with one
   * (`expectKey`), up to the agent's build, which stops it. Returns what it did.
   */
  async function runWith(env: Record<string, string>, expectKey = false) {
    const api = new TestRuntimeApi();
    await api.start();
    const lines: string[] = [];
    const logger = createLogger({ level: "info", console: true, write: (l) => void lines.push(l) });
    try {
      const config = { ...configDefaults(), api_key: "", run_path: tempDir("outpost-lambda-key-") };
      const settings = lambdaSettings(
        config,
        { AWS_LAMBDA_RUNTIME_API: api.address },
        "/opt/extensions/outpost",
      );
      const stats = newLoopStats();
      const built: Array<Record<string, string>> = [];
      const run = runExtension({
        runtime,
        settings,
        logger,
        stats,
        resolveSecrets: () => resolveSecrets(runtime, { ...baseEnv(), ...env }),
        buildAgent: (secrets) => {
          built.push(secrets);
          return Promise.reject(new Error("stops here: the key arrived"));
        },
      });
      if (!expectKey) {
        await api.waitFor("/event/next", 1);
        for (let i = 1; i <= 3; i++) {
          api.invoke(`req-${i}`);
          await api.waitFor("/event/next", i + 1);
        }
        api.shutdown();
      }
      return { code: await run, stats, built, api, lines };
    } finally {
      await api.close();
    }
  }

  it("a key from KMS reaches the agent's build", async () => {
    const { built, code, api } = await runWith({ DD_KMS_API_KEY: made.withContext }, true);
    assert.deepEqual(built, [{ DD_API_KEY: KEY }]);
    // The build is made to fail here (no agent needed): it is reported as an init error.
    assert.equal(code, 1);
    assert.match(api.callsTo("/init/error")[0]!.body, /the key arrived/);
  });

  for (
    const [name, env, cause] of [
      ["no key at all", {}, /No API key configured/],
      [
        "a failing decryption",
        { DD_KMS_API_KEY: Buffer.from("not a ciphertext").toString("base64") },
        /DD_KMS_API_KEY: KMS decryption failed for DD_API_KEY: TrentService.Decrypt: \w+/,
      ],
      [
        "a missing secret",
        { DD_API_KEY_SECRET_ARN: "arn:aws:secretsmanager:us-east-1:1:secret:gone" },
        /Secrets Manager secret arn:aws:secretsmanager:us-east-1:1:secret:gone failed/,
      ],
    ] as const
  ) {
    it(`${name}: registers, acknowledges every INVOKE, exits 0 on SHUTDOWN`, async () => {
      const { code, stats, built, api, lines } = await runWith(env as Record<string, string>);
      assert.ok(lines.some((l) => l.includes("| ERROR |") && cause.test(l)), lines.join(""));
      assert.equal(code, 0);
      assert.deepEqual(built, [], "no agent without a key");
      assert.equal(stats.invocations, 3);
      assert.equal(api.callsTo("/register").length, 1);
      assert.equal(api.callsTo("/event/next").length, 4);
      assert.equal(api.callsTo("/init/error").length, 0, "the function's init is never failed");
    });
  }
});
