import { test } from "node:test";
import assert from "node:assert/strict";
import { eventJson, LogBatch } from "../../../src/logs/_batch.ts";
import type { LogMessage } from "../../../src/logs/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function msg(text: string, timestamp = 1000): LogMessage {
  return {
    content: encoder.encode(text),
    status: "info",
    timestamp,
    hostname: "h",
    service: "svc",
    source: "src",
    tags: ["a:1", "b:2"],
    origin: { source: undefined as never, identifier: "", offset: "", tailingMode: "end", seq: 0 },
    rawBytes: text.length + 1,
  };
}

test("eventJson() writes the intake's event fields, escaping the message", () => {
  const e = JSON.parse(eventJson(msg('say "hi"\\ é ✓')));
  assert.deepEqual(e, {
    message: 'say "hi"\\ é ✓',
    status: "info",
    timestamp: 1000,
    hostname: "h",
    service: "svc",
    ddsource: "src",
    ddtags: "a:1,b:2",
  });
});

test("LogBatch.add() reports full at batch_max_size", () => {
  const b = new LogBatch({ maxSize: 3, maxContentSize: 1_000_000 });
  for (let i = 0; i < 3; i++) assert.equal(b.add(msg(`m${i}`)), "added");
  assert.equal(b.add(msg("m3")), "full");
  const sealed = b.seal()!;
  assert.deepEqual(
    JSON.parse(decoder.decode(sealed.body)).map((e: { message: string }) => e.message),
    [
      "m0",
      "m1",
      "m2",
    ],
  );
  assert.equal(b.seal(), null, "empty after sealing");
});

test("LogBatch keeps the body within batch_max_content_size, brackets included", () => {
  const one = encoder.encode(eventJson(msg("x".repeat(50)))).length;
  const cap = 2 + one * 3 + 2; // "[" + 3 events + 2 commas + "]"
  const b = new LogBatch({ maxSize: 100, maxContentSize: cap });
  let added = 0;
  while (b.add(msg("x".repeat(50))) === "added") added++;
  assert.equal(added, 3);
  const body = b.seal()!.body;
  assert.ok(body.length <= cap, `${body.length} > ${cap}`);
  assert.equal(JSON.parse(decoder.decode(body)).length, 3);
});

test("LogBatch counts multi-byte UTF-8 exactly against the cap", () => {
  const text = "é".repeat(100); // 200 bytes in UTF-8, 100 UTF-16 units
  const size = encoder.encode(eventJson(msg(text))).length + 2;
  assert.equal(new LogBatch({ maxSize: 10, maxContentSize: size }).add(msg(text)), "added");
  assert.equal(new LogBatch({ maxSize: 10, maxContentSize: size - 1 }).add(msg(text)), "too_large");
});

test("LogBatch refuses an event larger than an empty batch, and keeps the others", () => {
  const b = new LogBatch({ maxSize: 10, maxContentSize: 300 });
  assert.equal(b.add(msg("ok")), "added");
  assert.equal(b.add(msg("y".repeat(400))), "full");
  b.seal();
  assert.equal(b.add(msg("y".repeat(400))), "too_large");
  assert.equal(b.add(msg("ok again")), "added");
  assert.equal(JSON.parse(decoder.decode(b.seal()!.body))[0].message, "ok again");
});

test("LogBatch.seal() gives the oldest timestamp and grows past its first buffer", () => {
  const b = new LogBatch({ maxSize: 10_000, maxContentSize: 5_000_000 });
  for (let i = 0; i < 2000; i++) b.add(msg("z".repeat(100), 5000 - i));
  const sealed = b.seal()!;
  assert.equal(sealed.oldestMs, 3001);
  assert.equal(sealed.messages.length, 2000);
  assert.equal(JSON.parse(decoder.decode(sealed.body)).length, 2000);
});
