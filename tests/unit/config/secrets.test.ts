import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/mod.ts";
import { OutpostError } from "../../../src/errors.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { tempDir } from "../../_temp.ts";

const dir = tempDir("outpost-secrets-");

/** A real secret backend: reads the protocol's JSON on stdin and answers from a table. */
function backend(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/usr/bin/env node\n${body}\n`);
  chmodSync(path, 0o700);
  return path;
}

const table = backend(
  "table.mjs",
  `let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const req = JSON.parse(input);
  if (req.version !== "1.0") process.exit(3);
  const known = { api: "0123456789abcdef0123456789abcdef", pw: "hunter2", proxy: "http://u:hunter2@127.0.0.1:3128" };
  const out = {};
  for (const h of req.secrets) out[h] = h in known ? { value: known[h], error: null } : { value: null, error: "no such secret" };
  process.stdout.write(JSON.stringify(out));
});`,
);

function configFile(yaml: string): string {
  const path = join(tempDir("outpost-config-"), "datadog.yaml");
  writeFileSync(path, yaml);
  return path;
}

async function failure(yaml: string): Promise<string> {
  try {
    await loadConfig(runtime, { path: configFile(yaml), env: {} });
  } catch (e) {
    assert.ok(e instanceof OutpostError, `expected an OutpostError, got ${e}`);
    return (e as Error).message;
  }
  assert.fail("expected a failure");
}

describe("ENC[] secrets", () => {
  it("resolves handles in the file and in the environment through the backend", async () => {
    const { config } = await loadConfig(runtime, {
      path: configFile(
        `api_key: ENC[api]\nsecret_backend_command: ${table}\nproxy:\n  http: ENC[proxy]\n`,
      ),
      env: { DD_TAGS: "team:a ENC[pw]" },
    });
    assert.equal(config.api_key, "0123456789abcdef0123456789abcdef");
    assert.equal(config.proxy.http, "http://u:hunter2@127.0.0.1:3128");
    assert.deepEqual(config.tags, ["team:a", "hunter2"]);
  });

  it("names the handle the backend could not resolve", async () => {
    const message = await failure(`api_key: ENC[missing]\nsecret_backend_command: ${table}\n`);
    assert.equal(message, 'Cannot resolve secret "missing": no such secret');
  });

  it("reports a backend that exits with an error", async () => {
    const failing = backend("fail.mjs", 'console.error("vault is sealed"); process.exit(4);');
    const message = await failure(`api_key: ENC[api]\nsecret_backend_command: ${failing}\n`);
    assert.equal(
      message,
      `Cannot resolve secret api: "${failing}" exited with code 4: vault is sealed`,
    );
  });

  it("kills a backend that runs past secret_backend_timeout", async () => {
    const slow = backend("slow.mjs", "setTimeout(() => {}, 60000);");
    const message = await failure(
      `api_key: ENC[api]\nsecret_backend_command: ${slow}\nsecret_backend_timeout: 1\n`,
    );
    assert.equal(message, `Cannot resolve secret api: "${slow}" did not answer within 1s`);
  });

  it("rejects output that is not JSON", async () => {
    const garbage = backend("garbage.mjs", 'process.stdout.write("not json");');
    const message = await failure(`api_key: ENC[api]\nsecret_backend_command: ${garbage}\n`);
    assert.equal(message, "Cannot resolve secret api: the backend's output is not JSON");
  });

  it("says when no backend is configured", async () => {
    const message = await failure("api_key: ENC[api]\n");
    assert.equal(message, 'Cannot resolve secret api: "secret_backend_command" is not set');
  });
});
