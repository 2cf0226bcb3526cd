/**
 * Outage load script: series flow through the forwarder at a fixed rate while the intake
 * fails with 503, then refuses connections, then recovers. Reports lost points (must be 0),
 * duplicates, what reached the disk, and how long the backlog took to drain.
 *
 *   bun scripts/bench/outage.ts [--intake URL] [--rate 1000] [--before 10] [--outage 120]
 *       [--after 20] [--mode none|stop|kill] [--flush 1] [--backoff-max 64] [--memory BYTES]
 *       [--timeout 600]
 *
 * The forwarder runs in a child process (this script with `--child`) pointed at a fault relay
 * on 127.0.0.1. With `--intake URL` the relay forwards healthy traffic to that intake (for
 * example `outpost intake`) and counts a point as arrived when the intake answers 2xx;
 * without it, the relay answers 202 itself. Modes:
 * - `none`: one forwarder for the whole run;
 * - `stop`: SIGTERM the forwarder at 3/4 of the outage (it persists to disk), start another;
 * - `kill`: SIGKILL it instead; the report gives how many points were only in memory then.
 *
 * Payloads are `/api/v1/series` JSON, one per `--flush` seconds, each point tagged with its
 * run and sequence number. Results go to `bench/results/outage-<mode>.json`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";

const { values: args } = parseArgs({
  options: {
    intake: { type: "string" },
    rate: { type: "string", default: "1000" },
    before: { type: "string", default: "10" },
    outage: { type: "string", default: "120" },
    after: { type: "string", default: "20" },
    mode: { type: "string", default: "none" },
    flush: { type: "string", default: "1" },
    "backoff-max": { type: "string", default: "64" },
    /** forwarder_retry_queue_payloads_max_size; smaller sends more to disk sooner. */
    memory: { type: "string", default: String(15 * 1024 * 1024) },
    timeout: { type: "string", default: "600" },
    // Child-only options.
    child: { type: "boolean", default: false },
    url: { type: "string" },
    dir: { type: "string" },
    run: { type: "string" },
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (args.child) await child();
else await parent();

/** The forwarder side: generates series, submits them, reports what it submitted. */
async function child(): Promise<void> {
  const { runtime } = await import("../../src/runtime/mod.ts");
  const { configSchema } = await import("../../src/config/mod.ts");
  const { createLogger } = await import("../../src/log/mod.ts");
  const { Registry } = await import("../../src/telemetry/mod.ts");
  const { forwarderComponent } = await import("../../src/forwarder/mod.ts");
  const config = v.parse(configSchema, {
    dd_url: args.url,
    api_key: "00000000000000000000000000000000",
    forwarder_storage_path: args.dir,
    forwarder_backoff_max: Number(args["backoff-max"]),
    forwarder_retry_queue_payloads_max_size: Number(args.memory),
  });
  const fwd = forwarderComponent(runtime, {
    config,
    registry: new Registry(),
    logger: createLogger({ level: "warn" }),
  });
  await fwd.start();
  const out = (o: unknown) => process.stdout.write(JSON.stringify(o) + "\n");
  let stopping = false;
  process.on("SIGTERM", async () => {
    stopping = true;
    await fwd.stop();
    out({ stopped: true, snapshot: fwd.snapshot() });
    process.exit(0);
  });
  const perPayload = Math.round(Number(args.rate) * Number(args.flush));
  const encoder = new TextEncoder();
  let seq = 0;
  setInterval(() => out({ snapshot: fwd.snapshot() }), 100);
  process.stdin.on("data", (d) => {
    if (d.toString().includes("quiet")) stopping = true; // stop generating, keep forwarding
  });
  process.stdin.resume();
  while (true) {
    if (!stopping) {
      const now = Math.floor(Date.now() / 1000);
      const series = [];
      for (let i = 0; i < perPayload; i++, seq++) {
        series.push({
          metric: "outpost.bench.outage",
          points: [[now, seq]],
          type: "gauge",
          host: "bench",
          tags: [`run:${args.run}`, `seq:${seq}`],
        });
      }
      fwd.submit({
        route: "/api/v1/series",
        body: encoder.encode(JSON.stringify({ series })),
        headers: { "Content-Type": "application/json" },
        storable: true,
        kind: "series",
      });
      out({ sent: seq });
    }
    await sleep(Number(args.flush) * 1000);
  }
}

/** The relay in front of the intake: healthy, failing with 503, or down. */
class FaultRelay {
  mode: "ok" | "503" | "down" = "ok";
  port = 0;
  /** `run:seq` → times it arrived. */
  readonly arrived = new Map<string, number>();
  #server: ReturnType<typeof Bun.serve> | undefined;
  constructor(readonly intake: string | undefined) {}

  up(): void {
    this.#server = Bun.serve({
      hostname: "127.0.0.1",
      port: this.port,
      fetch: (req) => this.#handle(req),
    });
    this.port = this.#server.port ?? 0;
  }
  async down(): Promise<void> {
    await this.#server?.stop(true);
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/api/v1/validate") return new Response("{}", { status: 200 });
    if (this.mode === "503") return new Response("outage", { status: 503 });
    const body = new Uint8Array(await req.arrayBuffer());
    let status = 202;
    if (this.intake) {
      try {
        const res = await fetch(this.intake.replace(/\/$/, "") + url.pathname + url.search, {
          method: req.method,
          headers: req.headers,
          body,
        });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 502;
      }
    }
    if (status < 300 && url.pathname === "/api/v1/series") {
      const { series } = JSON.parse(new TextDecoder().decode(body));
      for (const s of series) {
        const key = `${s.tags[0]}/${s.tags[1]}`;
        this.arrived.set(key, (this.arrived.get(key) ?? 0) + 1);
      }
    }
    return new Response(status < 300 ? '{"status":"ok"}' : "upstream error", { status });
  }
}

interface ChildHandle {
  run: string;
  sent: number;
  /** Points in memory (channels and retry queue) at the last snapshot. */
  memoryPoints: number;
  diskBytesPeak: number;
  /** Transactions in memory or on disk at the last snapshot. */
  pending: number;
  proc: ReturnType<typeof Bun.spawn>;
  exited: Promise<number>;
}

function startChild(run: string, url: string, dir: string): ChildHandle {
  const proc = Bun.spawn({
    cmd: [
      process.execPath,
      resolve(import.meta.dirname, "outage.ts"),
      "--child",
      "--url",
      url,
      "--dir",
      dir,
      "--run",
      run,
      "--rate",
      args.rate!,
      "--flush",
      args.flush!,
      "--backoff-max",
      args["backoff-max"]!,
      "--memory",
      args.memory!,
    ],
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  const handle: ChildHandle = {
    run,
    sent: 0,
    memoryPoints: 0,
    diskBytesPeak: 0,
    pending: Infinity,
    proc,
    exited: proc.exited,
  };
  const perPayload = Math.round(Number(args.rate) * Number(args.flush));
  (async () => {
    let buffered = "";
    for await (const chunk of proc.stdout as ReadableStream<Uint8Array>) {
      buffered += new TextDecoder().decode(chunk);
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        let msg;
        try {
          msg = JSON.parse(line);
        } catch {
          continue; // a line cut short by SIGKILL
        }
        if (msg.sent !== undefined) handle.sent = msg.sent;
        if (msg.snapshot) {
          const d = Object.values(msg.snapshot)[0] as Record<string, number>;
          const inMemory = d.highPrio + d.lowPrio + d.inFlight + d.retryQueueTransactions;
          handle.memoryPoints = inMemory * perPayload;
          handle.diskBytesPeak = Math.max(handle.diskBytesPeak, d.diskBytes);
          handle.pending = inMemory + d.diskFiles;
        }
      }
    }
  })();
  return handle;
}

async function parent(): Promise<void> {
  const mode = args.mode as "none" | "stop" | "kill";
  const [before, outage, after] = [args.before, args.outage, args.after].map((s) =>
    Number(s) * 1000
  );
  const dir = mkdtempSync(join(tmpdir(), "outpost-outage-"));
  const relay = new FaultRelay(args.intake);
  relay.up();
  const url = `http://127.0.0.1:${relay.port}`;
  console.log(`relay on ${url}${args.intake ? ` → ${args.intake}` : ""}; mode ${mode}`);

  const children: ChildHandle[] = [startChild("a", url, dir)];
  let memoryAtKill = 0;
  await sleep(before);
  const outageStart = Date.now();
  relay.mode = "503";
  console.log("outage: 503");
  const swapAt = outageStart + outage * 0.75;
  const halfway = outageStart + outage / 2;
  let down = false;
  while (Date.now() < outageStart + outage) {
    if (!down && Date.now() >= halfway) {
      relay.mode = "down";
      await relay.down();
      down = true;
      console.log("outage: connection refused");
    }
    if (mode !== "none" && children.length === 1 && Date.now() >= swapAt) {
      const a = children[0];
      if (mode === "kill") {
        memoryAtKill = a.memoryPoints;
        a.proc.kill("SIGKILL");
      } else a.proc.kill("SIGTERM");
      await a.exited;
      console.log(`forwarder ${mode === "kill" ? "killed" : "stopped"}; starting a new one`);
      children.push(startChild("b", url, dir));
    }
    await sleep(100);
  }
  relay.mode = "ok";
  relay.up();
  const recoveredAt = Date.now();
  console.log("intake recovered");
  await sleep(after);
  const last = children.at(-1)!;
  (last.proc.stdin as { write(s: string): void; flush(): void }).write("quiet\n");
  (last.proc.stdin as { flush(): void }).flush();
  await sleep(Number(args.flush) * 1000 + 200);

  const expected = () => children.reduce((n, c) => n + c.sent, 0);
  const unique = () => relay.arrived.size;
  const deadline = Date.now() + Number(args.timeout) * 1000;
  // Done when everything arrived, or (after a kill) when the forwarder holds nothing more
  // and arrivals have settled.
  let lastCount = -1;
  let stableSince = Date.now();
  while (unique() < expected() && Date.now() < deadline) {
    if (unique() !== lastCount) [lastCount, stableSince] = [unique(), Date.now()];
    if (last.pending === 0 && Date.now() - stableSince > 3000) break;
    await sleep(250);
  }
  const drainedMs = Date.now() - recoveredAt;
  last.proc.kill("SIGTERM");
  await last.exited;
  await relay.down();

  let duplicates = 0;
  for (const n of relay.arrived.values()) duplicates += n - 1;
  const result = {
    mode,
    rate: Number(args.rate),
    outageSeconds: outage / 1000,
    sentPoints: expected(),
    arrivedPoints: unique(),
    lostPoints: expected() - unique(),
    duplicatePoints: duplicates,
    inMemoryAtKill: mode === "kill" ? memoryAtKill : null,
    diskBytesPeak: Math.max(...children.map((c) => c.diskBytesPeak)),
    drainSecondsAfterRecovery: Math.round(drainedMs / 100) / 10,
    intake: args.intake ?? "relay only",
  };
  console.table(result);
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(`bench/results/outage-${mode}.json`, JSON.stringify(result, null, 2) + "\n");
  rmSync(dir, { recursive: true, force: true });
  process.exit(result.lostPoints > (result.inMemoryAtKill ?? 0) ? 1 : 0);
}
