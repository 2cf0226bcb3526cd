/** The invocation lifecycle without the daemon: span fields, error headers, cold start, the library rule. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../../../src/log/mod.ts";
import { Lifecycle } from "../../../src/serverless/mod.ts";
import { priorityByRate } from "../../../src/serverless/_lifecycle.ts";
import type { TracerPayload } from "../../../src/trace/mod.ts";

const log = createLogger({ level: "off" }).for("lambda");
const utf8 = (s: string) => new TextEncoder().encode(s);

function lifecycle(
  options: { service?: string; rates?: Record<string, number>; warm?: boolean } = {},
) {
  const sent: TracerPayload[] = [];
  let now = 1_700_000_000_000_000_000n;
  const l = new Lifecycle({
    functionName: "Checkout",
    service: options.service,
    rates: options.rates ? () => options.rates! : undefined,
    sink: (p) => sent.push(p),
    warm: options.warm,
    log,
    nowNs: () => (now += 5_000_000n),
  });
  return { l, sent };
}

describe("Lifecycle", () => {
  it("after a restart in a sandbox that had its cold start (warm), no invocation is one", () => {
    const { l, sent } = lifecycle({ warm: true });
    l.invoked("req-9", "arn:aws:lambda:eu-west-1:123456789012:function:Checkout");
    assert.equal(l.coldStart, false);
    assert.equal(l.isColdStart("req-9"), false);
    l.start(utf8("{}"), null);
    const span = l.end(utf8("{}"), new Headers(), null)!;
    assert.equal(sent.length, 1);
    assert.equal(span.meta.cold_start, "false");
  });

  it("makes the aws.lambda span with the Lambda tags, on the first invocation a cold start", () => {
    const { l, sent } = lifecycle();
    l.invoked("req-1", "arn:aws:lambda:eu-west-1:123456789012:function:Checkout");
    assert.equal(l.coldStart, true);
    l.start(utf8("{}"), null);
    const span = l.end(utf8('{"statusCode":502}'), new Headers(), null)!;
    assert.equal(sent.length, 1);
    assert.equal(sent[0].chunks[0].spans[0], span);
    assert.equal(sent[0].chunks[0].origin, "lambda");
    assert.equal(sent[0].chunks[0].priority, 1);
    assert.equal(span.name, "aws.lambda");
    assert.equal(span.service, "aws.lambda");
    assert.equal(span.resource, "Checkout");
    assert.equal(span.type, "serverless");
    assert.equal(span.duration, 5_000_000n);
    assert.equal(span.error, 1, "a 5xx response is an error");
    assert.deepEqual(span.meta, {
      request_id: "req-1",
      cold_start: "true",
      functionname: "checkout",
      resource_names: "Checkout",
      "span.kind": "server",
      "_dd.origin": "lambda",
      function_arn: "arn:aws:lambda:eu-west-1:123456789012:function:checkout",
      "http.status_code": "502",
    });

    l.invoked("req-2", "arn:aws:lambda:eu-west-1:123456789012:function:Checkout");
    assert.equal(l.coldStart, false);
    assert.equal(l.isColdStart("req-1"), true, "still known once the next invocation began");
    assert.equal(l.isColdStart("req-2"), false);
    l.start(null, "hdr-2");
    const warm = l.end(null, new Headers(), null)!;
    assert.equal(warm.meta.cold_start, "false");
    assert.equal(warm.meta.request_id, "hdr-2", "the tracer's request id header wins");
    assert.equal(warm.error, 0);
  });

  it("reads the error headers, base64 or not, and the tracer's _dd.p tags", () => {
    const { l } = lifecycle({ service: "shop" });
    l.start(utf8("not json"), "r");
    const span = l.end(
      utf8(""),
      new Headers({
        "x-datadog-invocation-error-msg": btoa("boom"),
        "x-datadog-invocation-error-type": "TypeError", // not base64: kept as sent
        "x-datadog-tags": "_dd.p.tid=0123456789abcdef,_dd.p.dm=-1,foo=bar",
        "x-datadog-sampling-priority": "2",
      }),
      null,
    )!;
    assert.equal(span.service, "shop");
    assert.equal(span.error, 1, "an error message alone marks the error");
    assert.equal(span.meta["error.msg"], "boom");
    assert.equal(span.meta["error.type"], "TypeError");
    assert.equal(span.meta["_dd.p.tid"], "0123456789abcdef");
    assert.equal(span.meta["_dd.p.dm"], "-1");
    assert.equal(span.meta.foo, undefined);
    assert.equal(span.metrics._sampling_priority_v1, 1, "the priority decided at start stays");
  });

  it("decides a new trace's priority with the agent's rate, alike for one trace id", () => {
    assert.equal(priorityByRate(42n, 1), 1);
    assert.equal(priorityByRate(42n, 0), 0);
    const ids = Array.from({ length: 2000 }, (_, i) => BigInt(i + 1) * 7919n);
    const kept = ids.filter((id) => priorityByRate(id, 0.25) === 1).length;
    assert.ok(kept > 400 && kept < 600, `${kept} of 2000 kept at 0.25`);
    const { l } = lifecycle({ rates: { "service:aws.lambda,env:none": 0, "service:,env:": 1 } });
    assert.equal(l.start(null, "r")["x-datadog-sampling-priority"], "0");
  });

  it("makes no span after /lambda/hello (the library makes its own) or without a start", () => {
    const { l, sent } = lifecycle();
    assert.equal(l.end(null, new Headers(), "r"), null, "end without start");
    assert.deepEqual(l.traceContext(), {}, "no context between invocations");
    l.libraryDetected();
    l.start(null, "r");
    assert.equal(l.end(null, new Headers(), "r"), null);
    assert.equal(sent.length, 0);
  });
});
