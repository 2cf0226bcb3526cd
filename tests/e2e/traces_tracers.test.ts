/**
 * The real tracers against the compiled agent: dd-trace (v0.4, v0.5, client-computed stats,
 * DogStatsD over HTTP with runtime metrics) and ddtrace (Python, from the project's venv) each
 * run an app with a known trace shape. The agent sends its AgentPayloads both to a separate
 * `outpost intake` and, as an additional endpoint, to a capture server here whose bodies are
 * decoded with protobufjs against the intake's own protos; both must hold exactly the spans
 * the app printed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { BIN } from "./_binary.ts";
import {
  freePort,
  freeUdpPort,
  type Intake,
  startIntake,
  waitFor,
} from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";
import { AgentPayload } from "../_trace_payload.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const NODE_APP = join(ROOT, "tests/e2e/apps/trace_node_app.cjs");
const PY_APP = join(ROOT, "tests/e2e/apps/trace_python_app.py");
const PYTHON = join(ROOT, ".venv-pychecks/bin/python");

const dir = tempDir("outpost-e2e-traces-");
let intake: Intake;
let agent: ReturnType<typeof Bun.spawn>;
let capture: ReturnType<typeof Bun.serve>;
let tracePort = 0;
let expvarPort = 0;
let agentStderr = "";
/** AgentPayloads as the capture server received them, decoded by protobufjs. */
const captured: Record<string, any>[] = [];
/** Datagrams that reached the UDP port dd-trace is told DogStatsD listens on. */
let udpDatagrams = 0;
let udpTrap: ReturnType<typeof createSocket>;
let udpTrapPort = 0;

before(async () => {
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
  capture = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/api/v0.2/traces") {
        const raw = gunzipSync(new Uint8Array(await req.arrayBuffer()));
        captured.push(
          AgentPayload.toObject(AgentPayload.decode(raw), { longs: String, defaults: true }),
        );
      } else await req.arrayBuffer();
      return Response.json({}, { status: 202 });
    },
  });
  udpTrap = createSocket("udp4");
  udpTrap.on("message", () => udpDatagrams++);
  udpTrapPort = await freeUdpPort();
  await new Promise<void>((r) => udpTrap.bind(udpTrapPort, "127.0.0.1", r));

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
      "dogstatsd_flush_incomplete_buckets: true",
      "apm_config:",
      `  receiver_port: ${tracePort}`,
      `  receiver_socket: ${join(dir, "apm.socket")}`,
      `  apm_dd_url: ${intake.url}`,
      "  flush_period: 1",
      "  additional_endpoints:",
      `    "http://127.0.0.1:${capture.port}": ["capture0123456789abcdef01234567"]`,
      "  telemetry:",
      `    dd_url: ${intake.url}`,
      "",
    ].join("\n"),
  );
  agent = Bun.spawn({ cmd: [BIN, "run", "-c", config], stdout: "ignore", stderr: "pipe" });
  (async () => {
    for await (const c of agent.stderr as ReadableStream<Uint8Array>) {
      agentStderr += new TextDecoder().decode(c);
    }
  })();
  await waitFor(
    "the trace receiver",
    async () => (await fetch(`http://127.0.0.1:${tracePort}/info`)).ok || undefined,
  );
});

after(async () => {
  agent?.kill("SIGTERM");
  await agent?.exited;
  capture?.stop(true);
  udpTrap?.close();
  await intake?.stop();
});

interface Made {
  trace_id: string;
  trace_id_128: string;
  span_id: string;
  start_ns: string;
  duration_ns: string;
}
type AppOutput = Record<"root" | "child" | "failing", Made>;

/** Runs a traced app to completion and returns the ids and times it printed. */
async function runApp(cmd: string[], env: Record<string, string>): Promise<AppOutput> {
  const proc = Bun.spawn({
    cmd,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      DD_AGENT_HOST: "127.0.0.1",
      DD_TRACE_AGENT_PORT: String(tracePort),
      // dd-trace must use /dogstatsd/v2/proxy; anything sent over UDP lands in the trap.
      DD_DOGSTATSD_PORT: String(udpTrapPort),
      DD_REMOTE_CONFIGURATION_ENABLED: "false",
      ...env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  assert.equal(code, 0, `${cmd.join(" ")} failed: ${err}`);
  const line = out.trim().split("\n").findLast((l) => l.startsWith("{"));
  assert.ok(line, `no JSON line from the app: ${out} ${err}`);
  return JSON.parse(line);
}

/** Spans of one trace as protobufjs decoded them from the captured AgentPayloads. */
function capturedSpans(traceId: string): Record<string, any>[] {
  return captured.flatMap((p) =>
    (p.tracerPayloads ?? []).flatMap((tp: any) =>
      (tp.chunks ?? []).flatMap((c: any) =>
        (c.spans ?? []).filter((s: any) => s.traceID === traceId).map((s: any) => ({
          ...s,
          language: tp.languageName,
          priority: c.priority,
        }))
      )
    )
  );
}

async function waitSpans(traceId: string, n: number): Promise<Record<string, any>[]> {
  return await waitFor(`${n} spans of trace ${traceId}`, async () => {
    const spans = capturedSpans(traceId);
    return spans.length >= n ? spans : undefined;
  }, 20_000);
}

/** The hex of a span id, as tracers write it in `_dd.span_links` JSON. */
const hex16 = (id: string) => BigInt(id).toString(16).padStart(16, "0");

/** Span events as the tracer sent them: natively, or as the `events` meta JSON. */
function eventsOf(span: Record<string, any>): Array<{ name: string; attributes: any }> {
  if (span.spanEvents?.length) return span.spanEvents;
  return span.meta?.events ? JSON.parse(span.meta.events) : [];
}

/** Span links as the tracer sent them: natively, or as the `_dd.span_links` meta JSON. */
function linkedSpanIds(span: Record<string, any>): string[] {
  if (span.spanLinks?.length) return span.spanLinks.map((l: any) => hex16(l.spanID));
  return span.meta?.["_dd.span_links"]
    ? JSON.parse(span.meta["_dd.span_links"]).map((l: any) => l.span_id)
    : [];
}

/** The known shape: ids, parentage, durations, meta, metrics, error fields, events, links. */
function assertShape(
  spans: Record<string, any>[],
  made: AppOutput,
  { service, language }: { service: string; language: string },
) {
  assert.equal(spans.length, 3, JSON.stringify(spans.map((s) => s.name)));
  const by = (id: string) => {
    const s = spans.find((x) => x.spanID === id);
    assert.ok(s, `span ${id} arrived`);
    return s;
  };
  const root = by(made.root.span_id);
  const child = by(made.child.span_id);
  const failing = by(made.failing.span_id);
  for (const [s, m] of [[root, made.root], [child, made.child], [failing, made.failing]] as const) {
    assert.equal(s.traceID, m.trace_id);
    assert.equal(s.start, m.start_ns, `${s.name} start`);
    assert.equal(s.duration, m.duration_ns, `${s.name} duration`);
    assert.equal(s.service, service);
    assert.equal(s.language, language);
  }
  assert.equal(root.parentID, "0");
  assert.equal(child.parentID, made.root.span_id);
  assert.equal(failing.parentID, made.root.span_id);

  assert.equal(root.name, "web.request");
  assert.equal(root.resource, "GET /orders");
  assert.equal(root.type, "web");
  assert.equal(root.meta["customer.tier"], "gold");
  assert.equal(root.meta["http.method"], "GET");
  assert.equal(root.meta["_dd.p.tid"], made.root.trace_id_128.slice(0, 16));
  assert.equal(root.metrics["cart.items"], 3);
  assert.equal(root.metrics["_sampling_priority_v1"], 1);
  assert.equal(root.metrics["_dd.top_level"], 1);
  assert.equal(root.error ?? 0, 0);

  assert.equal(child.name, "db.query");
  assert.equal(child.type, "sql");
  // The agent's default SQL obfuscation replaces the literal.
  assert.equal(child.resource, "SELECT * FROM orders WHERE id = ?");

  assert.equal(failing.name, "payment.charge");
  assert.equal(failing.error, 1);
  assert.equal(failing.meta["error.message"], "card declined");
  assert.match(failing.meta["error.type"], /Error/);
  assert.ok(failing.meta["error.stack"].includes("card declined"));
  const events = eventsOf(failing);
  assert.equal(events.length, 1);
  assert.equal(events[0].name, "retry");
  assert.deepEqual(linkedSpanIds(failing), [hex16(made.child.span_id)]);
}

/** The intake's own decoder must agree with protobufjs on ids and times. */
async function assertIntakeAgrees(service: string, made: AppOutput) {
  const got = await intake.get(`/outpost/intake/traces?service=${service}`);
  const mine = got.spans.filter((s: any) => s.trace_id === made.root.trace_id);
  assert.deepEqual(
    mine.map((s: any) => [s.span_id, s.parent_id, s.start, s.duration, s.error]).sort(),
    [made.root, made.child, made.failing].map((m) => [
      m.span_id,
      m === made.root ? "0" : made.root.span_id,
      m.start_ns,
      m.duration_ns,
      m === made.failing ? 1 : 0,
    ]).sort(),
  );
}

describe("real tracers → compiled outpost → intake", () => {
  for (const version of ["0.4", "0.5"]) {
    it(`dd-trace over v${version}: the AgentPayloads hold exactly the app's spans`, {
      timeout: 60_000,
    }, async () => {
      const service = `e2e-node-v${version.replace(".", "")}`;
      const made = await runApp(["node", NODE_APP], {
        DD_TRACE_AGENT_PROTOCOL_VERSION: version,
        E2E_SERVICE: service,
      });
      assertShape(await waitSpans(made.root.trace_id, 3), made, { service, language: "nodejs" });
      await waitFor("the intake's copy", async () => {
        const got = await intake.get(`/outpost/intake/traces?service=${service}`);
        return got.count >= 3 || undefined;
      });
      await assertIntakeAgrees(service, made);
    });
  }

  it(
    "dd-trace over the unix socket (DD_TRACE_AGENT_URL=unix://…)",
    { timeout: 60_000 },
    async () => {
      const service = "e2e-node-uds";
      const made = await runApp(["node", NODE_APP], {
        DD_TRACE_AGENT_URL: `unix://${join(dir, "apm.socket")}`,
        E2E_SERVICE: service,
      });
      assertShape(await waitSpans(made.root.trace_id, 3), made, { service, language: "nodejs" });
    },
  );

  it("ddtrace (Python): the AgentPayloads hold exactly the app's spans", {
    timeout: 60_000,
    skip: !existsSync(PYTHON) && "no .venv-pychecks: run `bun scripts/pyenv.ts`",
  }, async () => {
    const made = await runApp([PYTHON, PY_APP], {
      DD_ENV: "e2e",
      DD_VERSION: "1.2.3",
      DD_INSTRUMENTATION_TELEMETRY_ENABLED: "false",
    });
    const spans = await waitSpans(made.root.trace_id, 3);
    assertShape(spans, made, { service: "e2e-py", language: "python" });
    await assertIntakeAgrees("e2e-py", made);
  });

  it(
    "dd-trace with client stats and runtime metrics: stats and /dogstatsd/v2/proxy series arrive, nothing over UDP",
    { timeout: 90_000 },
    async () => {
      const service = "e2e-node-stats";
      const made = await runApp(["node", NODE_APP], {
        E2E_SERVICE: service,
        DD_TRACE_STATS_COMPUTATION_ENABLED: "true",
        DD_RUNTIME_METRICS_ENABLED: "true",
        // dd-trace flushes stats and runtime metrics every 10 s: stay for one flush.
        E2E_LINGER_MS: "11500",
      });
      assertShape(await waitSpans(made.root.trace_id, 3), made, { service, language: "nodejs" });

      // The tracer's own stats reached the agent and went on to /api/v0.2/stats.
      const stats = await waitFor("client stats at the intake", async () => {
        const s = await intake.get(`/outpost/intake/trace_stats?service=${service}`);
        return s.count > 0 ? s : undefined;
      }, 30_000);
      const web = stats.resources.find((r: any) => r.resource === "GET /orders");
      assert.ok(web, JSON.stringify(stats));
      assert.equal(web.hits, 1);
      assert.equal(web.errors, 0);
      assert.equal(web.duration, Number(made.root.duration_ns));
      assert.equal(web.top_level_hits, 1);
      // Stats cover top-level and measured spans only: the children are not in them.
      assert.ok(!stats.resources.some((r: any) => r.name === "payment.charge"));
      const vars = await (await fetch(`http://127.0.0.1:${expvarPort}/debug/vars`)).json();
      assert.ok(vars.apm.ClientStatsPayloads >= 1);

      // Custom metrics: two increments of 5, a count of 10 over the interval. The tracer's
      // client may send the count in more than one flush (a 0 among them), so wait for the sum.
      const sum = (points: any[]) =>
        points.reduce((n: number, p: any) => n + p.value * (p.interval || 1), 0);
      const hits = await waitFor("a count of 10 for e2e.node.hits at the intake", async () => {
        const r = await intake.get("/outpost/intake/series?metric=e2e.node.hits");
        const points = r.points.filter((p: any) => p.tags.includes(`service:${service}`));
        return sum(points) >= 10 ? points : undefined;
      }, 30_000);
      assert.equal(sum(hits), 10);
      assert.ok(hits[0].tags.includes("route:orders"));
      const level = await intake.get("/outpost/intake/series?metric=e2e.node.level");
      assert.equal(level.points.at(-1).value, 42);
      // Runtime metrics came the same way.
      const heap = await waitFor("runtime metrics at the intake", async () => {
        const r = await intake.get(
          "/outpost/intake/series?metric=runtime.node.heap.total_heap_size",
        );
        return r.points.length ? r.points : undefined;
      }, 30_000);
      assert.ok(heap.every((p: any) => p.value > 1_000_000), JSON.stringify(heap));
      assert.ok(vars.apm.DogstatsdLines > 0);
      assert.equal(udpDatagrams, 0, "dd-trace fell back to UDP");
    },
  );

  it("the agent logged no trace errors", () => {
    assert.doesNotMatch(agentStderr, /\| ERROR \| \(trace\)/);
  });
});
