/**
 * The local intake over real sockets: served on 127.0.0.1 with port 0, fed by real fetch
 * POSTs, and run as `outpost intake` and inside `outpost run --dev` as subprocesses.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { buildIntake } from "../../src/intake/mod.ts";
import { encode, MetricPayload, SketchPayload } from "../unit/intake/_support.ts";
import { tempDir as makeTempDir } from "../_temp.ts";

const ROOT = resolve(import.meta.dirname!, "../..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const tempDir = () => makeTempDir("outpost-intake-it-");
/** The intake refuses a request without an API key; these carry this one. */
const API_KEY = "abcdefabcdefabcdefabcdefabcd1234";

function seriesBody(i: number): Uint8Array {
  const payload = encode(MetricPayload, {
    series: [{
      resources: [{ type: "host", name: "edge-1" }],
      metric: "it.count",
      tags: [`batch:${i % 4}`],
      points: [{ value: i, timestamp: 1_700_000_000 + i }],
      type: 1,
      interval: 10,
    }],
  });
  return runtime.zstdCompress(payload, 1);
}

describe("local intake over HTTP", () => {
  it("stores every one of 200 concurrent zstd series POSTs and sums them exactly", async () => {
    const intake = buildIntake({ dataDir: tempDir() }, { runtime }).component;
    await intake.start();
    try {
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          fetch(`${intake.url}/api/v2/series`, {
            method: "POST",
            body: seriesBody(i) as BodyInit,
            headers: {
              "Content-Type": "application/x-protobuf",
              "Content-Encoding": "zstd",
              "DD-API-KEY": API_KEY,
            },
          }).then(async (r) => [r.status, await r.text()] as const)),
      );
      assert.ok(responses.every(([s]) => s === 202));
      const q = await (await fetch(`${intake.url}/outpost/intake/series?metric=it.count`)).json();
      assert.equal(q.count, 200);
      assert.equal(q.total, (199 * 200) / 2);
      const stats = await (await fetch(`${intake.url}/outpost/intake/stats`)).json();
      assert.equal(stats.routes["/api/v2/series"].stored, 200);
    } finally {
      await intake.stop();
    }
  });

  it("fails on purpose with 503 for N requests, then accepts what the client resends", async () => {
    const intake = buildIntake({ dataDir: tempDir() }, { runtime }).component;
    await intake.start();
    try {
      await fetch(`${intake.url}/outpost/intake/faults`, {
        method: "POST",
        body: JSON.stringify({ status: 503, count: 3, route: "/api/beta/sketches" }),
      }).then((r) => r.text());
      const body = encode(SketchPayload, {
        sketches: [{
          metric: "it.dist",
          host: "h",
          dogsketches: [{
            ts: 1,
            cnt: 2,
            min: 1,
            max: 2,
            avg: 1.5,
            sum: 3,
            k: [1338, 1383],
            n: [1, 1],
          }],
        }],
        metadata: {},
      });
      const statuses: number[] = [];
      for (;;) {
        const r = await fetch(`${intake.url}/api/beta/sketches`, {
          method: "POST",
          body: body as BodyInit,
          headers: { "DD-API-KEY": API_KEY },
        });
        await r.text();
        statuses.push(r.status);
        if (r.status === 202) break;
      }
      assert.deepEqual(statuses, [503, 503, 503, 202]);
      const q = await (await fetch(`${intake.url}/outpost/intake/sketches?metric=it.dist`)).json();
      assert.deepEqual([q.count, q.sum], [2, 3]);
    } finally {
      await intake.stop();
    }
  });

  it("receives a multipart flare through real fetch and hands the zip back", async () => {
    const intake = buildIntake({ dataDir: tempDir() }, { runtime }).component;
    await intake.start();
    try {
      const head = await fetch(`${intake.url}/support/flare/777`, { method: "HEAD" });
      assert.equal(head.status, 200);
      const zip = new Uint8Array(4096).map((_, i) => i % 251);
      const form = new FormData();
      form.append("case_id", "777");
      form.append("email", "ops@example.com");
      form.append("source", "local");
      form.append("flare_file", new Blob([zip]), "outpost-flare-edge-1.zip");
      form.append("agent_version", "0.1.0");
      form.append("hostname", "edge-1");
      const res = await fetch(`${intake.url}/support/flare/777`, {
        method: "POST",
        body: form,
        headers: { "DD-API-KEY": API_KEY },
      });
      assert.deepEqual(await res.json(), { case_id: 777 });
      const { flares } = await (await fetch(`${intake.url}/outpost/intake/flares`)).json();
      assert.equal(flares[0].email, "ops@example.com");
      const back = await fetch(`${intake.url}/outpost/intake/flares/${flares[0].seq}/file`);
      assert.deepEqual(new Uint8Array(await back.arrayBuffer()), zip);
    } finally {
      await intake.stop();
    }
  });
});

/** Spawns the CLI and resolves with the first URL it prints on the line matching `re`. */
function startCli(args: string[], re: RegExp, env: Record<string, string> = {}) {
  const child = spawn(BUN, [join(ROOT, "cli", "main.ts"), ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = new Promise<string>((resolveUrl, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = re.exec(output);
      if (m) resolveUrl(m[1]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on(
      "exit",
      (code) => reject(new Error(`exited with ${code} before listening:\n${output}`)),
    );
  });
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return { child, url, exited, output: () => output };
}

describe("outpost intake (CLI)", () => {
  it("listens, stores under --data-dir, keeps the data across a restart, and exits 0 on SIGTERM", async () => {
    const dataDir = tempDir();
    const args = ["intake", "--port", "0", "--data-dir", dataDir, "--api-key", "k".repeat(32)];
    const first = startCli(args, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const url = await first.url;
    const denied = await fetch(`${url}/api/v1/check_run`, { method: "POST", body: "[]" });
    assert.equal(denied.status, 403);
    await denied.text();
    const ok = await fetch(`${url}/api/v1/check_run`, {
      method: "POST",
      body: JSON.stringify([{ check: "it.check", status: 1 }]),
      headers: { "DD-API-KEY": "k".repeat(32) },
    });
    assert.equal(ok.status, 202);
    await ok.text();
    first.child.kill("SIGTERM");
    assert.equal(await first.exited, 0);

    const second = startCli(args, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const url2 = await second.url;
    const q = await (await fetch(`${url2}/outpost/intake/check_runs?check=it.check`)).json();
    assert.equal(q.count, 1);
    second.child.kill("SIGTERM");
    assert.equal(await second.exited, 0);
    // Every file of the store (the database and its log), read as bytes.
    const files = readdirSync(dataDir).map((f) => readFileSync(join(dataDir, f), "latin1")).join();
    assert.ok(files.includes("it.check"), "the check run is not on disk");
    assert.ok(!files.includes("k".repeat(32)), "the API key reached the disk");
  });

  it("outpost run --dev starts the intake in-process and logs where it is", async () => {
    const cwd = tempDir();
    const run = startCli(
      ["run", "--dev"],
      /embedded local intake at (http:\/\/127\.0\.0\.1:\d+)/,
      {
        DD_CMD_PORT: "0",
        DD_EXPVAR_PORT: "0",
        DD_DOGSTATSD_PORT: "0",
        DD_RUN_PATH: join(cwd, "run"),
      },
    );
    const url = await run.url;
    const res = await fetch(`${url}/api/v1/validate?api_key=${"0".repeat(32)}`);
    assert.deepEqual(await res.json(), { valid: true });
    const stats = await (await fetch(`${url}/outpost/intake/stats`)).json();
    assert.equal(stats.store.max_bytes, 64 * 1024 ** 2);
    run.child.kill("SIGTERM");
    assert.equal(await run.exited, 0);
  });
});
