/**
 * The intake's HTTP surface as a hono app: the routes the agent and the public API clients send
 * to, the flare upload, the fault switch and the queries under `/outpost/intake/`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { type Context, Hono } from "hono";
import * as v from "valibot";
import type { Runtime } from "../runtime/types.ts";
import { intakeEvents, Registry } from "../telemetry/mod.ts";
import { type BodyKind, decodeBody, decompress } from "./_decode.ts";
import { type Fault, FaultQueue, faultSchema } from "./_faults.ts";
import type { IntakeStore, NewRecord, StoredRecord } from "./_store.ts";
import {
  queryCheckRuns,
  queryDistributionPoints,
  queryEvents,
  queryFlares,
  queryMetricNames,
  queryPayloads,
  querySeries,
  querySketches,
} from "./_queries.ts";
import { EVP_KIND, queryTraces, queryTraceStats, TRACE_ROUTES } from "./_traces.ts";
import { checkLogsPayload, queryLogs } from "./_logs.ts";
import {
  checkCheckRuns,
  checkDistributionPoints,
  checkEvent,
  checkEventV2,
  checkSeriesV1,
  eventAnswer,
  eventV2Answer,
  type Problem,
} from "./_public.ts";

/** Options of {@linkcode createIntakeApp}. */
export interface IntakeAppOptions {
  /** For zstd and dropped connections. */
  runtime: Runtime;
  store: IntakeStore;
  /**
   * Valid API keys. Every agent route answers 403 to a request without a key, as Datadog's
   * intake does; when set, to any other key as well. @default []
   */
  apiKeys?: string[];
  /** @default a new queue */
  faults?: FaultQueue;
  /** Where the intake's counters go. @default a new registry */
  registry?: Registry;
  /** How a delay fault waits; tests inject one. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** The clock. @default Date.now */
  now?: () => number;
}

/** One agent route and how its body is decoded. */
interface Route {
  path: string;
  body: BodyKind;
  /** How the body is decoded when it says `Content-Type: application/json`. @default body */
  json?: BodyKind;
  kind: string;
  /** Answer body, or how to make it from the stored record; the intake answers 202 like Datadog's. */
  answer: Record<string, unknown> | ((stored: StoredRecord) => Record<string, unknown>);
  /** Refuses a decoded body the real intake would refuse (content, decoded bytes). */
  check?: (content: unknown, bytes: number) => Problem | null;
}

const OK_V2 = { errors: [] };
const OK_V1 = { status: "ok" };
const NO_KEY = "Forbidden: no API key (send it in the DD-API-KEY header or the api_key parameter)";

/** Every data route the agent and the public API clients send to. */
export const DATA_ROUTES: readonly Route[] = [
  {
    path: "/api/v2/series",
    body: "metric_payload",
    json: "series_json",
    kind: "series",
    answer: OK_V2,
  },
  { path: "/api/beta/sketches", body: "sketch_payload", kind: "sketches", answer: OK_V2 },
  {
    path: "/api/v1/series",
    body: "json",
    kind: "series_v1",
    answer: OK_V1,
    check: checkSeriesV1,
  },
  {
    path: "/api/v1/check_run",
    body: "json",
    kind: "check_run",
    answer: OK_V1,
    check: checkCheckRuns,
  },
  {
    path: "/api/v1/distribution_points",
    body: "json",
    kind: "distribution_points",
    answer: OK_V1,
    check: checkDistributionPoints,
  },
  { path: "/api/v1/events", body: "json", kind: "events", answer: eventAnswer, check: checkEvent },
  {
    path: "/api/v2/events",
    body: "json",
    kind: "events",
    answer: eventV2Answer,
    check: checkEventV2,
  },
  { path: "/intake/", body: "json", kind: "intake", answer: OK_V1 },
  { path: "/api/v1/metadata", body: "json", kind: "metadata", answer: OK_V1 },
  { path: "/api/v1/orchestrator", body: "opaque", kind: "orchestrator", answer: OK_V1 },
  { path: "/api/v2/orch", body: "opaque", kind: "orchestrator", answer: OK_V1 },
  { path: "/api/v2/orchmanif", body: "opaque", kind: "orchestrator_manifest", answer: OK_V1 },
  ...TRACE_ROUTES,
  { path: "/api/v2/logs", body: "json", kind: "logs", answer: {}, check: checkLogsPayload },
];

/** Request headers kept with each payload (never the API key itself). */
const HEADERS_OF_INTEREST = [
  "content-type",
  "content-encoding",
  "content-length",
  "user-agent",
  "dd-agent-version",
  "dd-agent-payload",
  "allow-arbitrary-tag-value",
  "x-dd-agent-attempts",
  "x-dd-orchestrator-clusterid",
  "x-dd-agent-timestamp",
  "x-dd-hostname",
  "x-datadog-reported-languages",
  "x-datadog-evp-subdomain",
  "x-datadog-hostname",
  "via",
  "dd-protocol",
  "dd-evp-origin",
  "dd-evp-origin-version",
  "dd-message-timestamp",
  "dd-current-timestamp",
];

/** Bodies larger than this are refused with 413 (the agent's own limits are far below). */
const MAX_BODY_BYTES = 64 * 1024 ** 2;

/** The API key with all but its last 4 characters masked; short keys are masked whole. */
export function maskApiKey(key: string): string {
  if (key === "") return "";
  const tail = key.length > 4 ? key.slice(-4) : "";
  return "*".repeat(Math.max(0, key.length - tail.length)) + tail;
}

/**
 * Requests the key check leaves alone: validate answers 403 itself, and the flare sender's HEAD
 * (or GET) only resolves the upload URL, carrying no data.
 */
const needsNoKey = (c: Context) =>
  c.req.path === "/api/v1/validate" ||
  (c.req.method !== "POST" && c.req.path.startsWith("/support/flare"));

const isJson = (contentType: string | undefined) =>
  /^application\/json\s*(;|$)/i.test((contentType ?? "").trim());

function apiKeyOf(c: Context): string {
  return (c.req.header("dd-api-key") ?? c.req.query("api_key") ?? "").trim();
}

function headersOf(c: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of HEADERS_OF_INTEREST) {
    const value = c.req.header(name);
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Masks API keys that payload bodies carry (host metadata's `apiKey`, sketch metadata). */
function maskBodyKeys(content: unknown): void {
  const mask = (o: unknown) => {
    if (typeof o !== "object" || o === null || Array.isArray(o)) return;
    const rec = o as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      if (/^api_?key$/i.test(k) && typeof rec[k] === "string") rec[k] = maskApiKey(rec[k]);
    }
  };
  mask(content);
  mask((content as Record<string, unknown> | null)?.metadata);
}

/** `/intake/` carries events and host metadata; tell them apart for queries. */
function intakeKind(content: unknown): string {
  const c = content as Record<string, unknown> | null;
  if (c && typeof c.events === "object" && c.events !== null) return "events";
  if (c && ("systemStats" in c || "meta" in c || "host-tags" in c)) return "host_metadata";
  return "intake";
}

const intParam = (s: string | undefined, def: number) => {
  const n = Number(s);
  return s !== undefined && Number.isInteger(n) && n > 0 ? n : def;
};

/**
 * Builds the intake app.
 *
 * @example Post a check run and read it back
 * ```ts
 * import { mkdtempSync, rmSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 * import { runtime } from "../runtime/mod.ts";
 * import { IntakeStore } from "./_store.ts";
 * import { createIntakeApp } from "./_app.ts";
 * const dir = mkdtempSync(join(tmpdir(), "intake-"));
 * const store = new IntakeStore({ dir, runtime });
 * const app = createIntakeApp({ runtime, store });
 * await app.request("/api/v1/check_run", {
 *   method: "POST",
 *   headers: { "DD-API-KEY": "0123456789abcdef0123456789abcdef" },
 *   body: '[{"check":"ok","status":0}]',
 * });
 * const res = await app.request("/outpost/intake/check_runs?check=ok");
 * console.log((await res.json()).count); // 1
 * store.close();
 * rmSync(dir, { recursive: true });
 * ```
 */
export function createIntakeApp(options: IntakeAppOptions): Hono {
  const {
    runtime,
    store,
    apiKeys = [],
    faults = new FaultQueue(),
    registry = new Registry(),
    sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    now = Date.now,
  } = options;
  const { requests, stored, rejected, faultsServed: faulted } = intakeEvents(registry, {
    store: () => store.stats(),
  });
  const validKeys = new Set(apiKeys);

  const app = new Hono();

  // The Date of every answer is the time of the answer: Bun's own is refreshed by a timer that
  // lags on a loaded machine, and the agent's clock-skew check (`outpost diagnose`) reads it.
  app.use("*", async (c, next) => {
    await next();
    c.res.headers.set("Date", new Date().toUTCString());
  });

  // Faults and API-key checks apply to every agent route, never to the intake's own API.
  app.use("*", async (c, next) => {
    if (c.req.path.startsWith("/outpost/")) return next();
    const route = routeName(c.req.path);
    requests.with(route).inc();
    const fault = faults.take(c.req.method, c.req.path);
    if (fault) {
      faulted.with(route).inc();
      const answer = await applyFault(c, fault);
      if (answer) return answer;
    }
    // Before the body is read: a refused request costs no decoding.
    if (!needsNoKey(c)) {
      const key = apiKeyOf(c);
      if (key === "" || (validKeys.size > 0 && !validKeys.has(key))) {
        rejected.with(`${route} forbidden`).inc();
        return c.json({ errors: [key === "" ? NO_KEY : "Forbidden"] }, 403);
      }
    }
    return next();
  });

  async function applyFault(c: Context, f: Fault): Promise<Response | undefined> {
    if (f.delay_ms !== undefined) await sleep(f.delay_ms);
    if (f.drop_connection) return runtime.dropConnection();
    if (f.redirect !== undefined) {
      const status = f.status !== undefined && f.status >= 300 && f.status < 400 ? f.status : 302;
      return new Response(null, { status, headers: { location: f.redirect } });
    }
    if (f.body !== undefined) {
      return new Response(f.body, {
        status: f.status ?? 200,
        headers: { "content-type": f.content_type ?? "text/plain; charset=utf-8" },
      });
    }
    if (f.status !== undefined) {
      return c.json({ errors: [`fault injected by the outpost intake: HTTP ${f.status}`] }, {
        status: f.status as 200,
      });
    }
    return undefined; // a delay alone: answer normally
  }

  function reject(c: Context, route: string, status: 400 | 413, error: string) {
    rejected.with(`${route} ${status === 400 ? "undecodable" : "too_large"}`).inc();
    return c.json({ errors: [error] }, status);
  }

  function record(c: Context, route: string, kind: string, extra: Partial<NewRecord>) {
    const t = now();
    return store.append({
      route,
      kind,
      method: c.req.method,
      received_at: new Date(t).toISOString(),
      received_ms: t,
      headers: headersOf(c),
      api_key_masked: maskApiKey(apiKeyOf(c)),
      wire_bytes: 0,
      decoded_bytes: 0,
      content: null,
      ...extra,
    });
  }

  for (const r of DATA_ROUTES) {
    const paths = r.path === "/intake/" ? ["/intake/", "/intake"] : [r.path];
    for (const path of paths) {
      app.post(path, async (c) => {
        const wire = new Uint8Array(await c.req.arrayBuffer());
        if (wire.length > MAX_BODY_BYTES) {
          return reject(c, r.path, 413, `body of ${wire.length} bytes is over the limit`);
        }
        const raw = decompress(runtime, wire, c.req.header("content-encoding"));
        if (!raw.ok) return reject(c, r.path, 400, raw.error);
        const body = r.json && isJson(c.req.header("content-type")) ? r.json : r.body;
        const decoded = decodeBody(body, raw.value);
        if (!decoded.ok) return reject(c, r.path, 400, decoded.error);
        const problem = r.check?.(decoded.value, raw.value.length);
        if (problem) return reject(c, r.path, problem.status, problem.error);
        maskBodyKeys(decoded.value);
        const kind = r.path === "/intake/" ? intakeKind(decoded.value) : r.kind;
        const rec = record(c, r.path, kind, {
          wire_bytes: wire.length,
          decoded_bytes: raw.value.length,
          content: decoded.value,
        });
        stored.with(r.path).inc();
        return c.json(typeof r.answer === "function" ? r.answer(rec) : r.answer, 202);
      });
    }
  }

  app.get("/api/v1/validate", (c) => {
    const key = apiKeyOf(c);
    const valid = key !== "" && (validKeys.size === 0 || validKeys.has(key));
    if (!valid) {
      rejected.with("/api/v1/validate forbidden").inc();
      return c.json({ errors: ["Forbidden"] }, 403);
    }
    return c.json({ valid: true });
  });

  // The flare sender resolves the upload URL with HEAD and accepts 200 (or 404).
  app.on(["HEAD", "GET"], ["/support/flare", "/support/flare/:case_id"], (c) => c.body(null, 200));

  app.post("/support/flare/:case_id?", async (c) => {
    let form: FormData;
    try {
      form = await c.req.formData();
    } catch (e) {
      return reject(
        c,
        "/support/flare",
        400,
        `cannot read the multipart body: ${(e as Error).message}`,
      );
    }
    const file = form.get("flare_file");
    if (file === null || typeof file === "string") {
      return reject(c, "/support/flare", 400, "missing the flare_file part");
    }
    const data = new Uint8Array(await file.arrayBuffer());
    const fields: Record<string, string> = {};
    const order: string[] = [];
    for (const [name, value] of form.entries()) {
      order.push(name);
      if (typeof value === "string") fields[name] = value;
    }
    const caseId = c.req.param("case_id") ?? fields.case_id ?? String(nextCaseId());
    const blob = store.writeBlob(`flare-${caseId}-${file.name}`, data);
    record(c, "/support/flare", "flare", {
      wire_bytes: Number(c.req.header("content-length") ?? data.length),
      decoded_bytes: data.length,
      content: {
        case_id: caseId,
        ...fields,
        field_order: order,
        file: {
          name: file.name,
          size: data.length,
          sha256: createHash("sha256").update(data).digest("hex"),
          blob,
        },
      },
    });
    stored.with("/support/flare").inc();
    // Datadog answers with the case id as a number.
    return c.json({ case_id: /^\d+$/.test(caseId) ? Number(caseId) : caseId });
  });

  function nextCaseId(): number {
    let max = 0;
    for (const f of queryFlares(store).flares as Array<{ case_id?: string }>) {
      const n = Number(f.case_id);
      if (Number.isInteger(n) && n > max) max = n;
    }
    return max + 1;
  }

  // Queries.
  const filterOf = (c: Context) => ({
    metric: c.req.query("metric"),
    host: c.req.query("host"),
    tags: c.req.queries("tag") ?? [],
  });
  app.get("/outpost/intake/series", (c) => {
    const range: Record<string, number> = {};
    for (const key of ["from", "to"] as const) {
      const raw = c.req.query(key);
      if (raw === undefined) continue;
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) {
        return c.json({ errors: [`"${key}" must be a number of seconds since the epoch`] }, 400);
      }
      range[key] = n;
    }
    return c.json(querySeries(store, { ...filterOf(c), ...range }));
  });
  app.get("/outpost/intake/metrics", (c) => c.json(queryMetricNames(store)));
  app.get("/outpost/intake/sketches", (c) => {
    const qs = (c.req.queries("q") ?? []).map(Number);
    if (qs.some((q) => !(q >= 0 && q <= 1))) {
      return c.json({ errors: ['"q" must be a quantile between 0 and 1'] }, 400);
    }
    return c.json(querySketches(store, filterOf(c), qs));
  });
  app.get(
    "/outpost/intake/distribution_points",
    (c) => c.json(queryDistributionPoints(store, filterOf(c))),
  );
  app.get("/outpost/intake/check_runs", (c) => c.json(queryCheckRuns(store, c.req.query("check"))));
  app.get("/outpost/intake/events", (c) => c.json(queryEvents(store, c.req.query("source"))));
  app.get("/outpost/intake/payloads", (c) =>
    c.json(queryPayloads(store, {
      route: c.req.query("route"),
      kind: c.req.query("kind"),
      limit: intParam(c.req.query("limit"), 100),
    })));
  app.get("/outpost/intake/logs", (c) =>
    c.json(queryLogs(store, {
      service: c.req.query("service"),
      source: c.req.query("source"),
      host: c.req.query("host"),
      status: c.req.query("status"),
      q: c.req.query("q"),
      limit: intParam(c.req.query("limit"), 1000),
    })));
  app.get("/outpost/intake/flares", (c) => c.json(queryFlares(store)));
  app.get(
    "/outpost/intake/traces",
    (c) => c.json(queryTraces(store, { service: c.req.query("service") })),
  );
  app.get(
    "/outpost/intake/trace_stats",
    (c) => c.json(queryTraceStats(store, { service: c.req.query("service") })),
  );
  app.get("/outpost/intake/flares/:seq/file", (c) => {
    const seq = Number(c.req.param("seq"));
    const flare = queryFlares(store).flares.find((f) => f.seq === seq) as
      | { file?: { blob: string; name: string } }
      | undefined;
    const data = flare?.file ? store.readBlob(flare.file.blob) : null;
    if (!flare?.file || !data) return c.json({ errors: [`no stored flare archive ${seq}`] }, 404);
    return c.body(data as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${flare.file.name.replace(/"/g, "")}"`,
    });
  });
  app.get("/outpost/intake/stats", (c) => {
    const routes: Record<string, Record<string, number>> = {};
    const add = (vec: ReturnType<Registry["counterVec"]>, field: string) => {
      for (const [label, n] of Object.entries(vec.toJSON())) {
        const [route, reason] = label.split(" ");
        const row = routes[route] ??= { requests: 0, stored: 0, rejected: 0, faults_served: 0 };
        row[field] += n;
        if (reason) row[`rejected_${reason}`] = (row[`rejected_${reason}`] ?? 0) + n;
      }
    };
    add(requests, "requests");
    add(stored, "stored");
    add(rejected, "rejected");
    add(faulted, "faults_served");
    return c.json({ routes, store: store.stats(), faults_pending: faults.list().length });
  });

  // The fault switch.
  app.post("/outpost/intake/faults", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ errors: ["expected a JSON object"] }, 400);
    }
    const parsed = v.safeParse(faultSchema, body);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const key = issue.path?.map((p) => p.key).join(".");
      return c.json({
        errors: [key ? `Cannot parse fault key "${key}": ${issue.message}` : issue.message],
      }, 400);
    }
    faults.add(parsed.output);
    return c.json({ pending: faults.list() }, 201);
  });
  app.get("/outpost/intake/faults", (c) => c.json({ pending: faults.list() }));
  app.delete("/outpost/intake/faults", (c) => c.json({ cleared: faults.clear() }));

  app.notFound(async (c) => {
    // The trace agent's EVP proxy sends any path, naming the product in a header.
    const subdomain = c.req.header("x-datadog-evp-subdomain");
    if (c.req.method === "POST" && subdomain) {
      const wire = new Uint8Array(await c.req.arrayBuffer());
      if (wire.length > MAX_BODY_BYTES) {
        return reject(c, "other", 413, `body of ${wire.length} bytes is over the limit`);
      }
      const raw = decompress(runtime, wire, c.req.header("content-encoding"));
      if (!raw.ok) return reject(c, "other", 400, raw.error);
      const body = decodeBody("opaque", raw.value);
      record(c, c.req.path, EVP_KIND, {
        wire_bytes: wire.length,
        decoded_bytes: raw.value.length,
        content: { subdomain, path: c.req.path, ...(body.ok ? body.value as object : {}) },
      });
      stored.with("other").inc();
      return c.json(OK_V1, 202);
    }
    return c.json({ errors: [`no route for ${c.req.method} ${c.req.path}`] }, 404);
  });
  app.onError((err, c) => c.json({ errors: [err.message] }, 500));
  return app;
}

const KNOWN_PATHS = new Set([...DATA_ROUTES.map((r) => r.path), "/api/v1/validate"]);

/** The stats label of a path: a known route, or `other` so that labels stay bounded. */
function routeName(path: string): string {
  if (path.startsWith("/support/flare")) return "/support/flare";
  if (path === "/intake") return "/intake/";
  return KNOWN_PATHS.has(path) ? path : "other";
}
