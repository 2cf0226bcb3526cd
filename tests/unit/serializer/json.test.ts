import { test } from "node:test";
import assert from "node:assert/strict";
import type { Event, ServiceCheck } from "../../../src/metrics/model.ts";
import { decodeJson } from "./_decode.ts";
import { makeSerializer, NOW, serie } from "./_fixtures.ts";

const V1 = { use_v2_api: { series: false } };

test("seriesPayloads() with use_v2_api.series false writes /api/v1/series JSON field by field", () => {
  const { serializer } = makeSerializer(V1);
  const payloads = serializer.seriesPayloads([
    serie("disk.used", {
      tags: ["device:sda1", "env:prod"],
      points: [[1_700_000_000, 1.5], [1_700_000_010, 2]],
      type: "gauge",
    }),
    serie("checks.rate", { type: "rate", sourceTypeName: "System", interval: 15, host: "" }),
  ]);
  assert.equal(payloads.length, 1);
  const [p] = payloads;
  assert.equal(p.route, "/api/v1/series");
  assert.deepEqual(p.headers, { "Content-Type": "application/json", "Content-Encoding": "zstd" });
  const body = decodeJson(p);
  assert.deepEqual(Object.keys(body), ["series"]);
  const [disk, rate] = body.series;
  assert.deepEqual(Object.keys(disk), [
    "metric",
    "points",
    "tags",
    "host",
    "device",
    "type",
    "interval",
  ]);
  assert.deepEqual(disk, {
    metric: "disk.used",
    points: [[1_700_000_000, 1.5], [1_700_000_010, 2]],
    tags: ["env:prod"],
    host: "h1",
    device: "sda1",
    type: "gauge",
    interval: 10,
  });
  assert.deepEqual(Object.keys(rate), [
    "metric",
    "points",
    "tags",
    "host",
    "type",
    "interval",
    "source_type_name",
  ]);
  assert.equal(rate.source_type_name, "System");
  assert.equal(rate.type, "rate");
  assert.equal(rate.host, "");
  assert.equal(p.points, 3);
});

const CHECKS: ServiceCheck[] = [
  { name: "app.up", status: 0, timestamp: 1_700_000_001, host: "h1", message: "", tags: ["a:b"] },
  { name: "db.can_connect", status: 2, timestamp: 0, host: "", message: "refused", tags: [] },
];

test("serviceCheckPayloads() writes a /api/v1/check_run array field by field", () => {
  const { serializer } = makeSerializer();
  const [p] = serializer.serviceCheckPayloads(CHECKS);
  assert.equal(p.route, "/api/v1/check_run");
  assert.equal(p.kind, "service_checks");
  assert.equal(p.items, 2);
  const body = decodeJson(p);
  assert.ok(Array.isArray(body));
  assert.deepEqual(Object.keys(body[0]), [
    "check",
    "host_name",
    "timestamp",
    "status",
    "message",
    "tags",
  ]);
  assert.deepEqual(body, [
    {
      check: "app.up",
      host_name: "h1",
      timestamp: 1_700_000_001,
      status: 0,
      message: "",
      tags: ["a:b"],
    },
    {
      check: "db.can_connect",
      host_name: "",
      timestamp: NOW,
      status: 2,
      message: "refused",
      tags: null,
    },
  ]);
});

function event(title: string, extra: Partial<Event> = {}): Event {
  return {
    title,
    text: `${title} text`,
    timestamp: 1_700_000_000,
    host: "h1",
    priority: "normal",
    alertType: "info",
    aggregationKey: "",
    sourceTypeName: "",
    eventType: "",
    tags: [],
    ...extra,
  };
}

test("eventPayloads() groups events by source type under /intake/ field by field", () => {
  const { serializer } = makeSerializer();
  const payloads = serializer.eventPayloads([
    event("deploy", { sourceTypeName: "jenkins", tags: ["env:prod"], aggregationKey: "d1" }),
    event("manual", { timestamp: 0, alertType: "error", priority: "low" }),
    event("backup", { sourceTypeName: "cron", eventType: "backup.done" }),
    event("deploy2", { sourceTypeName: "jenkins" }),
  ]);
  assert.equal(payloads.length, 1);
  const [p] = payloads;
  assert.equal(p.route, "/intake/");
  assert.equal(p.kind, "events");
  assert.equal(p.items, 4);
  assert.equal(p.headers["Content-Type"], "application/json");
  const body = decodeJson(p);
  assert.deepEqual(Object.keys(body), ["apiKey", "events", "internalHostname"]);
  assert.equal(body.apiKey, "");
  assert.equal(body.internalHostname, "agent-host");
  assert.deepEqual(Object.keys(body.events), ["api", "cron", "jenkins"]);
  assert.deepEqual(body.events.api, [{
    msg_title: "manual",
    msg_text: "manual text",
    timestamp: NOW,
    priority: "low",
    host: "h1",
    alert_type: "error",
  }]);
  assert.deepEqual(body.events.cron, [{
    msg_title: "backup",
    msg_text: "backup text",
    timestamp: 1_700_000_000,
    priority: "normal",
    host: "h1",
    alert_type: "info",
    source_type_name: "cron",
    event_type: "backup.done",
  }]);
  assert.deepEqual(body.events.jenkins.map((e: any) => e.msg_title), ["deploy", "deploy2"]);
  assert.deepEqual(body.events.jenkins[0], {
    msg_title: "deploy",
    msg_text: "deploy text",
    timestamp: 1_700_000_000,
    priority: "normal",
    host: "h1",
    tags: ["env:prod"],
    alert_type: "info",
    aggregation_key: "d1",
    source_type_name: "jenkins",
  });
});

test("eventPayloads() splits a source type too big for one payload per event", () => {
  const { serializer, registry } = makeSerializer({
    serializer_compressor_kind: "none",
    serializer_max_payload_size: 4000,
    serializer_max_uncompressed_payload_size: 4000,
  });
  const text = "x".repeat(900);
  const many = Array.from(
    { length: 10 },
    (_, i) => event(`e${i}`, { text, sourceTypeName: "big" }),
  );
  const payloads = serializer.eventPayloads([...many, event("small", { sourceTypeName: "a" })]);
  assert.ok(payloads.length > 2);
  const titles: string[] = [];
  for (const p of payloads) {
    assert.ok(p.body.length <= 4000);
    const body = decodeJson(p);
    assert.equal(body.internalHostname, "agent-host");
    for (const list of Object.values(body.events) as any[]) {
      titles.push(...list.map((e: any) => e.msg_title));
    }
  }
  assert.deepEqual(titles.sort(), [
    "e0",
    "e1",
    "e2",
    "e3",
    "e4",
    "e5",
    "e6",
    "e7",
    "e8",
    "e9",
    "small",
  ]);
  assert.deepEqual(registry.read("serializer.items_too_big"), {});
});

test("jsonPayload() builds one unsplittable payload and refuses one over 1 MiB", () => {
  const { serializer, registry } = makeSerializer();
  const ok = serializer.jsonPayload("/intake/", { apiKey: "k", os: "linux" }, {
    kind: "host_metadata",
    storable: false,
    priority: "high",
  });
  assert.ok(ok.ok);
  assert.equal(ok.payload.storable, false);
  assert.equal(ok.payload.priority, "high");
  assert.equal(ok.payload.headers["Content-Type"], "application/json");
  assert.deepEqual(decodeJson(ok.payload), { apiKey: "k", os: "linux" });
  const big = serializer.jsonPayload("/intake/", { blob: "y".repeat(1024 * 1024) }, {
    kind: "host_metadata",
  });
  assert.deepEqual(big, { ok: false, reason: "too_big" });
  assert.deepEqual(registry.read("serializer.items_too_big"), { host_metadata: 1 });
});

test("jsonPayload() with enable_payloads.json_to_v1_intake false is disabled", () => {
  const { serializer } = makeSerializer({ enable_payloads: { json_to_v1_intake: false } });
  assert.deepEqual(serializer.jsonPayload("/intake/", {}), { ok: false, reason: "disabled" });
});

test("orchestratorPayloads() passes bodies through to the orchestrator routes", () => {
  const { serializer } = makeSerializer();
  const body = new Uint8Array([1, 2, 3]);
  const [meta, manif] = serializer.orchestratorPayloads([
    { kind: "metadata", type: 41, body },
    { kind: "manifest", type: 80, body },
  ]);
  assert.equal(meta.route, "/api/v2/orch");
  assert.equal(manif.route, "/api/v2/orchmanif");
  assert.equal(meta.body, body);
  assert.equal(manif.kind, "orchestrator_manifest");
  assert.deepEqual(meta.headers, {
    "Content-Type": "application/x-protobuf",
    "X-Dd-Hostname": "agent-host",
    "X-DD-Agent-Timestamp": String(NOW),
  });
});
