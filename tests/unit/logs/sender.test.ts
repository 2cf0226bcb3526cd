import { test } from "node:test";
import assert from "node:assert/strict";
import { LogsSender } from "../../../src/logs/_sender.ts";
import { logsSenderSettings } from "../../../src/logs/_sender_settings.ts";
import { emptyInfo } from "../../../src/logs/_message.ts";
import type { LogMessage, LogSource, Origin } from "../../../src/logs/mod.ts";
import type { Delivery, DeliveryResult, Payload } from "../../../src/forwarder/mod.ts";
import { configDefaults } from "../../../src/config/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";

const encoder = new TextEncoder();
const file: LogSource = {
  name: "app",
  type: "file",
  config: { path: "/var/log/a.log" } as LogSource["config"],
  status: { state: "ok" },
  info: emptyInfo(),
};
const udp: LogSource = { ...file, type: "udp" };

function msg(source: LogSource, offset: number): LogMessage {
  return {
    content: encoder.encode(`m${offset}`),
    status: "info",
    timestamp: offset,
    hostname: "h",
    service: "s",
    source: "src",
    tags: [],
    origin: {
      source,
      identifier: source.type === "file" ? "file:/var/log/a.log" : "",
      offset: String(offset),
      tailingMode: "end",
      seq: offset,
    },
    rawBytes: 3,
  };
}

/** A submit whose deliveries the test settles by hand, in any order. */
function manualSubmit() {
  const pending: Array<{ payload: Payload; settle: (r: DeliveryResult) => void }> = [];
  const submit = (payload: Payload): Delivery => {
    let settle!: (r: DeliveryResult) => void;
    const done = new Promise<DeliveryResult>((r) => (settle = r));
    pending.push({ payload, settle });
    return { done };
  };
  return { pending, submit };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function sender(overrides: Record<string, unknown>, submit: (p: Payload) => Delivery) {
  const c = configDefaults();
  const settings = logsSenderSettings(
    { ...c, api_key: "k", logs_config: { ...c.logs_config, batch_max_size: 1, ...overrides } },
    "7.60.0",
  );
  const acks: Origin[][] = [];
  const s = new LogsSender(settings, {
    runtime,
    registry: new Registry(),
    logger: createLogger({ level: "off" }),
    submit,
    ack: (o) => acks.push(o),
  });
  return { s, acks };
}

test("LogsSender acks file batches in seal order even when they are delivered out of order", async () => {
  const { pending, submit } = manualSubmit();
  const { s, acks } = sender({ batch_max_concurrent_send: 3 }, submit);
  for (let i = 1; i <= 3; i++) s.add(msg(file, i));
  assert.equal(pending.length, 3, "three batches in flight");
  pending[2].settle({ status: "delivered", reason: "delivered" });
  pending[1].settle({ status: "delivered", reason: "delivered" });
  await tick();
  assert.equal(acks.length, 0, "nothing acked before the oldest batch is delivered");
  pending[0].settle({ status: "delivered", reason: "delivered" });
  await tick();
  assert.deepEqual(acks.map((a) => a.map((o) => o.offset)), [["1"], ["2"], ["3"]]);
});

test("LogsSender keeps one file batch in flight by default and pushes back past 4 waiting", async () => {
  const { pending, submit } = manualSubmit();
  const { s, acks } = sender({}, submit);
  for (let i = 1; i <= 4; i++) s.add(msg(file, i));
  assert.equal(pending.length, 1, "one in flight keeps the order at the intake");
  assert.equal(s.canAccept(), false, "tailers pause with 4 batches waiting");
  pending[0].settle({ status: "delivered", reason: "delivered" });
  await tick();
  assert.equal(s.canAccept(), true);
  assert.equal(pending.length, 2, "the next batch goes once the first is delivered");
  assert.deepEqual(acks.map((a) => a[0].offset), ["1"]);
});

test("LogsSender sends an errored batch again in its place; stored listener batches are never acked", async () => {
  const { pending, submit } = manualSubmit();
  const { s, acks } = sender({}, submit);
  s.add(msg(file, 1));
  s.add(msg(file, 2));
  pending[0].settle({ status: "errored", reason: "retry_queue_full" });
  await new Promise((r) => setTimeout(r, 1100));
  assert.equal(pending.length, 2, "resubmitted, and the second batch still waits behind it");
  assert.equal(pending[1].payload.body, pending[0].payload.body, "the same batch again");
  pending[1].settle({ status: "delivered", reason: "delivered" });
  await tick();
  assert.deepEqual(acks.map((a) => a[0].offset), ["1"]);

  s.add(msg(udp, 9));
  const last = pending.at(-1)!;
  assert.equal(last.payload.storable, true, "listener batches may wait on disk");
  last.settle({ status: "stored", reason: "stored" });
  await tick();
  assert.deepEqual(acks.map((a) => a[0].offset), ["1"], "no ack for listener lines");
  await s.stop(10);
});
