/**
 * Messages a user meets at start, from `outpost run` in a child process: each said once, in
 * the one style (`Cannot …: <reason>`), with what to fix.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { tempDir } from "../_temp.ts";
import { outpost } from "./_cli.ts";

const dir = tempDir("outpost-messages-");
const base = (extra: string) =>
  `api_key: 0123456789abcdef0123456789abcdef\ndd_url: http://127.0.0.1:9\nrun_path: ${dir}\n` +
  `expvar_port: 0\ngui_port: -1\ndogstatsd_port: 0\napm_config:\n  enabled: false\n${extra}`;

test("a busy API port is told once, as 'Cannot listen on tcp …: address already in use'", {
  timeout: 20_000,
}, async () => {
  const busy = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response());
  const file = join(dir, "busy.yaml");
  writeFileSync(file, base(`cmd_port: ${busy.port}\n`));
  const r = await outpost(["run", "-c", file]);
  await busy.close();
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 1, out);
  const lines = out.split("\n").filter((l) => l.includes("already in use"));
  assert.equal(lines.length, 1, out);
  assert.match(
    lines[0],
    new RegExp(
      `ERROR .*Cannot start api: Cannot listen on tcp 127\\.0\\.0\\.1:${busy.port}: address already in use$`,
    ),
  );
  assert.doesNotMatch(out, /Failed to start server/);
});

test("an invalid configured hostname stops the start with one line naming the key", {
  timeout: 20_000,
}, async () => {
  const file = join(dir, "host.yaml");
  writeFileSync(file, base("cmd_port: 0\nhostname: my_host!\n"));
  const r = await outpost(["run", "-c", file]);
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 1, out);
  assert.match(
    out,
    /Invalid config key "hostname": "my_host!" is not a valid RFC 1123 host name: expected a host name/,
  );
  assert.doesNotMatch(out, /Hostname is/);
});
