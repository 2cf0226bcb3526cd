import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Registry } from "../../../src/telemetry/mod.ts";
import {
  aggregatorStatusProvider,
  dogstatsdStatusProvider,
  forwarderStatusProvider,
  PLAIN,
} from "../../../src/status/mod.ts";

/** Counts as the DogStatsD server and parser do (names from src/status/_providers.ts). */
function dogstatsdTraffic(r: Registry) {
  r.counter("dogstatsd-udp.Packets").inc(7);
  r.counter("dogstatsd-udp.Bytes").inc(120);
  r.counter("dogstatsd-uds.Packets").inc(1);
  r.counter("dogstatsd.MetricPackets").inc(5);
  r.counter("dogstatsd.MetricParseErrors").inc(2);
  r.counter("dogstatsd.EventParseErrors").inc(1);
  r.counterVec("dogstatsd.ParseErrorsByReason").with("no_pipe").inc(2);
  r.counterVec("dogstatsd.ParseErrorsByReason").with("bad_event_header").inc(1);
  r.publish("dogstatsd.RecentParseErrors", () => [
    { kind: "metric", code: "no_pipe", message: "bad:1", time: 1_700_000_000 },
  ]);
}

describe("dogstatsdStatusProvider()", () => {
  it("reports packets and parse errors by kind exactly as counted, with the last errors", async () => {
    const r = new Registry();
    dogstatsdTraffic(r);
    const p = dogstatsdStatusProvider(r);
    const data = await p.data();
    const s = data.dogstatsdStats as Record<string, unknown>;
    assert.deepEqual(s.packets, { udp: 7, uds: 1 });
    assert.deepEqual(s.messages, { metric: 5 });
    assert.deepEqual(s.parse_errors, { metric: 2, event: 1 });
    assert.deepEqual(s.parse_errors_by_reason, { no_pipe: 2, bad_event_header: 1 });
    assert.equal(s.dropped, undefined);
    const text = p.text(data, PLAIN);
    assert.match(text, /Packets: 8 \(udp=7, uds=1\)\n/);
    assert.match(text, /Parse errors: 3 \(metric=2, event=1\)\n/);
    assert.match(text, /Dropped: -\n/);
    assert.match(text, /Last errors:\n {4}2023-11-14T22:13:20\.000Z metric no_pipe: "bad:1"$/);
  });

  it("shows the receive path: granted buffer, kernel drops and reader queue drops per transport", async () => {
    const r = new Registry();
    dogstatsdTraffic(r);
    r.publish("dogstatsd-udp.ReceiveBufferBytes", () => 8388608);
    r.publish("dogstatsd-udp.KernelDrops", () => 36);
    r.publish("dogstatsd-uds.KernelDrops", () => undefined); // unix sockets: not applicable
    r.publish("dogstatsd-udp.QueueBytes", () => 512);
    r.publish("dogstatsd-udp.QueueDroppedPackets", () => 4);
    r.publish("dogstatsd-uds.QueueDroppedPackets", () => 1);
    r.publish("dogstatsd-udp.QueueDroppedBytes", () => 800);
    const p = dogstatsdStatusProvider(r);
    const data = await p.data();
    const s = data.dogstatsdStats as Record<string, unknown>;
    assert.deepEqual(s.kernel_drops, { udp: 36 });
    assert.deepEqual(s.queue_dropped_packets, { udp: 4, uds: 1 });
    const text = p.text(data, PLAIN);
    assert.match(text, /Receive buffer \(bytes\): 8388608 \(udp=8388608\)\n/);
    assert.match(text, /Kernel drops: 36 \(udp=36\)\n/);
    assert.match(text, /Reader queue \(bytes\): 512 \(udp=512\)\n/);
    assert.match(text, /Reader queue drops: 5 \(udp=4, uds=1\)\n/);
    assert.match(text, /Reader queue dropped bytes: 800 \(udp=800\)\n/);
  });

  it("renders 'not running' when no dogstatsd variable exists", async () => {
    const p = dogstatsdStatusProvider(new Registry());
    const data = await p.data();
    assert.deepEqual(data, { dogstatsdStats: null });
    assert.match(p.text(data, PLAIN), /DogStatsD is not running/);
  });
});

describe("aggregatorStatusProvider()", () => {
  it("reads contexts, flushes and drops by reason", async () => {
    const r = new Registry();
    r.publish("aggregator.DogstatsdContexts", () => 12);
    r.publish("aggregator.DogstatsdContextsBytes", () => 4680);
    r.counter("aggregator.DogstatsdContextsEvicted").inc(9);
    r.counter("aggregator.NumberOfFlush").inc(3);
    r.counter("aggregator.SeriesFlushed").inc(30);
    r.counter("aggregator.SketchesFlushed").inc(2);
    r.counterVec("aggregator.Dropped").with("invalid_value").inc(1);
    r.counterVec("serializer.points_invalid").with("series").inc(4);
    r.counterVec("serializer.items_too_big").with("sketches").inc(1);
    const p = aggregatorStatusProvider(r);
    const text = p.text(await p.data(), PLAIN);
    assert.match(text, /^ {2}Contexts: 12\n/);
    assert.match(text, /\n {2}Context bytes \(estimated\): 4680\n/);
    assert.match(text, /\n {2}Contexts evicted at the limit: 9\n/);
    assert.match(text, /\n {2}Flushes: 3\n/);
    assert.match(text, /\n {2}Flushed: 32 \(series=30, sketches=2\)\n/);
    assert.match(text, /\n {2}Dropped: 1 \(invalid_value=1\)\n/);
    assert.match(text, /\n {2}Serializer drops, too big for any payload: 1 \(sketches=1\)\n/);
    assert.match(
      text,
      /\n {2}Serializer drops, non-finite or out-of-range numbers: 4 \(series=4\)(\n|$)/,
    );
  });

  it("renders 'not running' without aggregator variables", async () => {
    const p = aggregatorStatusProvider(new Registry());
    assert.match(p.text(await p.data(), PLAIN), /aggregator is not running/);
  });
});

describe("forwarderStatusProvider()", () => {
  it("builds a per-endpoint table, queue bytes and API key validity", async () => {
    const r = new Registry();
    const domain = "https://0-1-0-app.agent.datadoghq.com";
    const url = `${domain}/api/v2/series`;
    r.counterVec("forwarder.Transactions.Success").with(url).inc(4);
    r.counterVec("forwarder.Transactions.Errors").with(url).inc(2);
    r.counterVec("forwarder.Transactions.Retried").with(url).inc(2);
    r.counterVec("forwarder.Transactions.ErrorsByType").with("http_503").inc(2);
    r.publish("forwarder.Domains", () => ({
      [domain]: { retryQueueBytes: 2048, diskBytes: 512, diskFiles: 1 },
    }));
    r.publish(
      "forwarder.APIKeyStatus",
      () => ({ [domain]: { "API key ending with 6789": "invalid" } }),
    );
    const p = forwarderStatusProvider(r);
    const data = await p.data();
    assert.deepEqual(data.forwarderStats, {
      endpoints: {
        [url]: {
          successes: 4,
          errors: 2,
          retries: 2,
          dropped: 0,
          http_codes: {},
          drops_by_reason: {},
          last_error: null,
          failing_since_ms: null,
        },
      },
      errors_by_type: { http_503: 2 },
      queue_bytes_memory: 2048,
      queue_bytes_disk: 512,
      queue_transactions_memory: 0,
      queue_transactions_disk: 0,
      oldest_queued_age_s: null,
      lost_by_reason: {},
      disk_write_errors: {},
      previous_run: null,
      api_key_status: { [domain]: { "API key ending with 6789": "invalid" } },
    });
    const text = p.text(data, PLAIN);
    assert.match(text, /Queue bytes in memory: 2048\n {2}Queue bytes on disk: 512/);
    assert.match(text, /Successes: 4\n {4}Errors: 2\n {4}Retries: 2\n {4}Dropped: 0/);
    assert.match(text, /datadoghq\.com, API key ending with 6789: API Key invalid/);
  });

  it("shows losses by reason, disk write errors and a previous run killed without a clean stop", async () => {
    const r = new Registry();
    r.counterVec("forwarder.Transactions.Dropped").with("disk_full").inc(3);
    r.counterVec("forwarder.DiskQueue.WriteErrors").with("ENOSPC").inc(1);
    r.publish("forwarder.PreviousRun", () => ({
      pid: 7,
      startedMs: Date.UTC(2026, 0, 1),
      lastSeenMs: Date.UTC(2026, 0, 1, 0, 5),
      lostSinceMs: Date.UTC(2026, 0, 1, 0, 4, 22),
      transactions: 4,
      bytes: 1000,
    }));
    const p = forwarderStatusProvider(r);
    const data = await p.data();
    const s = data.forwarderStats as Record<string, unknown>;
    assert.deepEqual(s.lost_by_reason, { disk_full: 3 });
    assert.deepEqual(s.disk_write_errors, { ENOSPC: 1 });
    assert.equal((s.previous_run as { transactions: number }).transactions, 4);
    const text = p.text(data, PLAIN);
    assert.match(text, /Lost by reason: 3 \(disk_full=3\)/);
    assert.match(text, /Disk write errors: 1 \(ENOSPC=1\)/);
    assert.match(
      text,
      /Previous run: ended without a clean stop after 2026-01-01T00:05:00.000Z: data held in memory since 2026-01-01T00:04:22.000Z was lost \(4 payloads/,
    );
  });

  it("shows per endpoint the drops by reason, HTTP codes, last error, failure run and the oldest queued payload", async () => {
    const r = new Registry();
    const url = "https://intake.example/api/v2/series";
    const t0 = Date.UTC(2026, 0, 1);
    r.counterVec("forwarder.Transactions.DroppedByEndpoint").with(url).inc(3);
    r.publish("forwarder.EndpointHealth", () => ({
      [url]: {
        failingSinceMs: t0,
        failedAttempts: 5,
        lastError: { reason: "payload_too_large", status: 413, atMs: t0 + 1000 },
        httpCodes: { 413: 2, 403: 1 },
        dropsByReason: { payload_too_large: 2, api_key_invalid: 1 },
      },
    }));
    r.publish("forwarder.Domains", () => ({
      "https://intake.example": {
        retryQueueBytes: 10,
        retryQueueTransactions: 2,
        diskBytes: 0,
        diskTransactionsWaiting: 4,
        oldestQueuedMs: t0,
      },
    }));
    const p = forwarderStatusProvider(r, { now: () => t0 + 90_000 });
    const data = await p.data();
    const s = data.forwarderStats as Record<string, any>;
    assert.equal(s.oldest_queued_age_s, 90);
    assert.equal(s.queue_transactions_disk, 4);
    assert.deepEqual(s.endpoints[url].http_codes, { 413: 2, 403: 1 });
    const text = p.text(data, PLAIN);
    assert.match(text, /Queued payloads in memory: 2\n {2}Queued payloads on disk: 4/);
    assert.match(text, /Oldest queued payload: 90 s old/);
    assert.match(text, /Dropped: 3 \(payload_too_large=2, api_key_invalid=1\)/);
    assert.match(text, /HTTP errors: 3 \(403=1, 413=2\)/);
    assert.match(text, /Last error: HTTP 413 \(payload_too_large\) at 2026-01-01T00:00:01.000Z/);
    assert.match(text, /Failing since: 2026-01-01T00:00:00.000Z/);
  });

  it("renders 'not running' without forwarder variables", async () => {
    const p = forwarderStatusProvider(new Registry());
    assert.match(p.text(await p.data(), PLAIN), /forwarder is not running/);
  });
});
