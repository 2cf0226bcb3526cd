/**
 * Shared by the agent-level load scripts: a compiled `outpost intake` and `outpost run` as
 * separate processes, the agent's `/debug/vars`, and a paced DogStatsD sender over node:dgram.
 */
import { writeFileSync } from "node:fs";
import { createSocket, type Socket } from "node:dgram";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

/** The compiled binary: `--bin`, else OUTPOST_BIN, else dist/outpost-linux-x64. */
export function binary(flag: string | undefined): string {
  return flag ?? process.env.OUTPOST_BIN ??
    resolve(import.meta.dirname, "../../dist/outpost-linux-x64");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

/** A UDP port that was free a moment ago. */
export function freeUdpPort(): Promise<number> {
  return new Promise((ok) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Polls `probe` until it returns a value; throws after `ms`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The variables that send every pipeline of an agent (metrics, traces, logs) to the intake at
 * `url`, so nothing it sends leaves the machine.
 */
export function intakeEnv(url: string): Record<string, string> {
  const { hostname, port } = new URL(url);
  return {
    DD_DD_URL: url,
    DD_APM_DD_URL: url,
    DD_LOGS_CONFIG_LOGS_DD_URL: `${hostname}:${port}`,
    DD_LOGS_CONFIG_LOGS_NO_SSL: "true",
  };
}

/** A running `outpost intake`. */
export interface Intake {
  url: string;
  get(path: string): Promise<any>;
  /** Queues a fault (`POST /outpost/intake/faults`), or clears them all with `undefined`. */
  fault(f: Record<string, unknown> | undefined): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `outpost intake` on a free port storing under `dir` up to `maxBytes` (e.g. "1gb"). */
export async function startIntake(bin: string, dir: string, maxBytes: string): Promise<Intake> {
  const port = await freePort();
  const proc = Bun.spawn({
    cmd: [bin, "intake", "--port", String(port), "--data-dir", dir, "--max-bytes", maxBytes],
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  const get = async (path: string) => (await fetch(url + path)).json();
  await waitFor(
    "the intake",
    async () => (await fetch(`${url}/outpost/intake/stats`)).ok || undefined,
  );
  return {
    url,
    get,
    async fault(f) {
      const res = await fetch(`${url}/outpost/intake/faults`, {
        method: f ? "POST" : "DELETE",
        body: f ? JSON.stringify(f) : undefined,
      });
      if (!res.ok) throw new Error(`fault ${JSON.stringify(f)}: HTTP ${res.status}`);
    },
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** Ports and paths of one agent configuration (kept across restarts). */
export interface AgentSetup {
  config: string;
  dogstatsdPort: number;
  expvarUrl: string;
}

/** Writes a `datadog.yaml` under `dir` pointing the agent at `intakeUrl`; `extra` adds keys. */
export async function agentSetup(
  dir: string,
  intakeUrl: string,
  extra: Record<string, string | number | boolean> = {},
): Promise<AgentSetup> {
  const dogstatsdPort = await freeUdpPort();
  const expvarPort = await freePort();
  const keys: Record<string, string | number | boolean> = {
    api_key: "0123456789abcdef0123456789abcdef",
    dd_url: intakeUrl,
    hostname: "bench-host",
    cmd_port: await freePort(),
    expvar_port: expvarPort,
    gui_port: -1,
    dogstatsd_port: dogstatsdPort,
    run_path: join(dir, "run"),
    // Shutdown flushes the open buckets too, so everything sent is accounted for.
    dogstatsd_flush_incomplete_buckets: true,
    ...extra,
  };
  const config = join(dir, "datadog.yaml");
  writeFileSync(config, Object.entries(keys).map(([k, v]) => `${k}: ${v}\n`).join(""));
  return { config, dogstatsdPort, expvarUrl: `http://127.0.0.1:${expvarPort}/debug/vars` };
}

/** A running `outpost run`. */
export interface Agent {
  readonly pid: number;
  /** `/debug/vars` of the agent. */
  vars(): Promise<any>;
  /** Sends `signal` and waits for the exit code. */
  stop(signal: "SIGTERM" | "SIGKILL"): Promise<number>;
  stderr(): string;
}

/** Starts `outpost run -c <config>` and waits until DogStatsD listens and /debug/vars answers. */
export async function startAgent(bin: string, setup: AgentSetup): Promise<Agent> {
  const proc = Bun.spawn({
    cmd: [bin, "run", "-c", setup.config],
    stdout: "ignore",
    stderr: "pipe",
  });
  let stderr = "";
  (async () => {
    for await (const c of proc.stderr as ReadableStream<Uint8Array>) {
      stderr += new TextDecoder().decode(c);
    }
  })();
  const vars = async () => (await fetch(setup.expvarUrl)).json();
  await waitFor("the agent's DogStatsD", async () => {
    if (proc.exitCode !== null) {
      throw new Error(`the agent exited with ${proc.exitCode}:\n${stderr}`);
    }
    return /started on/.test(stderr) || undefined;
  }).catch((e) => {
    proc.kill("SIGKILL");
    throw new Error(`${e.message}\n${stderr}`);
  });
  await waitFor("the agent's /debug/vars", async () => (await vars()) && true);
  return {
    pid: proc.pid,
    vars,
    async stop(signal) {
      proc.kill(signal);
      return await proc.exited;
    },
    stderr: () => stderr,
  };
}

/** Transactions the agent's forwarder still holds, in memory or on disk, over every domain. */
export function forwarderPending(vars: any): number {
  let n = 0;
  for (const d of Object.values(vars.forwarder.Domains) as Record<string, number>[]) {
    n += d.highPrio + d.lowPrio + d.inFlight + d.retryQueueTransactions + d.diskFiles;
  }
  return n;
}

/** Sends DogStatsD lines packed into datagrams of up to `packetBytes`, one socket. */
export class LineSender {
  readonly #socket: Socket = createSocket("udp4");
  #chunk = "";
  #inFlight = 0;
  /** Lines handed to the socket. */
  lines = 0;
  constructor(readonly port: number, readonly packetBytes = 8192) {}

  /** Queues one line; a full datagram goes out at once. */
  line(l: string): void {
    if (this.#chunk.length + l.length + 1 > this.packetBytes) this.flush();
    this.#chunk += this.#chunk ? "\n" + l : l;
    this.lines++;
  }

  /** Sends what is buffered. */
  flush(): void {
    if (!this.#chunk) return;
    this.#inFlight++;
    this.#socket.send(this.#chunk, this.port, "127.0.0.1", () => this.#inFlight--);
    this.#chunk = "";
  }

  /** Resolves once every queued datagram left the socket. */
  async drain(): Promise<void> {
    this.flush();
    while (this.#inFlight > 0) await sleep(5);
  }

  close(): void {
    this.#socket.close();
  }
}

/**
 * Calls `emit(i)` for i = 0, 1, … at `rate` per second for `seconds`, in 10 ms slices, then
 * flushes `sender`. Returns how many were emitted and the achieved rate.
 */
export async function paced(
  sender: LineSender,
  rate: number,
  seconds: number,
  emit: (i: number) => void,
  stopped: () => boolean = () => false,
): Promise<{ emitted: number; rate: number }> {
  const start = performance.now();
  const end = start + seconds * 1000;
  let i = 0;
  for (let now = start; now < end && !stopped(); now = performance.now()) {
    const due = Math.min(rate * seconds, Math.floor(((now - start) / 1000) * rate));
    while (i < due) emit(i++);
    sender.flush();
    await sleep(10);
  }
  await sender.drain();
  return { emitted: i, rate: i / ((performance.now() - start) / 1000) };
}

/** A minimal msgpack writer for trace bodies, in the widths dd-trace-js uses (ids uint64, start int64). */
export class Pack {
  bytes: number[] = [];
  u8(...b: number[]) {
    this.bytes.push(...b);
  }
  str(s: string) {
    const b = new TextEncoder().encode(s);
    if (b.length < 32) this.u8(0xa0 | b.length);
    else this.u8(0xd9, b.length);
    this.bytes.push(...b);
  }
  map(n: number) {
    this.u8(0x80 | n);
  }
  arr(n: number) {
    if (n < 16) this.u8(0x90 | n);
    else this.u8(0xdc, n >> 8, n & 0xff);
  }
  u64(v: bigint, code = 0xcf) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v));
    this.u8(code, ...b);
  }
  f64(v: number) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v);
    this.u8(0xcb, ...b);
  }
}
