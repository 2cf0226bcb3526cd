/**
 * The bounded queue between the reader thread and the parser (Bun's libc reader): while the
 * main thread is busy, the reader holds at most `maxQueueBytes` for it and drops and counts
 * the rest; the server publishes the figures and says so in the log and on the status page.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { runtime } from "../../src/runtime/mod.ts";
import { type DatagramSocket } from "../../src/runtime/mod.ts";
import { DATAGRAM_QUEUE_OVERHEAD } from "../../src/runtime/types.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { DogStatsDServer } from "../../src/dogstatsd/mod.ts";
import { dogstatsdStatusProvider } from "../../src/status/_providers.ts";
import { PLAIN } from "../../src/status/_style.ts";

const LINE = new TextEncoder().encode("queue.test:1|c|#" + "t".repeat(180)); // 200 bytes

/** Sends `n` datagrams back to back from the main thread (libc sendto: synchronous). */
function blast(from: DatagramSocket, port: number, n: number): void {
  for (let i = 0; i < n; i++) from.send(LINE, "127.0.0.1", port);
}

/** Blocks the main thread until `done()` (the reader thread runs meanwhile). */
function blockUntil(done: () => boolean, what: string): void {
  const deadline = Date.now() + 20_000;
  while (!done()) if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
}

async function until(done: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(done(), `timed out waiting for ${what}`);
}

describe("reader thread queue (bun)", () => {
  test("listenUdp() holds at most maxQueueBytes for a busy main thread, drops and counts the rest", async () => {
    const maxQueueBytes = 64 * 1024;
    let delivered = 0;
    const receiver = await runtime.listenUdp("127.0.0.1", 0, {
      dedicatedReader: true,
      receiveBufferSize: 8 << 20, // the kernel keeps all of it: only the reader may drop
      maxQueueBytes,
      onBatch: (b) => void (delivered += b.length),
    });
    const sender = await runtime.listenUdp("127.0.0.1", 0, { dedicatedReader: true, onBatch() {} });
    const sent = 3000;
    try {
      blast(sender, receiver.port, sent);
      // Nothing is handed over while this thread is blocked: the queue fills, then drops.
      blockUntil(() => receiver.stats().read === sent, "the reader to read everything");
      const held = receiver.stats();
      assert.equal(delivered, 0);
      assert.ok(held.queuedBytes <= maxQueueBytes, `queued ${held.queuedBytes}`);
      assert.ok(held.queueDroppedDatagrams > 0);
      await until(() => delivered + held.queueDroppedDatagrams === sent, "the queued batches");
      const st = receiver.stats();
      // What got through is what the queue could hold; every other datagram is counted.
      assert.ok(delivered * (LINE.length + DATAGRAM_QUEUE_OVERHEAD) <= maxQueueBytes);
      assert.ok(delivered > 0);
      assert.equal(st.queueDroppedDatagrams, sent - delivered);
      assert.equal(st.queueDroppedBytes, (sent - delivered) * LINE.length);
      assert.equal(st.queuedBytes, 0);
      assert.equal(st.kernelDrops, 0);
    } finally {
      receiver.close();
      sender.close();
    }
  });

  test("listenUdp() on an IPv6 literal is read by the reader thread and finds its kernel drops", async () => {
    const got: string[] = [];
    const from: string[] = [];
    const receiver = await runtime.listenUdp("::1", 0, {
      dedicatedReader: true,
      receiveBufferSize: 1 << 20,
      onBatch: (b) => {
        for (const d of b) {
          got.push(new TextDecoder().decode(d.data));
          from.push(d.from);
        }
      },
    });
    const sender = await runtime.listenUdp("::", 0, { dedicatedReader: true, onBatch() {} });
    try {
      assert.ok(receiver.port > 0);
      assert.ok((receiver.receiveBufferSize ?? 0) >= 1 << 20, "SO_RCVBUF applies to IPv6 too");
      sender.send(new TextEncoder().encode("v6.test:1|c"), "::1", receiver.port);
      await until(() => got.length === 1, "the datagram");
      assert.deepEqual(got, ["v6.test:1|c"]);
      assert.deepEqual(from, [""], "the reader thread builds no address string");
      assert.equal(receiver.stats().read, 1);
      assert.equal(receiver.stats().kernelDrops, 0, "found in /proc/net/udp6");
      assert.throws(() => sender.send(LINE, "127.0.0.1", receiver.port), /sending to "127.0.0.1"/);
    } finally {
      receiver.close();
      sender.close();
    }
  });

  test("DogStatsDServer publishes reader drops, shows them in status and tells them as losses", async () => {
    const registry = new Registry();
    const lines: string[] = [];
    let samples = 0;
    const server = new DogStatsDServer({
      udpHost: "127.0.0.1",
      udpPort: 0,
      socketPath: "",
      bufferSize: 8192,
      receiveBufferSize: 8 << 20,
      queueBytes: 64 * 1024,
      eolRequired: { udp: false, uds: false },
      forward: { host: "", port: 0 },
      parser: {},
    }, {
      runtime,
      registry,
      logger: createLogger({ level: "warn", write: (l) => void lines.push(l) }),
      sink: { addSamples: (s) => void (samples += s.length), addEvent() {}, addServiceCheck() {} },
    });
    await server.start();
    const sender = await runtime.listenUdp("127.0.0.1", 0, { dedicatedReader: true, onBatch() {} });
    const sent = 3000;
    try {
      assert.ok((registry.read("dogstatsd-udp.ReceiveBufferBytes") as number) >= 8 << 20);
      blast(sender, server.udpPort, sent);
      // Blocked: every datagram read is either queued (at a known cost each) or dropped.
      const queued = () =>
        (registry.read("dogstatsd-udp.QueueBytes") as number) /
        (LINE.length + DATAGRAM_QUEUE_OVERHEAD);
      blockUntil(
        () => (registry.read("dogstatsd-udp.QueueDroppedPackets") as number) + queued() === sent,
        "the reader to read everything",
      );
      assert.equal(samples, 0);
      await until(() => registry.read("dogstatsd-udp.QueueBytes") === 0, "the queue to drain");
      const dropped = registry.read("dogstatsd-udp.QueueDroppedPackets") as number;
      assert.equal(samples + dropped, sent);
      assert.equal(registry.read("dogstatsd-udp.QueueDroppedBytes"), dropped * LINE.length);
      assert.equal(registry.read("dogstatsd-udp.KernelDrops"), 0);
      const status = dogstatsdStatusProvider(registry);
      const data = await status.data();
      const text = status.text(data, PLAIN);
      assert.match(text, new RegExp(`Reader queue drops: ${dropped} \\(udp=${dropped}\\)`));
      assert.match(text, /Kernel drops: 0 \(udp=0\)/);
    } finally {
      sender.close();
      await server.stop();
    }
    const dropped = registry.read("dogstatsd-udp.QueueDroppedPackets");
    assert.equal(dropped, undefined, "no listener, no figure");
    assert.ok(
      lines.some((l) =>
        /Lost \d+ datagrams at udp \(reader_queue_full, the parser fell behind/.test(l)
      ),
      lines.join("\n"),
    );
  });
});
