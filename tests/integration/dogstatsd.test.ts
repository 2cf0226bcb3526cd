import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import StatsD from "hot-shots";
import { runtime } from "../../src/runtime/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DogStatsDServer, type DogStatsDSettings } from "../../src/dogstatsd/mod.ts";
import { type DogStatsDSink } from "../../src/dogstatsd/_server.ts";
import type { Event, MetricSample, ServiceCheck } from "../../src/metrics/model.ts";
import { unixDatagramClient } from "./_unixgram_client.ts";
import { EXPECTED_CHECK, EXPECTED_EVENT, EXPECTED_SAMPLES, sendMix } from "./_dogstatsd_mix.ts";

class MemorySink implements DogStatsDSink {
  samples: MetricSample[] = [];
  events: Event[] = [];
  checks: ServiceCheck[] = [];
  addSamples(s: MetricSample[]) {
    this.samples.push(...s);
  }
  addEvent(e: Event) {
    this.events.push(e);
  }
  addServiceCheck(c: ServiceCheck) {
    this.checks.push(c);
  }
  get count() {
    return this.samples.length + this.events.length + this.checks.length;
  }
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), `timed out waiting for ${what}`);
}

describe("DogStatsDServer with real clients", () => {
  const dir = mkdtempSync(join(tmpdir(), "outpost-dsd-"));
  const socketPath = join(dir, "dsd.socket");
  const sink = new MemorySink();
  const registry = new Registry();
  const forwarded: Uint8Array[] = [];
  let forwardTarget: Awaited<ReturnType<typeof runtime.listenUdp>>;
  let server: DogStatsDServer;

  before(async () => {
    forwardTarget = await runtime.listenUdp("127.0.0.1", 0, {
      onBatch: (b) => forwarded.push(...b.map((d) => d.data)),
    });
    const settings: DogStatsDSettings = {
      udpHost: "127.0.0.1",
      udpPort: 0,
      socketPath,
      bufferSize: 8192,
      receiveBufferSize: 1 << 20,
      eolRequired: { udp: false, uds: false },
      forward: { host: "127.0.0.1", port: forwardTarget.port },
      parser: {},
    };
    server = new DogStatsDServer(settings, {
      runtime,
      sink,
      registry,
      logger: createLogger({ level: "off" }),
    });
    await server.start();
  });

  after(async () => {
    await server.stop();
    forwardTarget.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const snapshot = () => registry.snapshot() as Record<string, Record<string, any>>;

  test("hot-shots over UDP: every type, tags, rates, events and service checks arrive exactly", async () => {
    const client = new StatsD({ host: "127.0.0.1", port: server.udpPort, maxBufferSize: 0 });
    const lines = sendMix(client);
    await until(() => sink.count >= 9, "the UDP mix");
    client.close();

    assert.deepEqual(sink.samples, EXPECTED_SAMPLES);
    assert.deepEqual(sink.events, [EXPECTED_EVENT]);
    assert.deepEqual(sink.checks, [EXPECTED_CHECK]);
    const s = snapshot();
    assert.equal(s.dogstatsd.MetricPackets, 7);
    assert.equal(s.dogstatsd.EventPackets, 1);
    assert.equal(s.dogstatsd.ServiceCheckPackets, 1);
    assert.equal(s.dogstatsd.MetricParseErrors, 0);
    assert.equal(s["dogstatsd-udp"].Packets, 9);
    assert.equal(
      s["dogstatsd-udp"].Bytes,
      lines.reduce((n, l) => n + Buffer.byteLength(l), 0),
    );
    await until(() => forwarded.length >= 9, "the forwarded packets");
    assert.deepEqual(forwarded.map((d) => new TextDecoder().decode(d)).sort(), lines.sort());
  });

  test("hot-shots over the unix datagram socket: the same mix arrives exactly", async () => {
    sink.samples = [];
    sink.events = [];
    sink.checks = [];
    const uds = unixDatagramClient(socketPath);
    // hot-shots' "stream" transport writes each message to the stream; each write becomes one
    // datagram on the unix socket.
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        uds.send(chunk);
        done();
      },
    });
    const client = new StatsD({ protocol: "stream", stream, maxBufferSize: 0 });
    const lines = sendMix(client);
    await until(() => sink.count >= 9, "the unix socket mix");
    uds.close();

    assert.deepEqual(sink.samples, EXPECTED_SAMPLES);
    assert.deepEqual(sink.events, [EXPECTED_EVENT]);
    assert.deepEqual(sink.checks, [EXPECTED_CHECK]);
    const s = snapshot();
    assert.equal(s["dogstatsd-uds"].Packets, 9);
    // The stream transport ends each message with a newline.
    assert.equal(
      s["dogstatsd-uds"].Bytes,
      lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0),
    );
    assert.equal(s.dogstatsd.MetricPackets, 14);
  });

  test("a malformed UDP packet is counted, kept in the recent errors, and the server goes on", async () => {
    const before = snapshot().dogstatsd;
    const sock = createSocket("udp4");
    const packet = Buffer.from("no_pipe_here\n_e{x,1}:a|b\n_sc|c|9\nok.after:1|g\n");
    await new Promise<void>((r) => sock.send(packet, server.udpPort, "127.0.0.1", () => r()));
    await until(() => sink.samples.some((s) => s.name === "ok.after"), "the good line");
    sock.close();
    const d = snapshot().dogstatsd;
    assert.equal(d.MetricParseErrors - before.MetricParseErrors, 1);
    assert.equal(d.EventParseErrors - before.EventParseErrors, 1);
    assert.equal(d.ServiceCheckParseErrors - before.ServiceCheckParseErrors, 1);
    assert.deepEqual(
      d.RecentParseErrors.slice(-3).map((e: { message: string }) => e.message),
      ["no_pipe_here", "_e{x,1}:a|b", "_sc|c|9"],
    );
    assert.ok(server.healthy());
  });

  test("a packet longer than dogstatsd_buffer_size is truncated as the agent's read does", async () => {
    const sock = createSocket("udp4");
    const filler = "pad.metric:1|c\n".repeat(600); // 9000 bytes
    const packet = Buffer.from(filler.slice(0, 8190) + "\nlast.line:1|g\n");
    await new Promise<void>((r) => sock.send(packet, server.udpPort, "127.0.0.1", () => r()));
    await until(() => (snapshot().dogstatsd.Dropped?.truncated_packet ?? 0) === 1, "truncation");
    sock.close();
    assert.ok(!sink.samples.some((s) => s.name === "last.line"));
  });
});
