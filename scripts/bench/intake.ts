/**
 * The local intake's store: ingest and queries over 10 million series points.
 *
 * The workload: 1,000 series contexts (100 metrics × 10 tag sets) on one host, a point every
 * 10 s each; payloads of every context × 10 points (10,000 points, as the decoder gives a
 * `/api/v2/series` body) until the point count is reached (10 M: 27.8 hours of data), plus per
 * 10 series payloads one of 50 service checks, one of 100 log events and one of 5 events.
 * Every payload goes through the store's write path (`append`), as the intake's routes call it.
 *
 * The query set, each the median of several runs:
 * - `series 1 metric, 1 h`: one metric over one hour of the middle of the data (3,600 points);
 *   also measured through the HTTP route (`/outpost/intake/series?metric=…&from=…&to=…`,
 *   in-process, answer parsed): the target is < 50 ms.
 * - `series 1 metric`: one metric, all its points (100,000).
 * - `series 1 metric + tag`: one metric and one tag set (10,000 points).
 * - `check_runs 1 check`, `logs 1 service`, `events`, `payloads last 100`.
 *
 *   bun scripts/bench/intake.ts [--points N] [--against <checkout>]
 *
 * `--against` loads the JSON-lines store and queries of another checkout (the commit before the
 * SQLite store, with its own node_modules or a link to them), ingests the same payloads into it
 * in the same run and runs the same queries (its series route has no time range: the hour is
 * cut from the metric's points after the query, as a client would). `vs_against` is the other
 * store's median time over this one's.
 *
 * Prints a table and writes bench/results/intake.json.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { median, report } from "./_report.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { IntakeStore, type NewRecord } from "../../src/intake/_store.ts";
import { createIntakeApp } from "../../src/intake/_app.ts";
import * as queries from "../../src/intake/_queries.ts";
import { queryLogs } from "../../src/intake/_logs.ts";

const { values: args } = parseArgs({
  options: { points: { type: "string" }, against: { type: "string" } },
});
const POINTS = Number(args.points ?? 10_000_000);
const METRICS = 100;
const TAG_SETS = 10;
const PER_SERIES = 10;
const INTERVAL = 10;
const START = 1_700_000_000;
const PER_PAYLOAD = METRICS * TAG_SETS * PER_SERIES;
const PAYLOADS = Math.ceil(POINTS / PER_PAYLOAD);

/** The store and queries of one checkout, as far as this bench uses them. */
interface Impl {
  store: { append(r: NewRecord): unknown };
  series(f: { metric: string; tags?: string[]; from?: number; to?: number }): number;
  checkRuns(check: string): number;
  logs(service: string): number;
  events(): number;
  payloads(limit: number): number;
}

function record(i: number, route: string, kind: string, content: unknown): NewRecord {
  const t = (START + i * PER_SERIES * INTERVAL) * 1000;
  return {
    route,
    kind,
    method: "POST",
    received_at: new Date(t).toISOString(),
    received_ms: t,
    headers: { "content-type": "application/x-protobuf" },
    api_key_masked: "****************************abcd",
    wire_bytes: 0,
    decoded_bytes: 0,
    content,
  };
}

/** Payload `i` of the workload: a series payload, and each 10th also the others. */
function* payloads(i: number): Generator<NewRecord> {
  const t0 = START + i * PER_SERIES * INTERVAL;
  const series = [];
  for (let m = 0; m < METRICS; m++) {
    for (let s = 0; s < TAG_SETS; s++) {
      series.push({
        metric: `bench.metric.${m}`,
        type: "gauge",
        interval: INTERVAL,
        tags: ["env:bench", `shard:${s}`, `service:svc-${s % 5}`],
        resources: [{ type: "host", name: "bench-host" }],
        points: Array.from({ length: PER_SERIES }, (_, p) => ({
          timestamp: t0 + p * INTERVAL,
          value: (i * 31 + m * 7 + s + p) % 1000,
        })),
        unit: "",
        source_type_name: "",
      });
    }
  }
  yield record(i, "/api/v2/series", "series", { series });
  if (i % 10 !== 0) return;
  const checks = Array.from({ length: 50 }, (_, c) => ({
    check: `bench.check.${c}`,
    status: c % 4,
    host_name: "bench-host",
    timestamp: t0,
    message: "",
    tags: ["env:bench"],
  }));
  yield record(i, "/api/v1/check_run", "check_run", checks);
  const logs = Array.from({ length: 100 }, (_, l) => ({
    message: `request ${i}/${l} served in ${l % 37} ms`,
    status: "info",
    timestamp: t0 * 1000,
    hostname: "bench-host",
    service: `svc-${l % 10}`,
    ddsource: "bench",
    ddtags: "env:bench",
  }));
  yield record(i, "/api/v2/logs", "logs", logs);
  const events = Array.from({ length: 5 }, (_, e) => ({
    msg_title: `deploy ${i}.${e}`,
    msg_text: "a deploy",
    timestamp: t0,
    host: "bench-host",
    tags: ["env:bench"],
  }));
  yield record(i, "/intake/", "events", {
    events: { api: events },
    internalHostname: "bench-host",
  });
}

const HOUR_FROM = START + Math.floor(PAYLOADS / 2) * PER_SERIES * INTERVAL;
const HOUR_TO = HOUR_FROM + 3599;

function currentImpl(dir: string): Impl & { store: IntakeStore } {
  const store = new IntakeStore({ dir, runtime, maxBytes: Number.MAX_SAFE_INTEGER });
  return {
    store,
    series: (f) => queries.querySeries(store, f).count,
    checkRuns: (check) => queries.queryCheckRuns(store, check).count,
    logs: (service) => queryLogs(store, { service }).count,
    events: () => queries.queryEvents(store).count,
    payloads: (limit) => queries.queryPayloads(store, { limit }).count,
  };
}

/** The other checkout's JSON-lines store and queries, and its commit. */
async function againstImpl(checkout: string, dir: string): Promise<Impl & { commit: string }> {
  const from = (p: string) => import(pathToFileURL(resolve(checkout, p)).href);
  const [s, q, l] = await Promise.all([
    from("src/intake/_store.ts"),
    from("src/intake/_queries.ts"),
    from("src/intake/_logs.ts"),
  ]);
  const store = new s.IntakeStore({ dir, maxBytes: Number.MAX_SAFE_INTEGER });
  const commit = execFileSync("git", ["-C", checkout, "rev-parse", "--short", "HEAD"]);
  return {
    commit: commit.toString().trim(),
    store,
    series(f) {
      const { points } = q.querySeries(store, { metric: f.metric, tags: f.tags });
      if (f.from === undefined) return points.length;
      return points.filter((p: { timestamp: number }) =>
        p.timestamp >= f.from! && p.timestamp <= f.to!
      ).length;
    },
    checkRuns: (check) => q.queryCheckRuns(store, check).count,
    logs: (service) => l.queryLogs(store, { service }).count,
    events: () => q.queryEvents(store).count,
    payloads: (limit) => q.queryPayloads(store, { limit }).count,
  };
}

const dirBytes = (dir: string) =>
  readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

function ingest(impl: Impl): { seconds: number; points_per_s: number } {
  const t = performance.now();
  for (let i = 0; i < PAYLOADS; i++) for (const r of payloads(i)) impl.store.append(r);
  const seconds = (performance.now() - t) / 1000;
  return { seconds: Number(seconds.toFixed(2)), points_per_s: Math.round(POINTS / seconds) };
}

/** Median ms of `runs` calls, checking every call answers `expect`. */
function time(fn: () => number, runs: number, expect?: number): { ms: number; answer: number } {
  const ms: number[] = [];
  let answer = 0;
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    answer = fn();
    ms.push(performance.now() - t);
    if (expect !== undefined && answer !== expect) {
      throw new Error(`answers ${answer}, expected ${expect}`);
    }
  }
  return { ms: Number(median(ms).toFixed(2)), answer };
}

const QUERIES: Array<[string, (impl: Impl) => number]> = [
  [
    "series 1 metric, 1 h",
    (i) => i.series({ metric: "bench.metric.42", from: HOUR_FROM, to: HOUR_TO }),
  ],
  ["series 1 metric", (i) => i.series({ metric: "bench.metric.42" })],
  ["series 1 metric + tag", (i) => i.series({ metric: "bench.metric.42", tags: ["shard:3"] })],
  ["check_runs 1 check", (i) => i.checkRuns("bench.check.7")],
  ["logs 1 service", (i) => i.logs("svc-3")],
  ["events", (i) => i.events()],
  ["payloads last 100", (i) => i.payloads(100)],
];

const work = mkdtempSync(join(tmpdir(), "outpost-bench-intake-"));
try {
  console.log(`${PAYLOADS} series payloads, ${POINTS} points`);
  const current = currentImpl(join(work, "sqlite"));
  const ingestCurrent = ingest(current);
  console.log(`sqlite ingest: ${JSON.stringify(ingestCurrent)}`);
  const other = args.against ? await againstImpl(args.against, join(work, "jsonl")) : undefined;
  const ingestOther = other ? ingest(other) : undefined;
  if (ingestOther) console.log(`json lines ingest: ${JSON.stringify(ingestOther)}`);

  const app = createIntakeApp({ runtime, store: current.store });
  const route = `/outpost/intake/series?metric=bench.metric.42&from=${HOUR_FROM}&to=${HOUR_TO}`;
  const http = [];
  for (let r = 0; r < 15; r++) {
    const t = performance.now();
    const body = await (await app.request(route)).json();
    http.push(performance.now() - t);
    if (body.count !== 3600) throw new Error(`the route answered ${body.count} points`);
  }
  const httpMs = Number(median(http).toFixed(2));

  const rows: Record<string, string | number>[] = [];
  const results: Record<string, unknown>[] = [];
  for (const [name, q] of QUERIES) {
    const now = time(() => q(current), 15);
    const then = other ? time(() => q(other), 3, now.answer) : undefined;
    const vs = then ? Number((then.ms / now.ms).toFixed(1)) : undefined;
    rows.push({
      query: name,
      answer: now.answer,
      "sqlite ms": now.ms,
      ...(then ? { "json lines ms": then.ms, "vs_against": vs! } : {}),
    });
    results.push({
      query: name,
      answer: now.answer,
      ms: now.ms,
      ...(then ? { against_ms: then.ms, vs_against: vs } : {}),
    });
  }
  rows.push({ query: "HTTP series 1 metric, 1 h", answer: 3600, "sqlite ms": httpMs });
  const sizes = {
    sqlite_bytes: dirBytes(join(work, "sqlite")),
    ...(other ? { jsonl_bytes: dirBytes(join(work, "jsonl")) } : {}),
  };
  current.store.close();
  report("intake", rows, {
    points: POINTS,
    payloads: PAYLOADS,
    contexts: METRICS * TAG_SETS,
    ingest: ingestCurrent,
    ...(ingestOther ? { against_ingest: ingestOther, against: other!.commit } : {}),
    ...sizes,
    http_series_1_metric_1h_ms: httpMs,
    target_ms: 50,
    queries: results,
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
