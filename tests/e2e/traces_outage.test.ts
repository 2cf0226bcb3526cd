/**
 * A two-minute intake outage during steady traces, on the compiled agent: traces keep arriving
 * at the receiver while a separate `outpost intake` answers 503 to `/api/v0.2/traces`; once it
 * recovers, every span the receiver accepted is at the intake exactly once (counted by span id).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN } from "./_binary.ts";
import {
  freePort,
  freeUdpPort,
  type Intake,
  startIntake,
  waitFor,
} from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";

const OUTAGE_MS = 120_000;
const SPANS_PER_TRACE = 5;
const dir = tempDir("outpost-e2e-trace-outage-");
let intake: Intake;
let agent: ReturnType<typeof Bun.spawn>;
let tracePort = 0;
let expvarPort = 0;

before(async () => {
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
  tracePort = await freePort();
  expvarPort = await freePort();
  const config = join(dir, "datadog.yaml");
  writeFileSync(
    config,
    [
      "api_key: 0123456789abcdef0123456789abcdef",
      `dd_url: ${intake.url}`,
      "hostname: e2e-host",
      `cmd_port: ${await freePort()}`,
      `expvar_port: ${expvarPort}`,
      "gui_port: -1",
      `dogstatsd_port: ${await freeUdpPort()}`,
      `run_path: ${join(dir, "run")}`,
      "forwarder_backoff_base: 0.2",
      "forwarder_backoff_max: 2",
      "forwarder_recovery_interval: 1",
      "apm_config:",
      `  receiver_port: ${tracePort}`,
      `  apm_dd_url: ${intake.url}`,
      "  flush_period: 1",
      "",
    ].join("\n"),
  );
  agent = Bun.spawn({ cmd: [BIN, "run", "-c", config], stdout: "ignore", stderr: "inherit" });
  await waitFor(
    "the trace receiver",
    async () => (await fetch(`http://127.0.0.1:${tracePort}/info`)).ok || undefined,
  );
});

after(async () => {
  agent?.kill("SIGTERM");
  await agent?.exited;
  await intake?.stop();
});

let nextTrace = 1;
const accepted = new Set<string>();

/** Sends one v0.4 JSON trace of SPANS_PER_TRACE spans; remembers its span ids when accepted. */
async function sendTrace(): Promise<void> {
  const traceId = nextTrace++;
  const now = Date.now() * 1e6;
  const spans = Array.from({ length: SPANS_PER_TRACE }, (_, i) => ({
    service: "e2e-outage",
    name: i === 0 ? "web.request" : "work",
    resource: "GET /steady",
    trace_id: traceId,
    span_id: traceId * 100 + i,
    parent_id: i === 0 ? 0 : traceId * 100,
    start: now,
    duration: 1000 + i,
    metrics: { _sampling_priority_v1: 1 },
  }));
  const res = await fetch(`http://127.0.0.1:${tracePort}/v0.4/traces`, {
    method: "POST",
    headers: { "content-type": "application/json", "datadog-meta-lang": "e2e" },
    body: JSON.stringify([spans]),
  });
  await res.arrayBuffer();
  if (res.status === 200) { for (const s of spans) accepted.add(String(s.span_id)); }
}

/** Sends traces at a steady ~20 per second for `ms`. */
async function steady(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await sendTrace();
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("traces through an intake outage", () => {
  it(
    "every accepted span arrives once after two minutes of 503",
    { timeout: 300_000 },
    async () => {
      await steady(5_000);
      await intake.fault({ status: 503, count: 1_000_000, route: "/api/v0.2/traces" });
      await steady(OUTAGE_MS);
      const vars = await (await fetch(`http://127.0.0.1:${expvarPort}/debug/vars`)).json();
      assert.ok(vars.apm.WriterPayloads.submitted > 100, JSON.stringify(vars.apm.WriterPayloads));
      await intake.fault(undefined);
      await steady(5_000);

      const counts = await waitFor("every accepted span at the intake", async () => {
        const got = await intake.get("/outpost/intake/traces?service=e2e-outage");
        const seen = new Map<string, number>();
        for (const s of got.spans) seen.set(s.span_id, (seen.get(s.span_id) ?? 0) + 1);
        return [...accepted].every((id) => seen.has(id)) ? seen : undefined;
      }, 120_000);
      const dupes = [...counts].filter(([, n]) => n > 1);
      assert.deepEqual(dupes, [], "no span arrives twice");
      assert.equal(counts.size, accepted.size, "only accepted spans arrive");
      assert.ok(accepted.size > 1_000 * SPANS_PER_TRACE, `${accepted.size} spans accepted`);
    },
  );
});
