/**
 * The AWS Lambda Runtime Interface Emulator for e2e tests: built by `scripts/tools.ts` into
 * `.tools/bin`, run with its own `/opt` through a private mount namespace (`unshare -m`, with a
 * user namespace when not root) so the machine's `/opt` is untouched. Also a Telemetry API
 * stand-in, since the on-demand emulator answers `PUT /2022-07-01/telemetry` with
 * `Telemetry.NotSupported`.
 */
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { freePort, waitFor } from "../../scripts/bench/_agent.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const RIE = join(ROOT, ".tools", "bin", "aws-lambda-rie");

/** Builds the emulator (once per machine); fails the hook when it cannot. */
export function buildEmulator(): void {
  const tools = Bun.spawnSync({
    cmd: [process.execPath, join(ROOT, "scripts/tools.ts")],
    stdout: "inherit",
    stderr: "inherit",
  });
  assert.equal(tools.exitCode, 0, "scripts/tools.ts could not build aws-lambda-rie");
  assert.ok(existsSync(RIE));
}

export interface Emulator {
  /** Posts one event to the invoke endpoint; the function's result. */
  invoke(event: unknown): Promise<any>;
  /** SIGTERM (the emulator's SHUTDOWN), then the emulator's whole output. */
  shutdown(): Promise<string>;
  kill(): void;
}

/**
 * Starts the emulator on free ports with `bootstrap` as the runtime; `opt` maps paths under
 * the private `/opt` to the files copied there (made executable); `runtimeApiPort` is where
 * the emulator serves the Runtime API.
 */
export async function startEmulator(o: {
  dir: string;
  bootstrap: string;
  opt: Record<string, string>;
  env: Record<string, string>;
  runtimeApiPort?: number;
}): Promise<Emulator> {
  const opt = join(o.dir, "opt");
  for (const [path, from] of Object.entries(o.opt)) {
    const to = join(opt, path);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
    chmodSync(to, 0o755);
  }
  const invokePort = await freePort();
  const script = [
    `mount --bind ${opt} /opt || exit 9`,
    `exec ${RIE} --runtime-interface-emulator-address 127.0.0.1:${invokePort} ` +
    `--runtime-api-address 127.0.0.1:${o.runtimeApiPort ?? await freePort()} ${o.bootstrap}`,
  ].join("\n");
  const proc = Bun.spawn({
    // Not root: a user namespace (`-r`) makes the private mount possible all the same.
    cmd: [
      "unshare",
      ...(process.getuid?.() === 0 ? [] : ["-r"]),
      "-m",
      "--propagation",
      "private",
      "bash",
      "-c",
      script,
    ],
    env: { PATH: process.env.PATH ?? "", ...o.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = new Response(proc.stdout).text();
  const err = new Response(proc.stderr).text();
  const invoke = async (event: unknown) => {
    const res = await fetch(
      `http://127.0.0.1:${invokePort}/2015-03-31/functions/function/invocations`,
      { method: "POST", body: JSON.stringify(event) },
    );
    return await res.json();
  };
  return {
    invoke,
    async shutdown() {
      proc.kill("SIGTERM");
      await proc.exited;
      return (await out) + (await err);
    },
    kill: () => proc.kill("SIGKILL"),
  };
}

/** Waits until the emulator answers its first invocation (it starts the runtime lazily). */
export function firstInvoke(emu: Emulator, event: unknown, ms = 60_000): Promise<any> {
  return waitFor("the emulator", () => emu.invoke(event), ms);
}

/** What the Telemetry stand-in saw. */
export interface TelemetryStandIn {
  /** `host:port` to give the extension and the runtime as `AWS_LAMBDA_RUNTIME_API`. */
  address: string;
  /** The subscription bodies the extension sent. */
  subscriptions: any[];
  /** Request ids in the order the runtime received them. */
  requestIds: string[];
  /** Batches that the extension's listener did not answer with 2xx. */
  failedPosts: number;
  stop(): void;
}

/**
 * A proxy in front of the emulator's Runtime API that plays the Telemetry API as Lambda
 * documents it: it answers the subscription itself and posts to the subscribed URI
 * (`sandbox.localdomain` is Lambda's name for the sandbox: 127.0.0.1 here) `platform.start`
 * when the runtime receives an invocation, then, once the runtime posted its result, the new
 * lines of `functionLog` (the runtime's stdout) as `function` records, `platform.runtimeDone`
 * and `platform.report` with the measured duration and the runtime's peak RSS (VmHWM of the
 * pid in `runtimePidFile`). Everything else is forwarded to the emulator unchanged.
 */
export function startTelemetryStandIn(o: {
  upstream: string;
  functionLog: string;
  runtimePidFile: string;
  memorySizeMB: number;
}): TelemetryStandIn {
  let destination: string | undefined;
  let logOffset = 0;
  const starts = new Map<string, number>();
  const state: Omit<TelemetryStandIn, "address" | "stop"> = {
    subscriptions: [],
    requestIds: [],
    failedPosts: 0,
  };
  const post = async (events: Array<{ type: string; record: unknown; time?: string }>) => {
    if (!destination || events.length === 0) return;
    const time = new Date().toISOString();
    const res = await fetch(destination, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(events.map((e) => ({ ...e, time: e.time ?? time }))),
    });
    if (!res.ok) state.failedPosts++;
  };
  const newLogLines = () => {
    const text = readFileSync(o.functionLog, "utf8");
    const end = text.lastIndexOf("\n") + 1;
    const lines = text.slice(logOffset, end).split("\n").filter((l) => l !== "");
    logOffset = end;
    return lines;
  };
  const peakMB = () => {
    const pid = readFileSync(o.runtimePidFile, "utf8").trim();
    const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
    return Math.ceil(kb / 1024);
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    // The extension's and the runtime's `next` calls block until the next event.
    idleTimeout: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method === "PUT" && url.pathname === "/2022-07-01/telemetry") {
        const body = await req.json();
        state.subscriptions.push(body);
        destination = String(body.destination?.URI ?? "")
          .replace(/^http:\/\/(sandbox\.localdomain|sandbox)(?=[:/])/, "http://127.0.0.1");
        return new Response("OK");
      }
      const body = ["GET", "HEAD"].includes(req.method) ? undefined : await req.arrayBuffer();
      const up = await fetch(`http://${o.upstream}${url.pathname}${url.search}`, {
        method: req.method,
        headers: req.headers,
        body,
      });
      const res = new Response(await up.arrayBuffer(), { status: up.status, headers: up.headers });
      if (url.pathname === "/2018-06-01/runtime/invocation/next" && up.ok) {
        const requestId = up.headers.get("lambda-runtime-aws-request-id") ?? "";
        state.requestIds.push(requestId);
        starts.set(requestId, performance.now());
        await post([{ type: "platform.start", record: { requestId, version: "$LATEST" } }]);
      }
      const done = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/
        .exec(url.pathname);
      if (done && starts.has(done[1])) {
        const requestId = done[1];
        const status = done[2] === "response" ? "success" : "error";
        const durationMs = performance.now() - starts.get(requestId)!;
        // A line's time is the one the runtime client printed at its head, when it did.
        await post(
          newLogLines().map((record) => ({
            type: "function",
            record: record + "\n",
            time: /^\d{4}-\d\d-\d\dT[\d:.]+Z(?=\t)/.exec(record)?.[0],
          })),
        );
        await post([{
          type: "platform.runtimeDone",
          record: {
            requestId,
            status,
            metrics: { durationMs, producedBytes: body?.byteLength ?? 0 },
          },
        }]);
        await post([{
          type: "platform.report",
          record: {
            requestId,
            status,
            metrics: {
              durationMs: performance.now() - starts.get(requestId)!,
              billedDurationMs: Math.ceil(durationMs),
              memorySizeMB: o.memorySizeMB,
              maxMemoryUsedMB: peakMB(),
            },
          },
        }]);
      }
      return res;
    },
  });
  return {
    address: `127.0.0.1:${server.port}`,
    get subscriptions() {
      return state.subscriptions;
    },
    get requestIds() {
      return state.requestIds;
    },
    get failedPosts() {
      return state.failedPosts;
    },
    stop: () => server.stop(true),
  };
}
