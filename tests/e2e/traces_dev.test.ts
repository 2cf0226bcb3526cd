/**
 * `outpost run --dev` with no API key and no intake: dd-trace's traces, its telemetry through
 * `/telemetry/proxy/` and its metrics through `/dogstatsd/v2/proxy` all reach the embedded
 * local intake, queryable there.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { BIN } from "./_binary.ts";
import { freePort, freeUdpPort, waitFor } from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const NODE_APP = resolve(import.meta.dirname, "apps/trace_node_app.cjs");
const dir = tempDir("outpost-e2e-traces-dev-");
let agent: ReturnType<typeof Bun.spawn>;
let intakeUrl = "";
let tracePort = 0;

before(async () => {
  const intakePort = await freePort();
  tracePort = await freePort();
  intakeUrl = `http://127.0.0.1:${intakePort}`;
  const config = join(dir, "datadog.yaml");
  writeFileSync(
    config,
    [
      "hostname: dev-host",
      `cmd_port: ${await freePort()}`,
      "expvar_port: 0",
      "gui_port: -1",
      `dogstatsd_port: ${await freeUdpPort()}`,
      `run_path: ${join(dir, "run")}`,
      "local_intake:",
      `  port: ${intakePort}`,
      "apm_config:",
      `  receiver_port: ${tracePort}`,
      "  flush_period: 1",
      "",
    ].join("\n"),
  );
  agent = Bun.spawn({
    cmd: [BIN, "run", "--dev", "-c", config],
    env: { PATH: process.env.PATH ?? "", TMPDIR: dir },
    stdout: "ignore",
    stderr: "ignore",
  });
  await waitFor(
    "the trace receiver",
    async () => (await fetch(`http://127.0.0.1:${tracePort}/info`)).ok || undefined,
  );
});

after(async () => {
  agent?.kill("SIGTERM");
  await agent?.exited;
});

describe("outpost run --dev and a traced app", () => {
  it("traces, tracer telemetry and tracer metrics reach the embedded intake", {
    timeout: 60_000,
  }, async () => {
    const app = Bun.spawn({
      cmd: ["node", NODE_APP],
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        DD_AGENT_HOST: "127.0.0.1",
        DD_TRACE_AGENT_PORT: String(tracePort),
        E2E_SERVICE: "e2e-dev",
      },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await new Response(app.stdout).text();
    assert.equal(await app.exited, 0);
    const made = JSON.parse(out.trim().split("\n").at(-1)!);
    const got = await waitFor("the spans at the embedded intake", async () => {
      const r = await (await fetch(`${intakeUrl}/outpost/intake/traces?service=e2e-dev`)).json();
      return r.count >= 3 ? r : undefined;
    }, 20_000);
    assert.deepEqual(
      got.spans.map((s: { span_id: string }) => s.span_id).sort(),
      [made.root.span_id, made.child.span_id, made.failing.span_id].sort(),
    );
    const telemetry = await waitFor("tracer telemetry at the embedded intake", async () => {
      const r = await (await fetch(`${intakeUrl}/outpost/intake/payloads?kind=telemetry`)).json();
      return r.count > 0 ? r : undefined;
    }, 20_000);
    assert.equal(telemetry.payloads[0].route, "/api/v2/apmtelemetry");
    const hits = await waitFor("the tracer's metric at the embedded intake", async () => {
      const r = await (await fetch(`${intakeUrl}/outpost/intake/series?metric=e2e.node.hits`))
        .json();
      return r.points.length ? r.points : undefined;
    }, 30_000);
    assert.ok(hits[0].tags.includes("service:e2e-dev"));
  });
});
