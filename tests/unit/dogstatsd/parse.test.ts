import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  DogStatsDParser,
  type ParsedItems,
  type ParserOptions,
} from "../../../src/dogstatsd/mod.ts";
import { MAX_NAME_BYTES, MAX_TAG_BYTES } from "../../../src/dogstatsd/_parse.ts";
import { DEFAULT_MAX_TAGS } from "../../../src/config/keys/dogstatsd.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import type { MetricSample } from "../../../src/metrics/model.ts";

const enc = new TextEncoder();

function parse(packet: string | Uint8Array, options: ParserOptions = {}, eolRequired = false) {
  const registry = new Registry();
  const parser = new DogStatsDParser(registry, options);
  const out: ParsedItems = { samples: [], events: [], serviceChecks: [] };
  parser.parsePacket(typeof packet === "string" ? enc.encode(packet) : packet, out, eolRequired);
  const counters = registry.snapshot().dogstatsd as Record<string, any>;
  return { ...out, counters, parser };
}

function sample(over: Partial<MetricSample>): MetricSample {
  return {
    name: "m",
    value: 1,
    rawValue: undefined,
    type: "gauge",
    tags: [],
    host: "",
    sampleRate: 1,
    timestamp: 0,
    unit: undefined,
    ...over,
  };
}

describe("DogStatsDParser metrics", () => {
  test("parsePacket() reads every metric type", () => {
    const { samples, counters } = parse(
      "g.m:1.5|g\nc.m:2|c\nh.m:3|h\nms.m:4|ms\nd.m:5|d\ns.m:user42|s\n",
    );
    assert.deepEqual(samples, [
      sample({ name: "g.m", value: 1.5, type: "gauge" }),
      sample({ name: "c.m", value: 2, type: "counter" }),
      sample({ name: "h.m", value: 3, type: "histogram" }),
      sample({ name: "ms.m", value: 4, type: "histogram", unit: "millisecond" }),
      sample({ name: "d.m", value: 5, type: "distribution" }),
      sample({ name: "s.m", value: NaN, rawValue: "user42", type: "set" }),
    ]);
    assert.equal(counters.MetricPackets, 6);
    assert.equal(counters.MetricParseErrors, 0);
  });

  test("parsePacket() reads rate, tags and timestamp in any order", () => {
    const { samples } = parse("a:1|c|#x:1,y|@0.5|T1700000000\nb:2|g|T1700000001|@0.25|#z");
    assert.deepEqual(samples, [
      sample({
        name: "a",
        value: 1,
        type: "counter",
        tags: ["x:1", "y"],
        sampleRate: 0.5,
        timestamp: 1700000000,
      }),
      sample({ name: "b", value: 2, tags: ["z"], sampleRate: 0.25, timestamp: 1700000001 }),
    ]);
  });

  test("parsePacket() ignores |T when the no-aggregation pipeline is off, even a bad one", () => {
    const { samples, counters } = parse("a:1|g|T1700000000\nb:1|g|Tnope", {
      readTimestamps: false,
    });
    assert.deepEqual(samples.map((s) => s.timestamp), [0, 0]);
    assert.equal(counters.MetricParseErrors, 0);
  });

  test("parsePacket() ignores c:, e:, card: and unknown fields", () => {
    const { samples } = parse("a:1|g|c:ci-abc,in-12|e:it-false,cn-x|card:high|zzz|#t");
    assert.deepEqual(samples, [sample({ name: "a", tags: ["t"] })]);
  });

  test("parsePacket() splits multi-value packets and skips empty items", () => {
    const { samples, counters } = parse("a:1:2::3.5|h|@0.5|#t");
    assert.deepEqual(samples.map((s) => s.value), [1, 2, 3.5]);
    assert.ok(samples.every((s) => s.type === "histogram" && s.sampleRate === 0.5));
    assert.deepEqual(samples[2].tags, ["t"]);
    assert.equal(counters.MetricPackets, 1);
  });

  test("parsePacket() keeps a set's whole raw value, colons included", () => {
    const { samples } = parse("s:a:b::c|s");
    assert.equal(samples.length, 1);
    assert.equal(samples[0].rawValue, "a:b::c");
  });

  test("parsePacket() reads the float syntax Go's ParseFloat accepts", () => {
    const { samples, counters } = parse("a:1e3|g\na:-2.5|g\na:+.5|g\na:7.|g\na:1E-2|g\na:0.1|g");
    assert.deepEqual(samples.map((s) => s.value), [1000, -2.5, 0.5, 7, 0.01, 0.1]);
    assert.equal(counters.MetricParseErrors, 0);
  });

  test("parsePacket() refuses NaN and infinite values, which Go parses but nothing can send", () => {
    const { samples, counters } = parse("a:NaN|g\na:Inf|c\na:-infinity|d\na:1:2:nan|h\nok:1|g");
    assert.deepEqual(samples.map((s) => s.name), ["ok"]);
    assert.equal(counters.MetricParseErrors, 4);
    assert.deepEqual(counters.ParseErrorsByReason, { non_finite_value: 4 });
  });

  test("parsePacket() reads a rate outside (0, 1] as unsampled, as the agent's sketches do", () => {
    const { samples, counters } = parse("a:1|c|@0\na:1|c|@-0.5\na:1|c|@2\na:1|c|@nan\na:1|c|@inf");
    assert.deepEqual(samples.map((s) => s.sampleRate), [1, 1, 1, 1, 1]);
    assert.equal(counters.MetricParseErrors, 0);
  });

  test("parsePacket() keeps the smallest sample rate, 1e-6, and refuses a smaller one", () => {
    const { samples, counters } = parse("a:1|c|@0.000001\nx:1|d|@1e-300\nb:1|h|@0.0000009");
    assert.deepEqual(samples.map((s) => [s.name, s.sampleRate]), [["a", 1e-6]]);
    assert.deepEqual(counters.ParseErrorsByReason, { sample_rate_too_small: 2 });
  });

  test("parsePacket() keeps names and tags of 1024 bytes and refuses longer ones", () => {
    const name = "n".repeat(MAX_NAME_BYTES);
    const tag = "t".repeat(MAX_TAG_BYTES);
    const { samples, counters } = parse(
      `${name}:1|g|#${tag}\n${name}x:1|g\nb:1|g|#a,${tag}x\n_sc|${name}x|0\n_e{1,1}:a|b|#${tag}x`,
    );
    assert.deepEqual(samples.map((s) => [s.name.length, s.tags[0].length]), [[1024, 1024]]);
    assert.deepEqual(counters.ParseErrorsByReason, { name_too_long: 2, tag_too_long: 2 });
    assert.equal(counters.EventParseErrors, 1);
    assert.equal(counters.ServiceCheckParseErrors, 1);
  });

  test("parsePacket() refuses a line with more tags than maxTags, whatever its kind", () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `t${i}`).join(",");
    const lines = [
      `a:1|g|#${tags(3)},host:h,dd.internal.card:low`,
      `b:1|g|#${tags(4)}`,
      `_e{1,1}:a|b|#${tags(4)}`,
      `_sc|c|0|#${tags(4)}`,
    ].join("\n");
    const { samples, counters } = parse(lines, { maxTags: 3, extraTags: ["x", "y"] });
    // host: and internal tags do not count, nor do the agent's own dogstatsd_tags.
    assert.deepEqual(samples.map((s) => s.tags), [["t0", "t1", "t2", "x", "y"]]);
    assert.deepEqual(counters.ParseErrorsByReason, { too_many_tags: 3 });
    assert.equal(parse(`b:1|g|#${tags(5000)}`, { maxTags: 0 }).samples[0].tags.length, 5000);
    const byDefault = parse(
      `a:1|g|#${tags(DEFAULT_MAX_TAGS)}\nb:1|g|#${tags(DEFAULT_MAX_TAGS + 1)}`,
    );
    assert.deepEqual(byDefault.samples.map((s) => s.name), ["a"]);
    assert.throws(() => parse("a:1|g", { maxTags: -1 }), /maxTags -1: expected an integer >= 0/);
  });

  test("parsePacket() takes the host from a host: tag and drops internal tags", () => {
    const { samples } = parse(
      "a:1|g|#env:prod,host:web-1,dd.internal.entity_id:pod,dd.internal.card:low,dd.internal.jmx_check_name:j",
      { defaultHostname: "agent-host" },
    );
    assert.deepEqual(samples, [sample({ name: "a", tags: ["env:prod"], host: "web-1" })]);
    const none = parse("a:1|g|#env:prod", { defaultHostname: "agent-host" });
    assert.equal(none.samples[0].host, "agent-host");
  });

  test("parsePacket() keeps empty and duplicate tags as the agent does", () => {
    const { samples } = parse("a:1|g|#x,,x,");
    assert.deepEqual(samples[0].tags, ["x", "", "x", ""]);
  });

  test("parsePacket() appends dogstatsd_tags to samples, events and service checks", () => {
    const { samples, events, serviceChecks } = parse(
      "a:1|g|#t\nb:1|g\n_e{1,1}:T|x\n_sc|c|0",
      { extraTags: ["dc:eu"] },
    );
    assert.deepEqual(samples.map((s) => s.tags), [["t", "dc:eu"], ["dc:eu"]]);
    assert.deepEqual(events[0].tags, ["dc:eu"]);
    assert.deepEqual(serviceChecks[0].tags, ["dc:eu"]);
  });

  test("parsePacket() prefixes the namespace except on excluded names", () => {
    const { samples } = parse("a:1|g\ndatadog.agent.x:1|g\napp.b:1|g\njvm.heap:1|g", {
      namespace: "app",
    });
    assert.deepEqual(samples.map((s) => s.name), ["app.a", "datadog.agent.x", "app.b", "jvm.heap"]);
  });

  test("parsePacket() drops blocklisted names, exactly or by prefix, and counts them", () => {
    const exact = parse("a.b:1|g\na.bc:1:2|g\nz:1|g", { blocklist: ["a.bc"] });
    assert.deepEqual(exact.samples.map((s) => s.name), ["a.b", "z"]);
    assert.equal(exact.counters.MetricsBlocklisted, 2);
    assert.equal(exact.counters.MetricPackets, 3);
    const prefix = parse("a.b:1|g\na.bc:1|g\nz:1|s", {
      blocklist: ["a.b", "z"],
      blocklistMatchPrefix: true,
    });
    assert.deepEqual(prefix.samples, []);
    assert.equal(prefix.counters.MetricsBlocklisted, 3);
  });

  test("parsePacket() matches the blocklist against the namespaced name", () => {
    const { samples } = parse("a:1|g\nb:1|g", { namespace: "ns", blocklist: ["ns.a"] });
    assert.deepEqual(samples.map((s) => s.name), ["ns.b"]);
  });

  test("parsePacket() decodes UTF-8 names and tags", () => {
    const { samples } = parse("température:21|g|#lieu:café");
    assert.equal(samples[0].name, "température");
    assert.deepEqual(samples[0].tags, ["lieu:café"]);
  });

  const malformed: Array<[string, string, string]> = [
    ["no pipe", "a:1", "no_pipe"],
    ["no colon", "a|g", "no_colon"],
    ["empty name", ":1|g", "empty_name"],
    ["empty value", "a:|g", "empty_value"],
    ["unknown type", "a:1|x", "unknown_type"],
    ["empty type", "a:1||#t", "unknown_type"],
    ["two-letter unknown type", "a:1|mx", "unknown_type"],
    ["value not a float", "a:1z|g", "bad_value"],
    ["one bad value of several", "a:1:x:3|g", "bad_value"],
    ["overflowing value", "a:1e400|g", "bad_value"],
    ["value of 400 digits", `a:${"9".repeat(400)}|g`, "bad_value"],
    ["hex value", "a:0x10|g", "bad_value"],
    ["only separators as values", "a:::|g", "no_values"],
    ["bad sample rate", "a:1|c|@fast", "bad_sample_rate"],
    ["empty sample rate", "a:1|c|@", "bad_sample_rate"],
    ["timestamp not an integer", "a:1|g|T12.5", "bad_timestamp"],
    ["timestamp zero", "a:1|g|T0", "bad_timestamp"],
    ["negative timestamp", "a:1|g|T-5", "bad_timestamp"],
    ["empty timestamp", "a:1|g|T", "bad_timestamp"],
    ["timestamp of 385 nines", `ts.inf:1|g|T${"9".repeat(385)}`, "timestamp_out_of_range"],
    ["timestamp in milliseconds", "a:1|g|T1700000000000", "timestamp_out_of_range"],
    ["timestamp past the year 3000", "a:1|c|T32503680001", "timestamp_out_of_range"],
    ["gibberish", "hello world", "no_pipe"],
  ];
  for (const [what, line, code] of malformed) {
    test(`parsePacket() rejects a metric with ${what} and counts it as ${code}`, () => {
      const { samples, counters } = parse(`${line}\nok:1|g\n`);
      assert.deepEqual(samples.map((s) => s.name), ["ok"]);
      assert.equal(counters.MetricParseErrors, 1);
      assert.equal(counters.MetricPackets, 1);
      assert.deepEqual(counters.ParseErrorsByReason, { [code]: 1 });
      assert.equal(counters.RecentParseErrors[0].message, line.slice(0, 64));
    });
  }
});

describe("DogStatsDParser framing", () => {
  test("parsePacket() trims \\r, skips empty lines and reads a last line without \\n", () => {
    const { samples, counters } = parse("a:1|g\r\n\n\r\nb:2|g");
    assert.deepEqual(samples.map((s) => [s.name, s.value]), [["a", 1], ["b", 2]]);
    assert.equal(counters.MetricParseErrors, 0);
  });

  test("parsePacket() with eol required drops an unterminated last message and counts it", () => {
    const { samples, counters } = parse("a:1|g\nb:2|g", {}, true);
    assert.deepEqual(samples.map((s) => s.name), ["a"]);
    assert.equal(counters.UnterminatedMetricErrors, 1);
    assert.equal(counters.MetricParseErrors, 0);
    const terminated = parse("a:1|g\nb:2|g\n", {}, true);
    assert.equal(terminated.samples.length, 2);
    assert.equal(terminated.counters.UnterminatedMetricErrors, 0);
  });

  test("parsePacket() handles a mix of metrics, events and service checks in one packet", () => {
    const { samples, events, serviceChecks } = parse("a:1|c\n_e{2,3}:ti|txt\n_sc|chk|1\nb:2|g");
    assert.equal(samples.length, 2);
    assert.equal(events.length, 1);
    assert.equal(serviceChecks.length, 1);
  });

  test("recentErrors keeps only the latest errors and the first bytes of each", () => {
    const long = "x".repeat(200);
    const lines = Array.from({ length: 20 }, (_, i) => `bad${i}${long}`).join("\n");
    const { parser } = parse(lines);
    const recent = parser.recentErrors.list();
    assert.equal(recent.length, 16);
    assert.ok(recent[0].message.startsWith("bad4x"));
    assert.ok(recent[15].message.startsWith("bad19x"));
    assert.equal(recent[15].message.length, 64);
    assert.equal(recent[15].kind, "metric");
  });
});

describe("DogStatsDParser events", () => {
  test("parsePacket() reads an event with every optional field", () => {
    const { events, counters } = parse(
      "_e{5,16}:Title|line\\nwith |pipe|d:1700000000|h:db-1|k:agg|p:low|s:jenkins|t:error|#a,b:c",
    );
    assert.deepEqual(events, [{
      title: "Title",
      text: "line\nwith |pipe",
      timestamp: 1700000000,
      host: "db-1",
      priority: "low",
      alertType: "error",
      aggregationKey: "agg",
      sourceTypeName: "jenkins",
      eventType: "",
      tags: ["a", "b:c"],
    }]);
    assert.equal(counters.EventPackets, 1);
  });

  test("parsePacket() gives an event its defaults and the host: tag when h: is absent", () => {
    const { events } = parse("_e{1,0}:T||#host:web,x", { defaultHostname: "me" });
    assert.deepEqual(events[0], {
      title: "T",
      text: "",
      timestamp: 0,
      host: "web",
      priority: "normal",
      alertType: "info",
      aggregationKey: "",
      sourceTypeName: "",
      eventType: "",
      tags: ["x"],
    });
  });

  test("parsePacket() measures event lengths in bytes", () => {
    const { events } = parse("_e{6,6}:été!|héhé|t:success");
    assert.equal(events[0].title, "été!");
    assert.equal(events[0].text, "héhé");
    assert.equal(events[0].alertType, "success");
  });

  test("parsePacket() keeps an event whose optional fields are bad, without those fields", () => {
    const { events, counters } = parse("_e{1,1}:a|b|p:urgent|t:fatal|d:soon|zz:1");
    assert.equal(events.length, 1);
    assert.equal(events[0].priority, "normal");
    assert.equal(events[0].alertType, "info");
    assert.equal(events[0].timestamp, 0);
    assert.equal(counters.EventParseErrors, 0);
  });

  const malformed: Array<[string, string, string]> = [
    ["no colon", "_e{1,1}", "no_event_colon"],
    ["a short header", "_e{1}:a", "bad_event_header"],
    ["no comma in the header", "_e{12}:abcdefghijkl", "bad_event_header"],
    ["a non-numeric title length", "_e{x,1}:a|b", "bad_event_header"],
    ["a negative text length", "_e{1,-1}:a|b", "bad_event_header"],
    ["a title length of 0", "_e{0,1}:|b", "empty_event_title"],
    ["a body shorter than the lengths", "_e{5,5}:ab|cd", "short_event_body"],
    ["huge lengths", `_e{${"9".repeat(400)},1}:a|b`, "short_event_body"],
    ["a negative timestamp", "_e{1,1}:a|b|d:-5", "timestamp_out_of_range"],
    ["a timestamp of 385 nines", `_e{1,1}:a|b|d:${"9".repeat(385)}`, "timestamp_out_of_range"],
  ];
  for (const [what, line, code] of malformed) {
    test(`parsePacket() rejects an event with ${what} and counts it as ${code}`, () => {
      const { events, counters } = parse(`${line}\n_e{1,1}:o|k`);
      assert.deepEqual(events.map((e) => e.title), ["o"]);
      assert.equal(counters.EventParseErrors, 1);
      assert.equal(counters.EventPackets, 1);
      assert.equal(counters.MetricParseErrors, 0);
      assert.deepEqual(counters.ParseErrorsByReason, { [code]: 1 });
    });
  }
});

describe("DogStatsDParser service checks", () => {
  test("parsePacket() reads a service check with every optional field", () => {
    const { serviceChecks, counters } = parse(
      "_sc|db.up|2|d:1700000000|h:db-1|#env:prod,host:ignored|m:disk full",
    );
    assert.deepEqual(serviceChecks, [{
      name: "db.up",
      status: 2,
      timestamp: 1700000000,
      host: "db-1",
      message: "disk full",
      tags: ["env:prod"],
    }]);
    assert.equal(counters.ServiceCheckPackets, 1);
  });

  test("parsePacket() reads each status and takes the host: tag without h:", () => {
    const { serviceChecks } = parse("_sc|a|0\n_sc|a|1\n_sc|a|2\n_sc|a|3|#host:h1|d:nope", {
      defaultHostname: "me",
    });
    assert.deepEqual(serviceChecks.map((c) => [c.status, c.host]), [[0, "me"], [1, "me"], [
      2,
      "me",
    ], [3, "h1"]]);
    assert.equal(serviceChecks[3].timestamp, 0);
  });

  const malformed: Array<[string, string, string]> = [
    ["one pipe only", "_sc|name", "short_service_check"],
    ["no pipe", "_sc", "short_service_check"],
    ["an empty name", "_sc||0", "empty_service_check_name"],
    ["an unknown status", "_sc|a|4", "bad_service_check_status"],
    ["a wordy status", "_sc|a|ok", "bad_service_check_status"],
    ["a signed status", "_sc|a|+1", "bad_service_check_status"],
    ["an empty status", "_sc|a||m:x", "bad_service_check_status"],
    ["a negative timestamp", "_sc|a|0|d:-1", "timestamp_out_of_range"],
    ["a timestamp in milliseconds", "_sc|a|0|d:1700000000000", "timestamp_out_of_range"],
  ];
  for (const [what, line, code] of malformed) {
    test(`parsePacket() rejects a service check with ${what} and counts it as ${code}`, () => {
      const { serviceChecks, counters } = parse(`${line}\n_sc|ok|0`);
      assert.deepEqual(serviceChecks.map((c) => c.name), ["ok"]);
      assert.equal(counters.ServiceCheckParseErrors, 1);
      assert.equal(counters.ServiceCheckPackets, 1);
      assert.deepEqual(counters.ParseErrorsByReason, { [code]: 1 });
    });
  }
});
