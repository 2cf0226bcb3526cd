import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeMetricPayload,
  decodeSketchPayload,
  ProtobufError,
} from "../../../src/intake/_protobuf.ts";
import { encode, MetricPayload, SketchPayload } from "./_support.ts";

const series = {
  resources: [{ type: "host", name: "edge-1" }, { type: "device", name: "sda" }],
  metric: "outpost.test.gauge",
  tags: ["env:test", "zone:a"],
  points: [{ value: 1.5, timestamp: 1_700_000_000 }, { value: -2.25, timestamp: 1_700_000_010 }],
  type: 3,
  source_type_name: "System",
  interval: 10,
  metadata: { origin: { origin_product: 10, origin_category: 11, origin_service: 12 } },
};

describe("decodeMetricPayload()", () => {
  it("keeps a string that starts with U+FEFF as sent (a tag, not a byte order mark)", () => {
    const bytes = encode(MetricPayload, {
      series: [{ metric: "m", type: 1, tags: ["\uFEFF", "\uFEFFenv:dev"], points: [{ value: 1 }] }],
    });
    assert.deepEqual(decodeMetricPayload(bytes).series[0].tags, ["\uFEFF", "\uFEFFenv:dev"]);
  });

  it("decodes every field protobufjs encodes from the spec's definition", () => {
    const bytes = encode(MetricPayload, {
      series: [series, { metric: "outpost.test.count", type: 1, points: [{ value: 3 }] }],
    });
    const { series: got } = decodeMetricPayload(bytes);
    assert.equal(got.length, 2);
    assert.deepEqual(got[0], {
      metric: "outpost.test.gauge",
      type: "gauge",
      interval: 10,
      tags: ["env:test", "zone:a"],
      resources: [{ type: "host", name: "edge-1" }, { type: "device", name: "sda" }],
      points: [{ value: 1.5, timestamp: 1_700_000_000 }, {
        value: -2.25,
        timestamp: 1_700_000_010,
      }],
      unit: "",
      source_type_name: "System",
      metadata: { origin: { origin_product: 10, origin_category: 11, origin_service: 12 } },
    });
    assert.equal(got[1].type, "count");
    assert.deepEqual(got[1].points, [{ value: 3, timestamp: 0 }]);
  });

  it("maps the current type enum: 0 unspecified, 1 count, 2 rate, 3 gauge", () => {
    const bytes = encode(MetricPayload, {
      series: [0, 1, 2, 3].map((type) => ({ metric: "m", type })),
    });
    assert.deepEqual(decodeMetricPayload(bytes).series.map((s) => s.type), [
      "unspecified",
      "count",
      "rate",
      "gauge",
    ]);
  });

  it("decodes a negative int64 timestamp", () => {
    const bytes = encode(MetricPayload, {
      series: [{ metric: "m", points: [{ value: 1, timestamp: -5 }] }],
    });
    assert.equal(decodeMetricPayload(bytes).series[0].points[0].timestamp, -5);
  });

  it("skips fields it does not know", () => {
    const known = encode(MetricPayload, { series: [{ metric: "m" }] });
    // field 15, varint 7, then field 16 length-delimited "ab"
    const unknown = new Uint8Array([0x78, 0x07, 0x82, 0x01, 0x02, 0x61, 0x62]);
    const both = new Uint8Array([...unknown, ...known]);
    assert.deepEqual(decodeMetricPayload(both).series.map((s) => s.metric), ["m"]);
  });

  it("throws ProtobufError on a truncated payload", () => {
    const bytes = encode(MetricPayload, { series: [series] });
    assert.throws(() => decodeMetricPayload(bytes.subarray(0, bytes.length - 3)), ProtobufError);
  });
});

describe("decodeSketchPayload()", () => {
  const sketch = {
    metric: "outpost.test.dist",
    host: "edge-1",
    tags: ["env:test"],
    dogsketches: [{
      ts: 1_700_000_000,
      cnt: 6,
      min: -3,
      max: 1000,
      avg: 170,
      sum: 1020,
      k: [-1300, 0, 1338, 1500],
      n: [1, 2, 2, 1],
    }],
    metadata: { origin: { origin_product: 10 } },
  };

  it("decodes packed sint32 keys and uint32 counts", () => {
    const bytes = encode(SketchPayload, { sketches: [sketch], metadata: {} });
    const got = decodeSketchPayload(bytes);
    assert.equal(got.sketches.length, 1);
    const s = got.sketches[0];
    assert.equal(s.metric, "outpost.test.dist");
    assert.equal(s.host, "edge-1");
    assert.deepEqual(s.tags, ["env:test"]);
    assert.deepEqual(s.dogsketches, [sketch.dogsketches[0]]);
    assert.deepEqual(s.metadata, {
      origin: { origin_product: 10, origin_category: 0, origin_service: 0 },
    });
    assert.deepEqual(got.metadata, {});
  });

  it("decodes unpacked repeated keys too", () => {
    // Dogsketch with k = 3 (zigzag 6) and n = 4, each as its own varint field.
    const dog = [0x38, 0x06, 0x40, 0x04];
    const sk = [0x3a, dog.length, ...dog];
    const bytes = new Uint8Array([0x0a, sk.length, ...sk]);
    const d = decodeSketchPayload(bytes).sketches[0].dogsketches[0];
    assert.deepEqual([d.k, d.n], [[3], [4]]);
  });

  it("rejects a dogsketch whose key and count lists differ in length", () => {
    const bytes = encode(SketchPayload, {
      sketches: [{ metric: "m", dogsketches: [{ k: [1, 2], n: [1] }] }],
    });
    assert.throws(() => decodeSketchPayload(bytes), /2 keys but 1 counts/);
  });

  it("reads the CommonMetadata footer", () => {
    const bytes = encode(SketchPayload, {
      sketches: [],
      metadata: { agent_version: "7.60.0", current_epoch: 12.5 },
    });
    assert.deepEqual(decodeSketchPayload(bytes).metadata, {
      agent_version: "7.60.0",
      current_epoch: 12.5,
    });
  });
});
