import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { configSchema } from "../../../src/config/mod.ts";
import { buildDogstatsd, DogStatsDServer, dogstatsdSettings } from "../../../src/dogstatsd/mod.ts";
import {
  DEFAULT_RECEIVE_BUFFER_BYTES,
  type DogStatsDSink,
} from "../../../src/dogstatsd/_server.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import type { MetricSample } from "../../../src/metrics/model.ts";

const config = (raw: Record<string, unknown> = {}) => v.parse(configSchema, raw);
const logger = createLogger({ level: "off" });

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe("dogstatsdSettings", () => {
  test("dogstatsdSettings() applies the agent's defaults", () => {
    const s = dogstatsdSettings(config());
    assert.equal(s.udpHost, "127.0.0.1");
    assert.equal(s.udpPort, 8125);
    assert.equal(s.socketPath, "");
    assert.equal(s.bufferSize, 8192);
    assert.equal(s.receiveBufferSize, 0); // the server then asks for 4 MiB
    assert.equal(DEFAULT_RECEIVE_BUFFER_BYTES, 4 * 1024 * 1024);
    assert.equal(s.queueBytes, 16 * 1024 * 1024);
    assert.deepEqual(s.eolRequired, { udp: false, uds: false });
    assert.deepEqual(s.forward, { host: "", port: 0 });
    assert.equal(s.parser.readTimestamps, true);
    assert.ok(s.parser.namespaceExclude?.includes("datadog.agent"));
  });

  test("dogstatsdSettings() maps port 0, non-local traffic, eol, forwarding and filters", () => {
    const s = dogstatsdSettings(config({
      dogstatsd_port: 0,
      dogstatsd_non_local_traffic: true,
      dogstatsd_eol_required: ["uds"],
      statsd_forward_host: "10.0.0.9",
      statsd_forward_port: 9125,
      statsd_metric_blocklist: ["a"],
      statsd_metric_blocklist_match_prefix: true,
      dogstatsd_tags: ["x:y"],
      statsd_metric_namespace: "app",
      dogstatsd_so_rcvbuf: 4096,
    }));
    assert.equal(s.udpPort, null);
    assert.equal(s.udpHost, "0.0.0.0");
    assert.deepEqual(s.eolRequired, { udp: false, uds: true });
    assert.deepEqual(s.forward, { host: "10.0.0.9", port: 9125 });
    assert.deepEqual(s.parser.blocklist, ["a"]);
    assert.equal(s.parser.blocklistMatchPrefix, true);
    assert.deepEqual(s.parser.extraTags, ["x:y"]);
    assert.equal(s.parser.namespace, "app");
    assert.equal(s.receiveBufferSize, 4096);
  });

  test("config rejects an unknown dogstatsd_eol_required transport", () => {
    assert.throws(() => config({ dogstatsd_eol_required: ["tcp"] }));
  });

  test("buildDogstatsd() is null when use_dogstatsd is false", () => {
    const sink: DogStatsDSink = { addSamples() {}, addEvent() {}, addServiceCheck() {} };
    const deps = { runtime, sink, registry: new Registry(), logger };
    const build = (raw = {}) => buildDogstatsd(dogstatsdSettings(config(raw)), deps);
    assert.equal(build({ use_dogstatsd: false }), null);
    assert.ok(build()?.component instanceof DogStatsDServer);
  });
});

describe("DogStatsDServer", () => {
  test("start() listens on UDP; packets are parsed, counted and delivered", async () => {
    const samples: MetricSample[] = [];
    const registry = new Registry();
    const server = new DogStatsDServer(
      { ...dogstatsdSettings(config()), udpPort: 0 },
      {
        runtime,
        registry,
        logger,
        sink: { addSamples: (s) => samples.push(...s), addEvent() {}, addServiceCheck() {} },
      },
    );
    await server.start();
    const client = await runtime.listenUdp("127.0.0.1", 0, { onBatch() {} });
    try {
      assert.ok(server.udpPort > 0);
      client.send(new TextEncoder().encode("a:1|c|#x\nb:2|g\nbad"), "127.0.0.1", server.udpPort);
      await until(() => samples.length === 2);
      assert.deepEqual(samples.map((s) => [s.name, s.value, s.type]), [
        ["a", 1, "counter"],
        ["b", 2, "gauge"],
      ]);
      const snap = registry.snapshot() as Record<string, Record<string, number>>;
      assert.equal(snap["dogstatsd-udp"].Packets, 1);
      assert.equal(snap["dogstatsd-udp"].Bytes, 18);
      assert.equal(snap.dogstatsd.MetricPackets, 2);
      assert.equal(snap.dogstatsd.MetricParseErrors, 1);
      assert.ok(server.healthy());
    } finally {
      client.close();
      await server.stop();
    }
    assert.equal(server.healthy(), false);
  });

  test("start() asks for the default receive buffer, publishes the receive path, warns only about a configured buffer", async () => {
    for (const so_rcvbuf of [0, 1 << 20]) {
      const registry = new Registry();
      const lines: string[] = [];
      const server = new DogStatsDServer(
        { ...dogstatsdSettings(config({ dogstatsd_so_rcvbuf: so_rcvbuf })), udpPort: 0 },
        {
          runtime,
          registry,
          logger: createLogger({ level: "info", write: (l) => void lines.push(l) }),
          sink: { addSamples() {}, addEvent() {}, addServiceCheck() {} },
        },
      );
      await server.start();
      try {
        const granted = registry.read("dogstatsd-udp.ReceiveBufferBytes");
        const unsupported = lines.filter((l) => l.includes("dogstatsd_so_rcvbuf is not supported"));
        if (runtime.name === "bun") {
          // The kernel's figure, about twice what was granted (capped by net.core.rmem_max).
          assert.ok(typeof granted === "number" && granted > 0, `granted ${granted}`);
          const asked = so_rcvbuf || DEFAULT_RECEIVE_BUFFER_BYTES;
          assert.ok(
            lines.some((l) => l.includes(`(receive buffer ${granted} bytes for ${asked} asked)`)),
          );
          assert.equal(unsupported.length, 0);
        } else {
          // Deno cannot set it: only a configured size is worth a warning.
          assert.equal(granted, undefined);
          assert.equal(unsupported.length, so_rcvbuf ? 1 : 0);
        }
        assert.equal(registry.read("dogstatsd-udp.KernelDrops"), 0);
        assert.equal(registry.read("dogstatsd-udp.QueueDroppedPackets"), 0);
        assert.equal(registry.read("dogstatsd-udp.QueueBytes"), 0);
        assert.equal(registry.read("dogstatsd-uds.KernelDrops"), undefined, "no unix listener");
      } finally {
        await server.stop();
      }
    }
  });

  test("handleBatch() counts items lost to a failing sink as dropped", () => {
    const registry = new Registry();
    const server = new DogStatsDServer(dogstatsdSettings(config()), {
      runtime,
      registry,
      logger,
      sink: {
        addSamples() {
          throw new Error("full");
        },
        addEvent() {},
        addServiceCheck() {},
      },
    });
    server.handleBatch([{ data: new TextEncoder().encode("a:1:2|c\nb:1|g"), from: "" }], "udp");
    const dropped = registry.read("dogstatsd.Dropped") as Record<string, number>;
    assert.equal(dropped.sink_error, 3);
  });
});

describe("DogStatsDServer forwarding", () => {
  test("handleBatch() counts a packet that cannot be forwarded and still parses it", async () => {
    const registry = new Registry();
    const samples: MetricSample[] = [];
    const server = new DogStatsDServer(
      {
        ...dogstatsdSettings(config()),
        udpPort: null,
        forward: { host: "not an address", port: 9 },
      },
      {
        runtime,
        registry,
        logger,
        sink: { addSamples: (s) => samples.push(...s), addEvent() {}, addServiceCheck() {} },
      },
    );
    await server.start();
    const forwardErrors = () =>
      ((registry.read("dogstatsd.Dropped") ?? {}) as Record<string, number>).forward_error ?? 0;
    try {
      server.handleBatch([{ data: new TextEncoder().encode("a:1|c"), from: "" }], "udp");
      // Bun rejects the address at once; Deno's send fails a moment later.
      await until(() => forwardErrors() === 1);
    } finally {
      await server.stop();
    }
    assert.equal(samples.length, 1);
    assert.equal(forwardErrors(), 1);
  });
});

describe("DogStatsDServer eol", () => {
  test("handleBatch() requires a final newline only on the transports listed", () => {
    const registry = new Registry();
    const samples: MetricSample[] = [];
    const server = new DogStatsDServer(
      dogstatsdSettings(config({ dogstatsd_eol_required: ["uds"] })),
      {
        runtime,
        registry,
        logger,
        sink: { addSamples: (s) => samples.push(...s), addEvent() {}, addServiceCheck() {} },
      },
    );
    const packet = [{ data: new TextEncoder().encode("a:1|c\nb:1|c"), from: "" }];
    server.handleBatch(packet, "udp");
    server.handleBatch(packet, "uds");
    assert.deepEqual(samples.map((s) => s.name), ["a", "b", "a"]);
    assert.equal(registry.read("dogstatsd.UnterminatedMetricErrors"), 1);
  });
});
