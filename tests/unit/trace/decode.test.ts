import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeClientStats,
  decodeTracerPayloadV07,
  decodeTracesJson,
  decodeTracesV04,
  decodeTracesV05,
  TraceDecodeError,
} from "../../../src/trace/mod.ts";
import { MsgpackWriter } from "../../../src/trace/_msgpack_writer.ts";
import { span, v04Body, webTrace } from "./_helpers.ts";

const MAX_U64 = (1n << 64n) - 1n;

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TraceDecodeError, `expected a TraceDecodeError, got ${e}`);
    assert.ok(e.message.length > 0);
    return e.reason;
  }
  assert.fail("expected the body to be refused");
}

describe("decodeTracesV04()", () => {
  it("decodes dd-trace-shaped traces exactly, ids near 2^64 included, skipping unknown keys", () => {
    const trace = webTrace(MAX_U64 / 100n, 3, 1_700_000_000_123_456_789n);
    trace[0].spanId = MAX_U64;
    trace[1].parentId = MAX_U64;
    const [decoded] = decodeTracesV04(v04Body([trace]));
    assert.equal(decoded.length, 3);
    assert.deepEqual(decoded, trace);
    assert.equal(decoded[0].spanId, MAX_U64);
  });

  it("accepts the number widths tracers use and nil values", () => {
    const w = new MsgpackWriter();
    w.array(1).array(1).map(9);
    w.str("trace_id").uint(7); // positive fixint
    w.str("span_id").uint(300); // uint16
    w.str("parent_id").nil();
    w.str("start").float64(1.7e18); // Python may send floats
    w.str("duration").int(-1); // negative fixint
    w.str("error").float64(1);
    w.str("service").nil();
    w.str("meta").map(4).str("a").nil().str("b").str("x").str("n").float64(1.5).str("t").bool(true);
    w.str("metrics").map(3).str("i").uint(5).str("f").float32(0.5).str("n").int(-40);
    const [[s]] = decodeTracesV04(w.finish());
    assert.equal(s.traceId, 7n);
    assert.equal(s.spanId, 300n);
    assert.equal(s.parentId, 0n);
    assert.equal(s.start, 1_700_000_000_000_000_000n);
    assert.equal(s.duration, -1n);
    assert.equal(s.error, 1);
    assert.equal(s.service, "");
    assert.deepEqual(s.meta, { a: "", b: "x", n: "1.5", t: "true" });
    assert.deepEqual(s.metrics, { i: 5, f: 0.5, n: -40 });
  });

  it("decodes span links, span events and meta_struct", () => {
    const w = new MsgpackWriter();
    w.array(1).array(1).map(5);
    w.str("trace_id").uint(1).str("span_id").uint(2);
    w.str("span_links").array(1).map(6)
      .str("trace_id").uint(MAX_U64).str("trace_id_high").uint(5).str("span_id").uint(9)
      .str("attributes").map(1).str("k").str("v").str("tracestate").str("dd=s:1").str("flags").uint(
        0x80000001,
      );
    w.str("span_events").array(1).map(3).str("time_unix_nano").uint(1_700_000_000_000_000_001n)
      .str("name").str("exception").str("attributes").map(3)
      .str("message").map(2).str("type").uint(0).str("string_value").str("boom")
      .str("count").map(2).str("type").uint(2).str("int_value").int64(-3)
      .str("list").map(2).str("type").uint(4).str("array_value").map(1).str("values").array(2)
      .map(2).str("type").uint(1).str("bool_value").bool(true)
      .map(2).str("type").uint(3).str("double_value").float64(1.5);
    w.str("meta_struct").map(1).str("appsec").bin(new Uint8Array([1, 2, 3]));
    const [[s]] = decodeTracesV04(w.finish());
    assert.deepEqual(s.spanLinks, [{
      traceId: MAX_U64,
      traceIdHigh: 5n,
      spanId: 9n,
      attributes: { k: "v" },
      tracestate: "dd=s:1",
      flags: 0x80000001,
    }]);
    assert.equal(s.spanEvents[0].timeUnixNano, 1_700_000_000_000_000_001n);
    assert.deepEqual(s.spanEvents[0].attributes, {
      message: { type: 0, value: "boom" },
      count: { type: 2, value: -3n },
      list: { type: 4, value: [{ type: 1, value: true }, { type: 3, value: 1.5 }] },
    });
    assert.deepEqual([...s.metaStruct.appsec], [1, 2, 3]);
  });

  it("refuses truncated bodies, wrong types and headers over the limit with stable reasons", () => {
    const body = v04Body([webTrace(1n, 2, 1_700_000_000_000_000_000n)]);
    for (const cut of [1, 10, body.length >> 1, body.length - 1]) {
      assert.equal(reason(() => decodeTracesV04(body.subarray(0, cut))), "unexpected-eof");
    }
    assert.equal(reason(() => decodeTracesV04(new Uint8Array([0x91, 0xa1, 0x61]))), "msgpack-type");
    assert.equal(reason(() => decodeTracesV04(new Uint8Array([0xdd, 0x02, 0, 0, 0]))), "too-large");
    assert.equal(reason(() => decodeTracesV04(new Uint8Array([0x90, 0x90]))), "payload-shape");
  });
});

/** A v0.5 body: `[dict, [[span arrays]]]`. */
function v05(dict: string[], spans: Array<Array<(w: MsgpackWriter) => void>>): Uint8Array {
  const w = new MsgpackWriter();
  w.array(2).array(dict.length);
  for (const s of dict) w.str(s);
  w.array(1).array(spans.length);
  for (const fields of spans) {
    w.array(fields.length);
    for (const f of fields) f(w);
  }
  return w.finish();
}

const u = (n: number | bigint) => (w: MsgpackWriter) => void w.uint(n);

describe("decodeTracesV05()", () => {
  it("resolves the dictionary strings of the 12-element spans", () => {
    const body = v05(["svc", "op", "res", "env", "prod", "http", "_sample_rate"], [[
      u(0),
      u(1),
      u(2),
      u(MAX_U64),
      u(2),
      u(0),
      (w) => void w.int64(1_700_000_000_000_000_000n),
      u(50),
      u(1),
      (w) => void w.map(1).uint(3).uint(4),
      (w) => void w.map(1).uint(6).float64(0.5),
      u(5),
    ]]);
    const [[s]] = decodeTracesV05(body);
    assert.deepEqual(
      { ...s },
      {
        ...span({
          service: "svc",
          name: "op",
          resource: "res",
          traceId: MAX_U64,
          spanId: 2n,
          start: 1_700_000_000_000_000_000n,
          duration: 50n,
          error: 1,
          meta: { env: "prod" },
          metrics: { _sample_rate: 0.5 },
          type: "http",
        }),
      },
    );
  });

  it("refuses an index outside the dictionary, a span of the wrong size and a huge header", () => {
    const out = v05(["a"], [[
      u(0),
      u(5),
      u(0),
      u(1),
      u(1),
      u(0),
      u(0),
      u(0),
      u(0),
      (w) => void w.map(0),
      (w) => void w.map(0),
      u(0),
    ]]);
    assert.equal(reason(() => decodeTracesV05(out)), "index-out-of-range");
    assert.equal(reason(() => decodeTracesV05(v05(["a"], [[u(0), u(0)]]))), "payload-shape");
    const huge = new Uint8Array([0x92, 0xdd, 0x01, 0x7d, 0x78, 0x41]); // dictionary of 25,000,001
    assert.equal(reason(() => decodeTracesV05(huge)), "too-large");
    assert.equal(reason(() => decodeTracesV05(new Uint8Array([0x91, 0x90]))), "payload-shape");
  });
});

describe("decodeTracerPayloadV07()", () => {
  it("decodes the payload, its chunks and their spans", () => {
    const w = new MsgpackWriter();
    w.map(5).str("container_id").str("c1").str("language_name").str("python").str("env").str(
      "prod",
    );
    w.str("tags").map(1).str("_dd.apm_mode").str("edge");
    w.str("chunks").array(1).map(4).str("priority").int(2).str("origin").str("lambda")
      .str("dropped_trace").bool(false).str("spans").array(1).map(2).str("trace_id").uint(3).str(
        "span_id",
      ).uint(4);
    const p = decodeTracerPayloadV07(w.finish());
    assert.equal(p.containerID, "c1");
    assert.equal(p.languageName, "python");
    assert.equal(p.env, "prod");
    assert.deepEqual(p.tags, { "_dd.apm_mode": "edge" });
    assert.equal(p.chunks[0].priority, 2);
    assert.equal(p.chunks[0].origin, "lambda");
    assert.equal(p.chunks[0].spans[0].spanId, 4n);
  });
});

describe("decodeTracesJson()", () => {
  it("keeps ids above 2^53 exact and reads the other fields", () => {
    const text =
      `[[{"trace_id": 18446744073709551615, "span_id":9007199254740993, "parent_id": 0, "start": 1700000000123456789, "duration": 12, "error": 1, "service": "s", "name": "n", "meta": {"k": "v"}, "metrics": {"m": 1.5}}]]`;
    const [[s]] = decodeTracesJson(text);
    assert.equal(s.traceId, MAX_U64);
    assert.equal(s.spanId, 9007199254740993n);
    assert.equal(s.start, 1700000000123456789n);
    assert.equal(s.error, 1);
    assert.deepEqual(s.meta, { k: "v" });
    assert.deepEqual(s.metrics, { m: 1.5 });
  });

  it("refuses text that is not an array of arrays of spans", () => {
    assert.equal(reason(() => decodeTracesJson("[[{")), "json");
    assert.equal(reason(() => decodeTracesJson("{}")), "json");
    assert.equal(reason(() => decodeTracesJson("[1]")), "json");
    assert.equal(reason(() => decodeTracesJson("[[1]]")), "json");
  });
});

describe("decodeClientStats()", () => {
  it("reads the Go field names of ClientStatsPayload", () => {
    const w = new MsgpackWriter();
    w.map(5).str("Hostname").str("h").str("Env").str("prod").str("Lang").str("go").str("Sequence")
      .uint(7);
    w.str("Stats").array(1).map(3).str("Start").uint(1_700_000_000_000_000_000n).str("Duration")
      .uint(10_000_000_000n);
    w.str("Stats").array(1).map(8).str("Service").str("s").str("Name").str("n").str("Resource").str(
      "r",
    )
      .str("HTTPStatusCode").uint(200).str("Hits").uint(10).str("Errors").uint(1).str("Duration")
      .uint(1234)
      .str("OkSummary").bin(new Uint8Array([9]));
    const p = decodeClientStats(w.finish());
    assert.equal(p.hostname, "h");
    assert.equal(p.env, "prod");
    assert.equal(p.sequence, 7);
    assert.equal(p.stats[0].start, 1_700_000_000_000_000_000n);
    const g = p.stats[0].stats[0];
    assert.deepEqual([
      g.service,
      g.name,
      g.resource,
      g.httpStatusCode,
      g.hits,
      g.errors,
      g.duration,
    ], ["s", "n", "r", 200, 10, 1, 1234]);
    assert.deepEqual([...g.okSummary], [9]);
  });
});
