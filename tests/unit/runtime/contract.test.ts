// The Runtime contract, run unchanged under Bun and Deno.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { type Datagram, runtime } from "../../../src/runtime/mod.ts";
import { NotSupportedError } from "../../../src/runtime/types.ts";
import { tempDir } from "../../_temp.ts";

const dir = tempDir("outpost-runtime-");

function nextBatch(): { onBatch: (b: Datagram[]) => void; received: Promise<Datagram[]> } {
  let resolve!: (b: Datagram[]) => void;
  const received = new Promise<Datagram[]>((r) => (resolve = r));
  return { onBatch: (b) => resolve(b), received };
}

describe(`runtime (${runtime.name})`, () => {
  it("names itself and its version", () => {
    assert.ok(runtime.name === "bun" || runtime.name === "deno");
    assert.match(runtime.version, /^\d+\.\d+\.\d+/);
  });

  it("serve() answers HTTP on a TCP port chosen by the system", async () => {
    const server = await runtime.serve(
      { hostname: "127.0.0.1", port: 0 },
      (req) => new Response(`hi ${new URL(req.url).pathname}`),
    );
    try {
      assert.ok(server.port > 0);
      const res = await fetch(`http://127.0.0.1:${server.port}/x`);
      assert.equal(await res.text(), "hi /x");
    } finally {
      await server.close();
    }
  });

  it("serve() listens on a unix socket with the requested mode", async () => {
    const path = join(dir, "api.sock");
    const server = await runtime.serve({ path, mode: 0o600 }, () => Response.json({ ok: true }));
    try {
      const st = statSync(path);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o600);
      const out = await runtime.spawn(["curl", "-s", "--unix-socket", path, "http://localhost/"]);
      assert.equal(new TextDecoder().decode(out.stdout), '{"ok":true}');
    } finally {
      await server.close();
    }
  });

  it("listenUdp() receives datagrams and send() sends them", async () => {
    const { onBatch, received } = nextBatch();
    const receiver = await runtime.listenUdp("127.0.0.1", 0, { onBatch });
    const sender = await runtime.listenUdp("127.0.0.1", 0, { onBatch: () => {} });
    try {
      sender.send(new TextEncoder().encode("page.views:1|c"), "127.0.0.1", receiver.port);
      const batch = await received;
      assert.equal(new TextDecoder().decode(batch[0].data), "page.views:1|c");
      assert.equal(batch[0].from, `127.0.0.1:${sender.port}`);
    } finally {
      receiver.close();
      sender.close();
    }
  });

  it("listenTcp() hands each connection's bytes in order, pauses and resumes it, sees its end", async () => {
    const { connect } = await import("node:net");
    const got: string[] = [];
    let ended!: () => void;
    const closed = new Promise<void>((r) => (ended = r));
    let peer = "";
    const server = await runtime.listenTcp("127.0.0.1", 0, {
      onConnection(conn) {
        peer = conn.remoteAddress;
        conn.pause();
        setTimeout(() => conn.resume(), 50);
        return { onData: (c) => got.push(new TextDecoder().decode(c)), onClose: () => ended() };
      },
    });
    try {
      const c = connect(server.port, "127.0.0.1");
      await new Promise((r) => c.once("connect", r));
      c.end("one\ntwo\n");
      await closed;
      assert.equal(got.join(""), "one\ntwo\n");
      assert.match(peer, /127\.0\.0\.1$/);
    } finally {
      await server.close();
    }
  });

  it("listenUdp() stats() counts what was read and finds the kernel's drop count", async () => {
    for (const dedicatedReader of [false, true]) {
      const { onBatch, received } = nextBatch();
      const receiver = await runtime.listenUdp("127.0.0.1", 0, { onBatch, dedicatedReader });
      const sender = await runtime.listenUdp("127.0.0.1", 0, { onBatch: () => {} });
      try {
        assert.deepEqual(receiver.stats(), {
          read: 0,
          queuedBytes: 0,
          queueDroppedDatagrams: 0,
          queueDroppedBytes: 0,
          kernelDrops: 0,
        });
        sender.send(new TextEncoder().encode("a:1|c"), "127.0.0.1", receiver.port);
        await received;
        const st = receiver.stats();
        assert.equal(st.read, 1, `dedicatedReader ${dedicatedReader}`);
        assert.equal(st.queueDroppedDatagrams, 0);
        assert.equal(st.kernelDrops, 0);
      } finally {
        receiver.close();
        sender.close();
      }
    }
  });

  it("listenUnixDatagram() receives datagrams, or says the runtime has none", async () => {
    const path = join(dir, "dsd.sock");
    const { onBatch, received } = nextBatch();
    let socket;
    try {
      socket = await runtime.listenUnixDatagram(path, { onBatch });
    } catch (e) {
      assert.ok(e instanceof NotSupportedError);
      assert.equal(e.message, `Not supported on ${runtime.name}: unix datagram sockets`);
      return;
    }
    try {
      assert.ok(statSync(path).isSocket());
      const out = await runtime.spawn([
        "python3",
        "-c",
        `import socket;s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM);s.sendto(b"uds.metric:2|g","${path}")`,
      ]);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      const batch = await received;
      assert.equal(new TextDecoder().decode(batch[0].data), "uds.metric:2|g");
    } finally {
      socket.close();
    }
  });

  it("spawn() passes stdin and collects stdout, stderr and the exit code", async () => {
    const out = await runtime.spawn(["sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3"], {
      stdin: new TextEncoder().encode("hello"),
    });
    assert.equal(out.code, 3);
    assert.equal(new TextDecoder().decode(out.stdout), "HELLO");
    assert.equal(new TextDecoder().decode(out.stderr), "oops\n");
    assert.equal(out.timedOut, false);
  });

  it("spawn() kills a command that runs past its timeout", async () => {
    const out = await runtime.spawn(["sleep", "30"], { timeoutMs: 200 });
    assert.equal(out.timedOut, true);
    assert.notEqual(out.code, 0);
  });

  it("start() with pipe talks to the child line by line over stdin and stdout", async () => {
    // An echo loop: each line is answered before the next is sent, as the Python runner is.
    const child = runtime.start(
      ["sh", "-c", 'while read -r l; do echo "got $l"; echo "err $l" >&2; done; exit 4'],
      { pipe: true },
    );
    assert.ok(child.stdin && child.stdout && child.stderr);
    const reader = child.stdout.getReader();
    const errText = new Response(child.stderr).text();
    const decoder = new TextDecoder();
    let buffered = "";
    const nextLine = async (): Promise<string> => {
      while (!buffered.includes("\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stdout ended");
        buffered += decoder.decode(value, { stream: true });
      }
      const at = buffered.indexOf("\n");
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      return line;
    };
    child.stdin.write(new TextEncoder().encode("one\n"));
    assert.equal(await nextLine(), "got one");
    child.stdin.write(new TextEncoder().encode("two\n"));
    assert.equal(await nextLine(), "got two");
    child.stdin.close();
    assert.equal(await child.exited, 4);
    assert.equal(await errText, "err one\nerr two\n");
    // Writing to a child that has exited is lost, not thrown.
    child.stdin.write(new TextEncoder().encode("late\n"));
  });

  it("start() without pipe leaves the handle's streams unset", async () => {
    const child = runtime.start(["true"]);
    assert.equal(child.stdin, undefined);
    assert.equal(child.stdout, undefined);
    assert.equal(await child.exited, 0);
  });

  it("onSignal() calls the handler and can be removed", async () => {
    let calls = 0;
    const off = runtime.onSignal("SIGHUP", () => calls++);
    process.kill(process.pid, "SIGHUP");
    for (let i = 0; i < 50 && calls === 0; i++) await new Promise((r) => setTimeout(r, 10));
    off();
    assert.equal(calls, 1);
  });

  it("zstdCompress() round-trips and compresses", () => {
    const data = new TextEncoder().encode("metric.name:1|c|#env:prod\n".repeat(200));
    const packed = runtime.zstdCompress(data, 1);
    assert.ok(packed.length < data.length / 10);
    assert.deepEqual(new Uint8Array(runtime.zstdDecompress(packed)), data);
  });

  it("memory() and hostname() report the process and host", () => {
    const m = runtime.memory();
    assert.ok(m.rss > 0 && m.heapUsed > 0 && m.heapTotal > 0, JSON.stringify(m));
    assert.ok(runtime.hostname().length > 0);
  });
});
