/**
 * Bad input at the compiled agent's trace receiver: truncated msgpack, a v0.5 dictionary index
 * out of range, a 30 MiB body (declared and chunked), wrong content types, a slow-loris client
 * and a busy decoder. Each gets the Agent's answer and is counted by reason in `/debug/vars`
 * and `outpost status`, and the receiver keeps serving.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { BIN, outpost, type RunningAgent, startAgent } from "./_binary.ts";
import { freePort, freeUdpPort } from "../../scripts/bench/_agent.ts";
import { join } from "node:path";

let agent: RunningAgent;
let tracePort = 0;
let expvarPort = 0;
let url = "";

before(async () => {
  tracePort = await freePort();
  expvarPort = await freePort();
  agent = await startAgent(
    [
      "dd_url: http://127.0.0.1:9",
      `expvar_port: ${expvarPort}`,
      "gui_port: -1",
      `dogstatsd_port: ${await freeUdpPort()}`,
      "apm_config:",
      `  receiver_port: ${tracePort}`,
      "  apm_dd_url: http://127.0.0.1:9",
      "  receiver_timeout: 1",
      "  decoders: 1",
      "  decoder_timeout: 100",
      "",
    ].join("\n"),
  );
  url = `http://127.0.0.1:${tracePort}`;
});

after(async () => {
  agent?.proc.kill("SIGTERM");
  await agent?.proc.exited;
});

const errors = async () =>
  (await (await fetch(`http://127.0.0.1:${expvarPort}/debug/vars`)).json()).apm.RequestErrors;
const post = (path: string, body: BodyInit, headers: Record<string, string> = {}) =>
  fetch(`${url}${path}`, { method: "POST", body, headers });
const msgpack = { "content-type": "application/msgpack" };

/** A request whose body arrives one byte every `everyMs`, on a raw socket. */
function slowLoris(everyMs: number): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const sock = connect(tracePort, "127.0.0.1");
    let timer: ReturnType<typeof setInterval>;
    let answer = "";
    sock.on("connect", () => {
      sock.write(
        "POST /v0.4/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          "Content-Length: 1000\r\n\r\n[",
      );
      timer = setInterval(() => sock.write(" "), everyMs);
    });
    sock.on("data", (d) => {
      answer += d.toString();
      const m = /^HTTP\/1\.1 (\d+)/.exec(answer);
      if (m) {
        clearInterval(timer);
        sock.destroy();
        resolve({ status: Number(m[1]), ms: Date.now() - started });
      }
    });
    sock.on("error", (e) => {
      clearInterval(timer);
      reject(e);
    });
  });
}

describe("the trace receiver under bad input", () => {
  it("truncated msgpack: 400 with the reason, counted", async () => {
    const res = await post("/v0.4/traces", new Uint8Array([0x91, 0x91, 0x82, 0xa7]), msgpack);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /./);
    assert.equal((await errors())["/v0.4/traces unexpected-eof"], 1);
  });

  it("a v0.5 string index out of range: 400, counted", async () => {
    const body = new Uint8Array([
      0x92,
      0x91,
      0xa1,
      0x61,
      0x91,
      0x91,
      0x9c,
      7,
      0,
      0,
      1,
      2,
      0,
      0,
      0,
      0,
      0x80,
      0x80,
      0,
    ]);
    const res = await post("/v0.5/traces", body, msgpack);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /index 7/);
    assert.equal((await errors())["/v0.5/traces index-out-of-range"], 1);
  });

  it("a 30 MiB body: 413, whether its length is declared or it is chunked", async () => {
    const big = new Uint8Array(30 * 1024 * 1024).fill(0x20);
    const declared = await post("/v0.4/traces", big, { "content-type": "application/json" });
    assert.equal(declared.status, 413);
    const chunks = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 30; i++) c.enqueue(new Uint8Array(1024 * 1024).fill(0x20));
        c.close();
      },
    });
    const chunked = await fetch(`${url}/v0.4/traces`, {
      method: "POST",
      body: chunks,
      headers: { "content-type": "application/json" },
      duplex: "half",
    } as RequestInit);
    assert.equal(chunked.status, 413);
    assert.equal((await errors())["/v0.4/traces payload-too-large"], 2);
  });

  it("wrong content types: msgpack on a legacy route is 415, garbage on v0.4 is 400", async () => {
    const legacy = await post("/v0.2/traces", new Uint8Array([0x90]), msgpack);
    assert.equal(legacy.status, 415);
    const garbage = await post("/v0.4/traces", "not a payload", { "content-type": "text/plain" });
    assert.equal(garbage.status, 400);
    const e = await errors();
    assert.equal(e["/v0.2/traces unsupported-media-type"], 1);
  });

  it("a slow-loris client is cut off after receiver_timeout and frees its decoder slot", {
    timeout: 20_000,
  }, async () => {
    const loris = slowLoris(200);
    await new Promise((r) => setTimeout(r, 300));
    // The only decoder is held: refused after decoder_timeout, 200 unless asked for the real status.
    const busy = await post("/v0.4/traces", "[]", { "content-type": "application/json" });
    assert.equal(busy.status, 200);
    const real = await post("/v0.4/traces", "[]", {
      "content-type": "application/json",
      "datadog-send-real-http-status": "true",
    });
    assert.equal(real.status, 429);
    assert.ok("rate_by_service" in await real.json());
    const { status, ms } = await loris;
    assert.equal(status, 408);
    assert.ok(ms >= 900 && ms < 5000, `cut off after ${ms} ms`);
    const ok = await post("/v0.4/traces", "[]", { "content-type": "application/json" });
    assert.equal(ok.status, 200);
    const e = await errors();
    assert.equal(e["/v0.4/traces timeout"], 1);
    assert.equal(e["/v0.4/traces decoder-busy"], 2);
  });

  it("the agent keeps serving, and status shows the refusals by reason", async () => {
    const res = await post("/v0.4/traces", "[[]]", { "content-type": "application/json" });
    assert.equal(res.status, 200);
    const config = join(agent.dir, "datadog.yaml");
    const s = await outpost(["status", "apm", "-c", config]);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /APM Agent/);
    assert.match(s.stdout, /Requests refused: \d+ \(.*\/v0\.4\/traces payload-too-large=2/);
    assert.match(s.stdout, /\/v0\.5\/traces index-out-of-range=1/);
    assert.match(s.stdout, new RegExp(`Receiver: localhost:${tracePort}`));
  });
});

void BIN;
