/**
 * `outpost intake` as the official Datadog API client sees it: the CLI runs the intake on a free
 * port, `@datadog/datadog-api-client` is pointed at it as its base server, and every value each
 * submission carried is read back through the intake's query routes.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { client, v1, v2 } from "@datadog/datadog-api-client";
import { runtime } from "../../src/runtime/mod.ts";
import { tempDir } from "../_temp.ts";

const ROOT = resolve(import.meta.dirname!, "../..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const API_KEY = "0123456789abcdef0123456789abcdef";
const now = () => Math.floor(Date.now() / 1000);
const newDataDir = () => tempDir("outpost-public-api-");
// At the top level: removed after the whole file, as the intake of the first suite outlives a test.
const sharedDataDir = newDataDir();

/** Starts `outpost intake` on `dataDir` with `args`; resolves with its URL and a stop function. */
async function startIntake(
  dataDir: string,
  args: string[] = [],
): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(
    BUN,
    [join(ROOT, "cli", "main.ts"), "intake", "--port", "0", "--data-dir", dataDir, ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const url = await new Promise<string>((ok, fail) => {
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) ok(m[1]);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => fail(new Error(`intake exited with ${code}:\n${output}`)));
  });
  const exited = new Promise((r) => child.on("exit", r));
  return {
    url,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** The official client's configuration, with the intake as its one server. */
function configuration(url: string, apiKey?: string) {
  return client.createConfiguration({
    baseServer: new client.BaseServerConfiguration(url, {}),
    authMethods: apiKey === undefined ? {} : { apiKeyAuth: apiKey },
    zstdCompressorCallback: (body: string) =>
      Buffer.from(runtime.zstdCompress(new TextEncoder().encode(body), 1)),
    enableRetry: false,
  });
}

async function status(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

describe("outpost intake and the official API client", () => {
  let intake: Awaited<ReturnType<typeof startIntake>>;
  let conf: client.Configuration;
  const query = async (path: string) => await (await fetch(`${intake.url}${path}`)).json();

  before(async () => {
    intake = await startIntake(sharedDataDir);
    conf = configuration(intake.url, API_KEY);
  });
  after(async () => await intake.stop());

  it("v2 MetricsApi.submitMetrics in JSON: identity, gzip, deflate and zstd1", async () => {
    const api = new v2.MetricsApi(conf);
    const encodings = [undefined, "gzip", "deflate", "zstd1"] as const;
    for (const [i, contentEncoding] of encodings.entries()) {
      const answer = await api.submitMetrics({
        contentEncoding,
        body: {
          series: [{
            metric: "public.v2.gauge",
            type: 3,
            points: [{ timestamp: now(), value: 10 + i }],
            resources: [{ name: "edge-api", type: "host" }],
            tags: [`encoding:${contentEncoding ?? "identity"}`],
            unit: "request",
          }],
        },
      });
      assert.deepEqual(answer.errors, []);
    }
    const q = await query("/outpost/intake/series?metric=public.v2.gauge&host=edge-api");
    assert.equal(q.count, 4);
    assert.equal(q.total, 10 + 11 + 12 + 13);
    assert.deepEqual(
      q.points.map((p: { tags: string[]; type: string }) => [p.tags[0], p.type]),
      encodings.map((e) => [`encoding:${e ?? "identity"}`, "gauge"]),
    );
    const payloads = await query("/outpost/intake/payloads?route=/api/v2/series");
    assert.deepEqual(
      payloads.payloads.map((p: { headers: Record<string, string> }) =>
        p.headers["content-encoding"] ?? "identity"
      ),
      encodings.map((e) => e ?? "identity"),
    );
  });

  it("v1 MetricsApi.submitMetrics", async () => {
    const answer = await new v1.MetricsApi(conf).submitMetrics({
      body: {
        series: [{
          metric: "public.v1.count",
          type: "count",
          points: [[now(), 7]],
          host: "edge-api",
          tags: ["api:v1"],
          interval: 10,
        }],
      },
    });
    assert.equal(answer.status, "ok");
    const q = await query("/outpost/intake/series?metric=public.v1.count&tag=api:v1");
    assert.deepEqual([q.count, q.total, q.points[0].host, q.points[0].type], [
      1,
      7,
      "edge-api",
      "count",
    ]);
  });

  it("v1 MetricsApi.submitDistributionPoints, plain and deflate", async () => {
    const api = new v1.MetricsApi(conf);
    for (const contentEncoding of [undefined, "deflate"] as const) {
      const answer = await api.submitDistributionPoints({
        contentEncoding,
        body: {
          series: [{
            metric: "public.dist",
            host: "edge-api",
            tags: ["api:dist"],
            points: [[now(), [1.5, 2.5, 4]]],
          }],
        },
      });
      assert.equal(answer.status, "ok");
    }
    const q = await query("/outpost/intake/distribution_points?metric=public.dist&host=edge-api");
    assert.equal(q.count, 6);
    assert.equal(q.sum, 16);
    assert.deepEqual(q.points[1].values, [1.5, 2.5, 4]);
  });

  it("v1 ServiceChecksApi.submitServiceCheck", async () => {
    const answer = await new v1.ServiceChecksApi(conf).submitServiceCheck({
      body: [{
        check: "public.check",
        hostName: "edge-api",
        status: 2,
        message: "disk full",
        tags: ["api:check"],
        timestamp: now(),
      }],
    });
    assert.equal(answer.status, "ok");
    const q = await query("/outpost/intake/check_runs?check=public.check");
    assert.equal(q.count, 1);
    assert.deepEqual([q.check_runs[0].host_name, q.check_runs[0].status, q.check_runs[0].message], [
      "edge-api",
      2,
      "disk full",
    ]);
  });

  it("v1 EventsApi.createEvent", async () => {
    const answer = await new v1.EventsApi(conf).createEvent({
      body: {
        title: "deployed v2",
        text: "the new build is live",
        tags: ["api:event"],
        alertType: "success",
        host: "edge-api",
        sourceTypeName: "deploys",
      },
    });
    assert.equal(answer.status, "ok");
    assert.equal(typeof answer.event?.id, "number");
    const q = await query("/outpost/intake/events?source=deploys");
    assert.equal(q.count, 1);
    const e = q.events[0];
    assert.deepEqual([e.msg_title, e.msg_text, e.alert_type, e.host, e.id], [
      "deployed v2",
      "the new build is live",
      "success",
      "edge-api",
      answer.event?.id,
    ]);
  });

  it("v2 EventsApi.createEvent", async () => {
    const answer = await new v2.EventsApi(conf).createEvent({
      body: {
        data: {
          type: "event",
          attributes: {
            title: "config changed",
            message: "max_connections 100 -> 200",
            category: "change",
            tags: ["api:event-v2"],
            timestamp: "2026-12-01T10:00:00Z",
            attributes: {
              author: { name: "ops", type: "user" },
              changedResource: { name: "max_connections", type: "feature_flag" },
            },
          },
        },
      },
    });
    const id = answer.data?.attributes?.attributes?.evt?.id;
    assert.equal(typeof id, "string");
    const q = await query("/outpost/intake/events");
    const e = q.events.find((x: { msg_title: string }) => x.msg_title === "config changed");
    assert.ok(e, JSON.stringify(q.events));
    assert.deepEqual([e.msg_text, e.category, e.attributes.changed_resource.name], [
      "max_connections 100 -> 200",
      "change",
      "max_connections",
    ]);
    assert.deepEqual([e.timestamp, String(e.id), e.tags], [
      Date.parse("2026-12-01T10:00:00Z") / 1000,
      id,
      ["api:event-v2"],
    ]);
  });

  it("v2 LogsApi.submitLog, gzip", async () => {
    await new v2.LogsApi(conf).submitLog({
      contentEncoding: "gzip",
      body: [{ message: "hello from the client", service: "public-api", ddsource: "test" }],
    });
    const q = await query("/outpost/intake/logs?service=public-api");
    assert.equal(q.count, 1);
    assert.equal(q.logs[0].message, "hello from the client");
  });

  it("v1 AuthenticationApi.validate", async () => {
    assert.equal((await new v1.AuthenticationApi(conf).validate()).valid, true);
    const noKey = new v1.AuthenticationApi(configuration(intake.url));
    assert.equal(await status(noKey.validate()), 403);
  });

  it("a client without an API key gets 403, and nothing is stored", async () => {
    const before = (await query("/outpost/intake/stats")).store.records;
    const api = new v1.ServiceChecksApi(configuration(intake.url));
    const code = await status(api.submitServiceCheck({
      body: [{ check: "public.nokey", hostName: "h", status: 0, tags: [] }],
    }));
    assert.equal(code, 403);
    assert.equal((await query("/outpost/intake/stats")).store.records, before);
  });
});

describe("outpost intake --api-key and the official API client", () => {
  it("accepts the listed key and refuses another or none with 403", async () => {
    const intake = await startIntake(newDataDir(), ["--api-key", API_KEY]);
    try {
      const submit = (key?: string) =>
        new v2.MetricsApi(configuration(intake.url, key)).submitMetrics({
          body: { series: [{ metric: "public.keyed", points: [{ timestamp: now(), value: 1 }] }] },
        });
      assert.equal(await status(submit(API_KEY)), 200);
      assert.equal(await status(submit("f".repeat(32))), 403);
      assert.equal(await status(submit()), 403);
      const q = await (await fetch(`${intake.url}/outpost/intake/series?metric=public.keyed`))
        .json();
      assert.equal(q.count, 1);
    } finally {
      await intake.stop();
    }
  });
});
