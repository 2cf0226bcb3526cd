/**
 * Outage load script: series flow through the forwarder at a fixed rate while the intake
 * fails with 503, then refuses connections, then recovers. Reports lost points (must be 0),
 * duplicates, what reached the disk, and how long the backlog took to drain.
 *
 *   bun scripts/bench/outage.ts [--intake URL] [--rate 1000] [--before 10] [--outage 120]
 *       [--after 20] [--mode none|stop|kill] [--flush 1] [--backoff-max 64] [--memory BYTES]
 *       [--timeout 600] [--target forwarder|agent] [--bin dist/outpost-linux-x64] [--contexts N]
 *
 * The forwarder runs in a child process (this script with `--child`) pointed at a fault relay
 * on 127.0.0.1. With `--intake URL` the relay forwards healthy traffic to that intake (for
 * example `outpost intake`) and counts a point as arrived when the intake answers 2xx;
 * without it, the relay answers 202 itself. Modes:
 * - `none`: one forwarder for the whole run;
 * - `stop`: SIGTERM the forwarder at 3/4 of the outage (it persists to disk), start another;
 * - `kill`: SIGKILL it instead; the report gives how many points were only in memory then.
 *
 * With `--target agent` the subject is the whole compiled agent (`outpost run`) fed by DogStatsD
 * counters, and the fault switch of a separate `outpost intake` makes the outage (see agentRig);
 * results go to `bench/results/outage-agent-<mode>.json`.
 *
 * Payloads are `/api/v1/series` JSON, one per `--flush` seconds, each point tagged with its
 * run and sequence number. Results go to `bench/results/outage-<mode>.json`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import {
  agentSetup,
  binary,
  forwarderPending,
  LineSender,
  paced,
  sleep,
  startAgent,
  startIntake,
} from "./_agent.ts";

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
    /** `forwarder` (child processes behind a relay) or `agent` (compiled outpost run + intake). */
    target: { type: "string", default: "forwarder" },
    /** The compiled binary for `--target agent` (default: OUTPOST_BIN, else dist/). */
    bin: { type: "string" },
    /** Counter contexts for `--target agent`. @default rate × 10 */
    contexts: { type: "string" },
    // Child-only options.
    child: { type: "boolean", default: false },
    url: { type: "string" },
    dir: { type: "string" },
    run: { type: "string" },
  },
});

/** The forwarder side: generates series, submits them, reports what it submitted. */
async function child(): Promise<void> {
  const { runtime } = await import("../../src/runtime/mod.ts");
  const { configSchema } = await import("../../src/config/mod.ts");
  const { createLogger } = await import("../../src/log/mod.ts");
  const { Registry } = await import("../../src/telemetry/mod.ts");
  const { buildForwarder, forwarderSettings } = await import("../../src/forwarder/mod.ts");
  const { createHttpClient, httpSettings } = await import("../../src/http/mod.ts");
  const config = v.parse(configSchema, {
    dd_url: args.url,
    api_key: "00000000000000000000000000000000",
    forwarder_storage_path: args.dir,
    forwarder_backoff_max: Number(args["backoff-max"]),
    forwarder_retry_queue_payloads_max_size: Number(args.memory),
  });
  const fwd = buildForwarder(forwarderSettings(config), {
    runtime,
    http: createHttpClient(runtime, httpSettings(config, process.env)),
    registry: new Registry(),
    logger: createLogger({ level: "warn" }),
  }).component;
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

/** What the timeline drives: the thing under test and the intake in front of it. */
interface Rig {
  /** Healthy, failing with 503, or dropping connections. */
  intake(state: "ok" | "503" | "down"): Promise<void>;
  /** Stops (SIGTERM) or kills (SIGKILL) the subject and starts another; returns points in memory at a kill. */
  swap(how: "stop" | "kill"): Promise<number>;
  /** Stops generating; forwarding goes on. */
  quiet(): Promise<void>;
  /** True once everything that can still arrive has. */
  drained(): Promise<boolean>;
  /** Stops everything and counts. */
  finish(): Promise<
    { sent: number; arrived: number; duplicates: number; diskBytesPeak: number; extra?: object }
  >;
}

/** The forwarder alone in child processes behind a fault relay (see the header). */
function forwarderRig(dir: string): Rig {
  const relay = new FaultRelay(args.intake);
  relay.up();
  const url = `http://127.0.0.1:${relay.port}`;
  console.log(`relay on ${url}${args.intake ? ` → ${args.intake}` : ""}`);
  const children: ChildHandle[] = [startChild("a", url, dir)];
  const expected = () => children.reduce((n, c) => n + c.sent, 0);
  let lastCount = -1;
  let stableSince = Date.now();
  return {
    async intake(state) {
      relay.mode = state;
      if (state === "down") await relay.down();
      if (state === "ok") relay.up();
    },
    async swap(how) {
      const a = children.at(-1)!;
      const memory = a.memoryPoints;
      a.proc.kill(how === "kill" ? "SIGKILL" : "SIGTERM");
      await a.exited;
      children.push(startChild("b", url, dir));
      return memory;
    },
    async quiet() {
      const last = children.at(-1)!;
      (last.proc.stdin as { write(s: string): void; flush(): void }).write("quiet\n");
      (last.proc.stdin as { flush(): void }).flush();
      await sleep(Number(args.flush) * 1000 + 200);
    },
    async drained() {
      const unique = relay.arrived.size;
      if (unique >= expected()) return true;
      if (unique !== lastCount) [lastCount, stableSince] = [unique, Date.now()];
      // After a kill the lost points never come: done when the forwarder holds nothing more.
      return children.at(-1)!.pending === 0 && Date.now() - stableSince > 3000;
    },
    async finish() {
      const last = children.at(-1)!;
      last.proc.kill("SIGTERM");
      await last.exited;
      await relay.down();
      let duplicates = 0;
      for (const n of relay.arrived.values()) duplicates += n - 1;
      return {
        sent: expected(),
        arrived: relay.arrived.size,
        duplicates,
        diskBytesPeak: Math.max(...children.map((c) => c.diskBytesPeak)),
      };
    },
  };
}

/**
 * The whole agent: DogStatsD counters → compiled `outpost run` → compiled `outpost intake`,
 * whose fault switch makes the outage. `--contexts` counter contexts (default rate × 10), each
 * incremented once per 10 s bucket, so every line is one series point at the serializer and
 * `--rate` lines/s are `--rate` series points/s. Lines carry `run:<a|b>` (which agent process
 * received them); arrival and duplicates are counted per (context, bucket timestamp) at the
 * intake. The sender pauses while an agent is being replaced (those lines would be UDP loss).
 */
async function agentRig(dir: string): Promise<Rig> {
  const bin = binary(args.bin);
  const intake = await startIntake(bin, join(dir, "intake"), "4gb");
  const setup = await agentSetup(dir, intake.url, {
    forwarder_backoff_max: Number(args["backoff-max"]),
    forwarder_retry_queue_payloads_max_size: Number(args.memory),
  });
  let agent = await startAgent(bin, setup);
  console.log(`agent → intake ${intake.url}; expvar ${setup.expvarUrl}`);
  const rate = Number(args.rate);
  const contexts = Number(args.contexts ?? rate * 10);
  const sender = new LineSender(setup.dogstatsdPort);
  const runs = ["a", "b"];
  let run = 0;
  let paused = false;
  let stopped = false;
  const sent = [0, 0];
  /** Lines sent to the first agent per 10 s bucket (by send time), to place what a kill lost. */
  const sentByBucketA = new Map<number, number>();
  let killedAt = 0;
  let diskBytesPeak = 0;
  let pendingZeroSince = 0;
  /** (time, lines the agent received) once a second, to bound what a kill can lose. */
  const history: Array<[number, number]> = [];
  const sending = (async () => {
    let i = 0;
    while (!stopped) {
      if (paused) {
        await sleep(20);
        continue;
      }
      const r = runs[run];
      // One slice of lines, then the next; paced() keeps the rate over slices.
      const { emitted } = await paced(sender, rate, 1, (k) => {
        sender.line(`outpost.bench.outage:1|c|#run:${r},ctx:${(i + k) % contexts}`);
        if (run === 0) {
          const bucket = Math.floor(Date.now() / 10_000) * 10;
          sentByBucketA.set(bucket, (sentByBucketA.get(bucket) ?? 0) + 1);
        }
      }, () => paused || stopped);
      i += emitted;
      sent[run] += emitted;
    }
  })();
  const poll = setInterval(async () => {
    try {
      const vars = await agent.vars();
      history.push([Date.now(), vars.aggregator.DogstatsdMetricSample]);
      for (const d of Object.values(vars.forwarder.Domains) as Record<string, number>[]) {
        diskBytesPeak = Math.max(diskBytesPeak, d.diskBytes);
      }
    } catch { /* between agents */ }
  }, 1000);
  let atKill: object = {};
  return {
    async intake(state) {
      await intake.fault(undefined);
      if (state === "503") await intake.fault({ status: 503, count: 1e9 });
      if (state === "down") await intake.fault({ drop_connection: true, count: 1e9 });
    },
    async swap(how) {
      paused = true;
      await sleep(1200); // the sender's slice ends and the socket buffer drains
      const vars = await agent.vars();
      const received = vars.aggregator.DogstatsdMetricSample as number;
      // A line is on disk at the latest when its bucket (10 s) closed, the next flush (15 s)
      // ran and the retry queue spilled it (forwarder_storage_spill_after_seconds, 30 s).
      const windowMs = (10 + 15 + 30 + 2) * 1000;
      const since = history.findLast(([t]) => t <= Date.now() - windowMs)?.[1] ?? 0;
      const memory = received - since;
      atKill = {
        receivedByAgentA: received,
        udpLossAgentA: sent[0] - received,
        forwarderDomainsAtSwap: vars.forwarder.Domains,
        inMemoryBoundWindowSeconds: windowMs / 1000,
      };
      killedAt = Date.now() / 1000;
      await agent.stop(how === "kill" ? "SIGKILL" : "SIGTERM");
      history.length = 0;
      agent = await startAgent(bin, setup);
      run = 1;
      paused = false;
      return memory;
    },
    async quiet() {
      stopped = true;
      await sending;
      // The last full bucket closes and the next flush runs.
      await sleep(26_000);
    },
    async drained() {
      const pending = forwarderPending(await agent.vars());
      if (pending > 0) pendingZeroSince = 0;
      else pendingZeroSince ||= Date.now();
      return pendingZeroSince > 0 && Date.now() - pendingZeroSince > 3000;
    },
    async finish() {
      clearInterval(poll);
      const code = await agent.stop("SIGTERM"); // also flushes the open buckets
      if (code !== 0) console.error(`agent exited with ${code}:\n${agent.stderr()}`);
      sender.close();
      const at = await intake.get("/outpost/intake/series?metric=outpost.bench.outage");
      await intake.stop();
      const seen = new Map<string, number>();
      let arrived = 0;
      let duplicates = 0;
      for (const p of at.points as { tags: string[]; timestamp: number; value: number }[]) {
        const key = `${p.tags.join(",")}@${p.timestamp}`;
        const lines = Math.round(p.value * 10); // a rate over 10 s: lines in that bucket
        if (seen.has(key)) duplicates += lines;
        else {
          arrived += lines;
          if (p.tags.includes("run:a")) {
            sentByBucketA.set(p.timestamp, (sentByBucketA.get(p.timestamp) ?? 0) - lines);
          }
        }
        seen.set(key, lines);
      }
      // What the first agent lost, by the age of its bucket at the swap (netted over
      // neighbours: a line sent at a bucket's edge may land in the next one).
      const lostByBucketA = [...sentByBucketA].filter(([, n]) => n !== 0).sort(([a], [b]) => a - b)
        .map(([bucket, lost]) => ({ secondsBeforeSwap: Math.round(killedAt - bucket), lost }));
      return {
        sent: sent[0] + sent[1],
        arrived,
        duplicates,
        diskBytesPeak,
        extra: {
          contexts,
          sentByAgent: { a: sent[0], b: sent[1] },
          ...atKill,
          ...(killedAt ? { lostByBucketA } : {}),
        },
      };
    },
  };
}

async function parent(): Promise<void> {
  const mode = args.mode as "none" | "stop" | "kill";
  const target = args.target as "forwarder" | "agent";
  const [before, outage, after] = [args.before, args.outage, args.after].map((s) =>
    Number(s) * 1000
  );
  const dir = mkdtempSync(join(tmpdir(), "outpost-outage-"));
  const rig = target === "agent" ? await agentRig(dir) : forwarderRig(dir);
  console.log(`target ${target}; mode ${mode}`);

  let memoryAtKill = 0;
  await sleep(before);
  const outageStart = Date.now();
  await rig.intake("503");
  console.log("outage: 503");
  const swapAt = outageStart + outage * 0.75;
  const halfway = outageStart + outage / 2;
  let down = false;
  let swapped = false;
  while (Date.now() < outageStart + outage) {
    if (!down && Date.now() >= halfway) {
      await rig.intake("down");
      down = true;
      console.log("outage: connections dropped");
    }
    if (mode !== "none" && !swapped && Date.now() >= swapAt) {
      swapped = true;
      memoryAtKill = await rig.swap(mode);
      console.log(`${target} ${mode === "kill" ? "killed" : "stopped"}; started another`);
    }
    await sleep(100);
  }
  await rig.intake("ok");
  const recoveredAt = Date.now();
  console.log("intake recovered");
  await sleep(after);
  await rig.quiet();
  const deadline = Date.now() + Number(args.timeout) * 1000;
  while (!(await rig.drained()) && Date.now() < deadline) await sleep(250);
  const drainedMs = Date.now() - recoveredAt;
  const counted = await rig.finish();

  const result = {
    target,
    mode,
    rate: Number(args.rate),
    outageSeconds: outage / 1000,
    sentPoints: counted.sent,
    arrivedPoints: counted.arrived,
    lostPoints: counted.sent - counted.arrived,
    duplicatePoints: counted.duplicates,
    inMemoryAtKill: mode === "kill" ? memoryAtKill : null,
    diskBytesPeak: counted.diskBytesPeak,
    drainSecondsAfterRecovery: Math.round(drainedMs / 100) / 10,
    intake: target === "agent" ? "outpost intake" : args.intake ?? "relay only",
    ...counted.extra,
  };
  console.table(
    Object.fromEntries(
      Object.entries(result).map((
        [k, v],
      ) => [k, v && typeof v === "object" ? JSON.stringify(v) : v]),
    ),
  );
  const name = target === "agent" ? `outage-agent-${mode}` : `outage-${mode}`;
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(`bench/results/${name}.json`, JSON.stringify(result, null, 2) + "\n");
  rmSync(dir, { recursive: true, force: true });
  process.exit(result.lostPoints > (result.inMemoryAtKill ?? 0) ? 1 : 0);
}

if (args.child) await child();
else await parent();
