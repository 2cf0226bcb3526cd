import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { createSocket } from "node:dgram";
import { tempDir } from "../_temp.ts";
import { logsHarness } from "./_logs_harness.ts";

/** A port free right now (TCP and UDP share the number space we ask for). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Sends `input` with socat, the real client the issue asks for. */
function socat(input: string | Uint8Array, address: string): void {
  const r = spawnSync("socat", ["-u", "-", address], { input, timeout: 10_000 });
  assert.equal(r.status, 0, String(r.stderr));
}

describe("TCP listener", () => {
  it("receives lines from socat clients, tagged with the source's service, source and tags", async () => {
    const port = await freePort();
    const h = logsHarness(tempDir("logs-tcp-"), [{
      type: "tcp",
      port,
      service: "edge-app",
      source: "syslog",
      tags: ["team:iot"],
    }]);
    await h.start();
    try {
      socat("first line\nsecond line\n", `TCP:127.0.0.1:${port}`);
      // A last line without a newline is sent when the connection closes; a long line spans reads.
      socat("from client two\n" + "z".repeat(20_000) + "\nno newline", `TCP:127.0.0.1:${port}`);
      await h.waitFor(() => h.messages.length === 5, "5 lines");
      assert.deepEqual(h.text().slice(0, 3), ["first line", "second line", "from client two"]);
      assert.equal(h.text()[3], "z".repeat(20_000));
      assert.equal(h.text()[4], "no newline");
      for (const m of h.messages) {
        assert.equal(m.service, "edge-app");
        assert.equal(m.source, "syslog");
        assert.deepEqual(m.tags, ["team:iot", "source_host:127.0.0.1"]);
        assert.equal(m.origin.identifier, "");
      }
      const s = h.sources.sources()[0];
      assert.equal(s.status.state, "ok");
      assert.ok(s.info.bytesRead > 20_000);
    } finally {
      await h.stop();
    }
  });

  it("closes a connection after idle_timeout and sends its pending partial line", async () => {
    const port = await freePort();
    const h = logsHarness(tempDir("logs-tcp-"), [{ type: "tcp", port, idle_timeout: "300ms" }]);
    await h.start();
    try {
      const { connect } = await import("node:net");
      const c = connect(port, "127.0.0.1");
      await new Promise((r) => c.once("connect", r));
      c.write("partial");
      const closed = new Promise((r) => c.once("close", r));
      await h.waitFor(() => h.messages.length === 1, "the flushed partial line", 5000);
      assert.deepEqual(h.text(), ["partial"]);
      await closed;
    } finally {
      await h.stop();
    }
  });

  it("a port in use is an error in the source's status, the others still run", async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "0.0.0.0", r));
    const port = (busy.address() as { port: number }).port;
    const other = await freePort();
    const h = logsHarness(tempDir("logs-tcp-"), [{ type: "tcp", port }, {
      type: "tcp",
      port: other,
    }]);
    try {
      await h.start();
      const [a, b] = h.sources.sources();
      assert.equal(a.status.state, "error");
      assert.match(a.status.message!, /EADDRINUSE|in use/i);
      assert.equal(b.status.state, "ok");
    } finally {
      await h.stop();
      busy.close();
    }
  });
});

describe("UDP listener", () => {
  it("turns socat datagrams into lines, cut at frame_size, tagged with the source", async () => {
    const port = await freePort();
    const h = logsHarness(tempDir("logs-udp-"), [{
      type: "udp",
      port,
      service: "sensor",
      source: "udp",
    }], {
      settings: { frameSize: 9000 },
    });
    await h.start();
    try {
      socat("a\nb", `UDP-SENDTO:127.0.0.1:${port}`);
      await h.waitFor(() => h.messages.length === 2, "2 lines from one datagram");
      assert.deepEqual(h.text(), ["a", "b"]);
      const c = createSocket("udp4");
      await new Promise<void>((r) =>
        c.send(new Uint8Array(10_000).fill(0x79), port, "127.0.0.1", () => r())
      );
      c.close();
      await h.waitFor(() => h.messages.length === 3, "the big datagram");
      assert.equal(h.text()[2], "y".repeat(9000));
      assert.equal(h.messages[0].service, "sensor");
      assert.equal(h.messages[0].source, "udp");
      assert.deepEqual(h.messages[0].tags, ["source_host:127.0.0.1"]);
    } finally {
      await h.stop();
    }
  });

  it("drops and counts datagrams while the sender refuses", async () => {
    const port = await freePort();
    let open = false;
    const h = logsHarness(tempDir("logs-udp-"), [{ type: "udp", port }], { canAccept: () => open });
    await h.start();
    try {
      socat("dropped\n", `UDP-SENDTO:127.0.0.1:${port}`);
      await h.waitFor(() => h.registry.read("logs-agent.ListenerLogsDropped") === 1, "the drop");
      open = true;
      socat("kept\n", `UDP-SENDTO:127.0.0.1:${port}`);
      await h.waitFor(() => h.messages.length === 1, "the kept line");
      assert.deepEqual(h.text(), ["kept"]);
    } finally {
      await h.stop();
    }
  });
});

describe("expected_tags_duration", () => {
  it("adds the host tags to messages only while it runs", async () => {
    const port = await freePort();
    const h = logsHarness(tempDir("logs-hosttags-"), [{ type: "udp", port }], {
      settings: { hostTags: ["region:north"], expectedTagsMs: 400 },
    });
    await h.start();
    try {
      socat("early\n", `UDP-SENDTO:127.0.0.1:${port}`);
      await h.waitFor(() => h.messages.length === 1, "the early line");
      await new Promise((r) => setTimeout(r, 500));
      socat("late\n", `UDP-SENDTO:127.0.0.1:${port}`);
      await h.waitFor(() => h.messages.length === 2, "the late line");
      assert.deepEqual(h.messages[0].tags, ["source_host:127.0.0.1", "region:north"]);
      assert.deepEqual(h.messages[1].tags, ["source_host:127.0.0.1"]);
    } finally {
      await h.stop();
    }
  });
});
