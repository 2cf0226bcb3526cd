import { test } from "node:test";
import assert from "node:assert/strict";
import { RetryQueue } from "../../../src/forwarder/_retry_queue.ts";
import { makeTransaction, type Transaction } from "../../../src/forwarder/_transaction.ts";

function tx(createdAt: number, size: number, storable = true): Transaction {
  return makeTransaction({
    domain: "http://d",
    route: "/r",
    apiKey: "k",
    headers: {},
    body: new Uint8Array(size),
    storable,
    kind: String(createdAt),
    createdAt,
  });
}

test("RetryQueue evicts the oldest normal-priority transactions first when over its byte cap", () => {
  const evicted: string[] = [];
  const q = new RetryQueue({
    maxBytes: 300,
    onEvict: (txs) => evicted.push(...txs.map((t) => t.kind)),
  });
  q.add(tx(1, 100, false)); // high priority: evicted last
  q.add(tx(2, 100));
  q.add(tx(3, 100));
  assert.equal(q.bytes, 300);
  q.add(tx(4, 100));
  assert.deepEqual(evicted, ["2"]);
  q.add(tx(5, 150));
  assert.deepEqual(evicted, ["2", "3", "4"]);
  assert.equal(q.bytes, 250);
  assert.deepEqual(q.drain().map((t) => t.kind), ["1", "5"], "high priority first, then oldest");
  assert.equal(q.bytes, 0);
});

test("RetryQueue with a flush ratio evicts a batch at once, and an oversized one directly", () => {
  const batches: string[][] = [];
  const q = new RetryQueue({
    maxBytes: 1000,
    flushRatio: 0.5,
    onEvict: (txs) => batches.push(txs.map((t) => t.kind)),
  });
  for (let i = 1; i <= 10; i++) q.add(tx(i, 100));
  q.add(tx(11, 100));
  assert.deepEqual(batches, [["1", "2", "3", "4", "5"]]);
  assert.equal(q.bytes, 600);
  q.add(tx(12, 2000));
  assert.deepEqual(batches[1], ["12"]);
  assert.equal(q.length, 6);
});
