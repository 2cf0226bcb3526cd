/**
 * The invocation lifecycle routes of the daemon, in process with the real agent (trace
 * component, forwarder) against a test Runtime API and the local intake: start-invocation
 * answers the event's trace context or a new trace, end-invocation's ids and error reach the
 * intake as one `aws.lambda` span per invocation, and a body over 6 MiB gets a 413 while the
 * invocation is still traced and the daemon keeps answering.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as outpost from "../../mod.ts";
import type { Lifecycle } from "../../src/serverless/mod.ts";
import { TestRuntimeApi } from "../_lambda_runtime_api.ts";
import { invoke, lambdaConfig, runLambda, withIntake } from "./_lambda.ts";
import type { FlatSpan } from "../../src/intake/_traces.ts";

const b64 = (s: string) => btoa(s);
const SEVEN_MIB = 7 * 1024 * 1024;

/** An API Gateway v1 event whose caller is traced. */
const tracedEvent = {
  resource: "/orders",
  path: "/orders",
  httpMethod: "POST",
  headers: {
    "x-datadog-trace-id": "4110911582297405551",
    "x-datadog-parent-id": "797643193680388251",
    "x-datadog-sampling-priority": "2",
    "x-datadog-tags": "_dd.p.tid=66f1a2b300000000",
  },
  requestContext: { stage: "prod", requestId: "r-1", apiId: "abc" },
  body: "{}",
};

describe("lambda invocation lifecycle", () => {
  it("start/end-invocation make one aws.lambda span per invocation at the intake", {
    timeout: 60_000,
  }, async () => {
    await withIntake(async (intakeUrl) => {
      const api = new TestRuntimeApi();
      await api.start();
      const config = {
        ...outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl),
        serverless_flush_strategy: "end",
      };
      const daemon = `http://127.0.0.1:${config.serverless_daemon_port}`;
      const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
        fetch(`${daemon}${path}`, { method: "POST", body, headers });
      let lifecycle: Lifecycle | undefined;
      try {
        const { run, stats } = runLambda(config, api, { onLifecycle: (l) => (lifecycle = l) });
        await api.waitFor("/event/next", 1);
        assert.ok(lifecycle, "the lifecycle exists once the extension is ready");
        assert.equal(lifecycle.coldStart, true, "cold before the first invocation");

        // 1: an event with no context: a new trace; the tracer's root span ids come back at the end.
        await invoke(api, stats, "req-1");
        const start1 = await post("/lambda/start-invocation", JSON.stringify({ order: 1 }));
        assert.equal(start1.status, 200);
        assert.deepEqual(await start1.json(), {});
        const newTrace = start1.headers.get("x-datadog-trace-id");
        assert.match(newTrace ?? "", /^[1-9]\d*$/);
        // Decided here with the agent's rate (1 while nothing was seen), as a tracer would.
        assert.equal(start1.headers.get("x-datadog-sampling-priority"), "1");
        const context1 = await fetch(`${daemon}/trace-context`);
        assert.equal(context1.headers.get("x-datadog-trace-id"), newTrace);
        assert.equal(lifecycle.coldStart, true, "the first invocation is the cold start");
        await new Promise((r) => setTimeout(r, 20));
        const end1 = await post("/lambda/end-invocation", JSON.stringify({ ok: false }), {
          "x-datadog-invocation-error": "true",
          "x-datadog-invocation-error-msg": b64("order 1 failed"),
          "x-datadog-invocation-error-type": b64("OrderError"),
          "x-datadog-invocation-error-stack": b64("OrderError: order 1 failed\n    at handler"),
          "x-datadog-trace-id": newTrace!,
          // datadog-lambda-go echoes the trace id as the parent id when none was answered.
          "x-datadog-parent-id": newTrace!,
          "x-datadog-span-id": "1111111111111111111",
          "x-datadog-sampling-priority": "1",
        });
        assert.equal(end1.status, 200);

        // 2: a traced API Gateway event; the tracer names the request id in a header.
        await invoke(api, stats, "req-2");
        assert.equal(lifecycle.coldStart, false);
        const start2 = await post("/lambda/start-invocation", JSON.stringify(tracedEvent), {
          "lambda-runtime-aws-request-id": "hdr-2",
        });
        assert.equal(start2.headers.get("x-datadog-trace-id"), "4110911582297405551");
        assert.equal(start2.headers.get("x-datadog-sampling-priority"), "2");
        assert.equal(start2.headers.get("x-datadog-tags"), "_dd.p.tid=66f1a2b300000000");
        const context2 = await fetch(`${daemon}/trace-context`, { method: "POST" });
        assert.equal(context2.headers.get("x-datadog-trace-id"), "4110911582297405551");
        assert.equal(context2.headers.get("x-datadog-parent-id"), "797643193680388251");
        await post("/lambda/end-invocation", JSON.stringify({ statusCode: 201, body: "{}" }), {
          "x-datadog-trace-id": "4110911582297405551",
          "x-datadog-span-id": "2222222222222222222",
          "x-datadog-sampling-priority": "2",
        });

        // 3: an event over 6 MiB (announced) and a response over 6 MiB (chunked): 413 with a
        // message, the invocation is still traced, and the daemon keeps answering.
        await invoke(api, stats, "req-3");
        const big = await post("/lambda/start-invocation", new Uint8Array(SEVEN_MIB).fill(0x20));
        assert.equal(big.status, 413);
        assert.match((await big.json()).error, /start-invocation: .*6291456/);
        assert.match(big.headers.get("x-datadog-trace-id") ?? "", /^\d+$/);
        const stream = new ReadableStream<Uint8Array>({
          pull(c) {
            for (let i = 0; i < 7; i++) c.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
            c.close();
          },
        });
        const bigEnd = await fetch(`${daemon}/lambda/end-invocation`, {
          method: "POST",
          body: stream,
          headers: {
            "x-datadog-span-id": "3333333333333333333",
            "x-datadog-sampling-priority": "1",
          },
          // @ts-ignore: Node's fetch needs it for a stream body; Bun ignores it
          duplex: "half",
        });
        assert.equal(bigEnd.status, 413);
        assert.match((await bigEnd.json()).error, /end-invocation/);
        assert.equal((await fetch(`${daemon}/lambda/hello`)).status, 200);

        api.shutdown();
        assert.equal(await run, 0);

        const q = await (await fetch(`${intakeUrl}/outpost/intake/traces?service=aws.lambda`))
          .json() as { spans: FlatSpan[] };
        const spans = q.spans.filter((s) => s.name === "aws.lambda");
        assert.equal(spans.length, 3, JSON.stringify(spans.map((s) => s.meta.request_id)));
        const [s1, s2, s3] = ["req-1", "hdr-2", "req-3"].map((id) => {
          const s = spans.find((x) => x.meta.request_id === id);
          assert.ok(s, `a span for ${id}`);
          return s;
        });

        assert.equal(s1.type, "serverless");
        assert.equal(s1.resource, "outpost-test");
        assert.equal(s1.trace_id, newTrace);
        assert.equal(s1.span_id, "1111111111111111111");
        assert.equal(s1.parent_id, "0", "a trace started here has no parent");
        assert.equal(s1.error, 1);
        assert.equal(s1.meta["error.msg"], "order 1 failed");
        assert.equal(s1.meta["error.type"], "OrderError");
        assert.equal(s1.meta["error.stack"], "OrderError: order 1 failed\n    at handler");
        assert.equal(s1.meta.cold_start, "true");
        assert.equal(s1.meta["_dd.origin"], "lambda");
        assert.equal(
          s1.meta.function_arn,
          "arn:aws:lambda:us-east-1:123456789012:function:outpost-test",
        );
        assert.equal(s1.meta.functionname, "outpost-test");
        assert.equal(s1.metrics._sampling_priority_v1, 1);
        assert.equal(s1.metrics._top_level, 1, "processed as a tracer's root span");
        assert.ok(Number(s1.duration) >= 20_000_000, `duration ${s1.duration} ns covers the 20 ms`);

        assert.equal(s2.trace_id, "4110911582297405551");
        assert.equal(s2.span_id, "2222222222222222222");
        assert.equal(s2.parent_id, "797643193680388251", "the caller in the event is the parent");
        assert.equal(s2.meta["_dd.p.tid"], "66f1a2b300000000");
        assert.equal(s2.meta.cold_start, "false");
        assert.equal(s2.meta["function_trigger.event_source"], "api-gateway");
        assert.equal(s2.meta["http.status_code"], "201");
        assert.equal(s2.error, 0);
        assert.equal(s2.priority, 2);

        assert.equal(s3.span_id, "3333333333333333333");
        assert.equal(s3.trace_id, big.headers.get("x-datadog-trace-id"));
        assert.equal(s3.meta.cold_start, "false");
      } finally {
        await api.close();
      }
    });
  });
});
