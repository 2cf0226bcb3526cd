/**
 * outpost's DogStatsD receive path side by side with its peers, in one run: the compiled
 * outpost, Etsy `statsd` (npm), collectd's statsd plugin (Debian), Prometheus
 * `statsd_exporter` (Go module) and a C `recvmmsg` receiver that only counts (the physical
 * limit). One C sender (`sendmmsg`, paced every millisecond) drives each at stepped rates, with
 * one-line datagrams and with datagrams packed to 1,432 bytes. collectd reads no DogStatsD tags,
 * so it gets the same contexts with the tags folded into the names.
 *
 *   bun scripts/bench/peers.ts [--seconds 5] [--line-rates 50000,…] [--packed-rates 50000,…]
 *                              [--only outpost,c-recvmmsg,…] [--bin dist/outpost-linux-x64]
 *
 * The peers are installed here, at pinned versions, into `.tools/` (npm, `go install`, and
 * apt-get for collectd when it is missing); the C programs are compiled from
 * `scripts/bench/peers/`. Atlassian `gostatsd` is listed but not run: the Go module proxy
 * these machines reach does not serve it.
 *
 * Each step starts the receiver afresh (so its socket's counters start at zero), sends, waits
 * until the socket's queue is empty and the receiver's count stops moving, then reads:
 * - lines received, from the receiver's own count (outpost's `/debug/vars`, statsd's admin
 *   `counters`, statsd_exporter's `/metrics`, the C receiver's report); collectd keeps none
 *   that can be read, so its figure is what was sent less the drops of its socket;
 * - the drops of the receiver's socket (`/proc/net/udp`) and the machine's UDP receive-buffer
 *   errors over the step (`/proc/net/snmp`, `RcvbufErrors`), as a cross-check;
 * - CPU seconds (user + system, `/proc/PID/stat`) per million lines received.
 * outpost and the C receiver also run with a 4 MiB receive buffer.
 *
 * A receiver that loses more than half at one rate is not driven faster. Prints a table and
 * writes bench/results/peers.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  agentSetup,
  binary,
  freePort,
  freeUdpPort,
  sleep,
  startIntake,
  waitFor,
} from "./_agent.ts";
import { report } from "./_report.ts";
import { goInstall, TOOLS_BIN } from "../tools.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const PEERS = join(ROOT, ".tools", "peers");
const SOURCES = join(import.meta.dirname, "peers");
const MAX_LOSS = 0.001;
const BIG_BUFFER = 4 << 20;

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "5" },
    "line-rates": { type: "string", default: "50000,100000,200000,400000,800000" },
    "packed-rates": { type: "string", default: "50000,200000,400000,800000,1600000" },
    only: { type: "string" },
    bin: { type: "string" },
  },
});
const SECONDS = Number(args.seconds);

/** A receiver started for one step. */
interface Receiver {
  pid: number;
  /** Lines the receiver counted itself; undefined where it keeps no count that can be read. */
  lines(): Promise<number | undefined>;
  stop(): Promise<void>;
}

/** A peer: how to install it and how to start it on a port. */
interface Peer {
  name: string;
  version: string;
  /** `plain` for a receiver that reads no DogStatsD tags: the sender folds them into the name. */
  format?: "plain";
  /** Installs what the peer needs; returns why it cannot run here, or undefined. */
  prepare(): string | undefined;
  start(port: number, rcvbuf: number, dir: string): Promise<Receiver>;
}

// -- helpers -----------------------------------------------------------------------------------

function run(cmd: string[], env: Record<string, string> = {}): boolean {
  const p = Bun.spawnSync({
    cmd,
    env: { ...process.env, ...env },
    stdout: "ignore",
    stderr: "inherit",
  });
  return p.exitCode === 0;
}

/** Compiles one of the C programs of scripts/bench/peers/ into .tools/peers/. */
function compile(name: string): string | undefined {
  mkdirSync(PEERS, { recursive: true });
  const out = join(PEERS, name);
  const ok = run(["gcc", "-O2", "-Wall", "-o", out, join(SOURCES, `${name}.c`)]);
  return ok ? out : undefined;
}

/** utime + stime of `pid`, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of proc(5), counted from the state (field 3) here; clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The receive queue and drops of the IPv4 UDP sockets bound to `port`, from /proc/net/udp. */
function socketState(port: number): { queued: number; drops: number; sockets: number } {
  const hex = port.toString(16).toUpperCase().padStart(4, "0");
  let queued = 0, drops = 0, sockets = 0;
  for (const row of readFileSync("/proc/net/udp", "utf8").split("\n").slice(1)) {
    const f = row.trim().split(/\s+/);
    if (f.length < 13 || !f[1].endsWith(`:${hex}`)) continue;
    queued += parseInt(f[4].split(":")[1], 16);
    drops += Number(f[f.length - 1]);
    sockets++;
  }
  return { queued, drops, sockets };
}

/** `RcvbufErrors` of the machine's UDP counters (/proc/net/snmp). */
function rcvbufErrors(): number {
  const udp = readFileSync("/proc/net/snmp", "utf8").split("\n").filter((l) =>
    l.startsWith("Udp:")
  );
  const names = udp[0].split(/\s+/), values = udp[1].split(/\s+/);
  return Number(values[names.indexOf("RcvbufErrors")]);
}

/** Spawns `cmd`, keeping its stdout; kills it at `stop`. */
function spawn(cmd: string[], cwd?: string) {
  const proc = Bun.spawn({ cmd, cwd, stdout: "pipe", stderr: "pipe" });
  let out = "", err = "";
  const read = async (s: ReadableStream<Uint8Array>, add: (t: string) => void) => {
    for await (const c of s) add(new TextDecoder().decode(c));
  };
  read(proc.stdout, (t) => out += t);
  read(proc.stderr, (t) => err += t);
  return {
    proc,
    out: () => out,
    err: () => err,
    async stop() {
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(killer);
    },
  };
}

/** Waits until a UDP socket is bound to `port` by `child` (which must not have exited). */
async function bound(port: number, child: ReturnType<typeof spawn>, what: string): Promise<void> {
  await waitFor(what, async () => {
    if (child.proc.exitCode !== null) {
      throw new Error(`${what} exited with ${child.proc.exitCode}: ${child.err()}`);
    }
    return socketState(port).sockets > 0 || undefined;
  });
}

// -- the peers ---------------------------------------------------------------------------------

const outpost = (bin: string, intakeUrl: () => string): Peer => ({
  name: "outpost",
  version: "this tree",
  prepare: () => existsSync(bin) ? undefined : `no binary at ${bin} (bun scripts/build.ts)`,
  async start(port, rcvbuf, dir) {
    const setup = await agentSetup(dir, intakeUrl(), {
      dogstatsd_port: port,
      ...(rcvbuf ? { dogstatsd_so_rcvbuf: rcvbuf } : {}),
    });
    const child = spawn([bin, "run", "-c", setup.config]);
    await bound(port, child, "outpost");
    const vars = async () => (await fetch(setup.expvarUrl)).json();
    await waitFor("outpost's /debug/vars", async () => (await vars()) && true);
    return {
      pid: child.proc.pid,
      async lines() {
        const v = await vars();
        return v.dogstatsd.MetricPackets + v.dogstatsd.MetricParseErrors;
      },
      stop: child.stop,
    };
  },
});

const cRecvmmsg: Peer = {
  name: "c-recvmmsg",
  version: "scripts/bench/peers/recv.c",
  prepare: () => compile("recv") ? undefined : "gcc could not compile recv.c",
  async start(port, rcvbuf) {
    const child = spawn([join(PEERS, "recv"), String(port), String(rcvbuf)]);
    await bound(port, child, "the C receiver");
    return {
      pid: child.proc.pid,
      async lines() {
        const before = child.out().length;
        child.proc.kill("SIGUSR1");
        const line = await waitFor("the C receiver's count", async () => {
          const fresh = child.out().slice(before).trim().split("\n").pop();
          return fresh?.startsWith("{") ? fresh : undefined;
        });
        return JSON.parse(line).lines;
      },
      stop: child.stop,
    };
  },
};

const ETSY_VERSION = "0.9.0";
const etsyStatsd: Peer = {
  name: "etsy-statsd",
  version: ETSY_VERSION,
  prepare() {
    const dir = join(PEERS, "etsy-statsd");
    if (existsSync(join(dir, "node_modules/statsd/stats.js"))) return undefined;
    mkdirSync(dir, { recursive: true });
    const ok = run([
      "npm",
      "install",
      "--no-save",
      "--prefix",
      dir,
      `statsd@${ETSY_VERSION}`,
      "--omit=optional",
      "--no-audit",
      "--no-fund",
    ]);
    return ok ? undefined : `npm could not install statsd@${ETSY_VERSION}`;
  },
  async start(port, _rcvbuf, dir) {
    const admin = await freePort();
    const config = join(dir, "etsy.js");
    // No backend and a flush interval longer than a step, so its own counters only grow.
    writeFileSync(
      config,
      `({ address: "127.0.0.1", port: ${port}, mgmt_address: "127.0.0.1", mgmt_port: ${admin},` +
        ` flushInterval: 3600000, backends: [] })\n`,
    );
    const child = spawn(["node", join(PEERS, "etsy-statsd/node_modules/statsd/stats.js"), config]);
    await bound(port, child, "statsd");
    return {
      pid: child.proc.pid,
      lines: () => etsyCounter(admin, "statsd.metrics_received"),
      stop: child.stop,
    };
  },
};

/** One counter from Etsy statsd's admin interface (`counters` prints them all). */
function etsyCounter(port: number, name: string): Promise<number> {
  return new Promise((ok, fail) => {
    let text = "";
    const s = connect(port, "127.0.0.1", () => s.write("counters\n"));
    s.on("data", (d) => {
      text += d;
      if (!text.includes("END")) return;
      s.destroy();
      const m = text.match(new RegExp(`'${name.replace(".", "\\.")}': (\\d+)`));
      m ? ok(Number(m[1])) : fail(new Error(`no ${name} in statsd's counters`));
    });
    s.on("error", fail);
  });
}

const EXPORTER = {
  name: "statsd_exporter",
  module: "github.com/prometheus/statsd_exporter",
  version: "v0.31.0",
};
const statsdExporter: Peer = {
  name: "statsd_exporter",
  version: EXPORTER.version,
  prepare: () => goInstall(EXPORTER) ? undefined : `go install ${EXPORTER.module} failed`,
  async start(port) {
    const web = await freePort();
    const child = spawn([
      join(TOOLS_BIN, EXPORTER.name),
      `--statsd.listen-udp=127.0.0.1:${port}`,
      "--statsd.listen-tcp=",
      `--web.listen-address=127.0.0.1:${web}`,
    ]);
    await bound(port, child, "statsd_exporter");
    return {
      pid: child.proc.pid,
      async lines() {
        const text = await (await fetch(`http://127.0.0.1:${web}/metrics`)).text();
        const m = text.match(/^statsd_exporter_lines_total (\S+)$/m);
        if (!m) throw new Error("no statsd_exporter_lines_total in /metrics");
        return Number(m[1]);
      },
      stop: child.stop,
    };
  },
};

const collectd: Peer = {
  name: "collectd-statsd",
  version: "Debian collectd-core",
  // It logs every line with `|#tags` as unparsable, which would measure its logging.
  format: "plain",
  prepare() {
    if (existsSync("/usr/lib/collectd/statsd.so")) return undefined;
    const sudo = process.getuid?.() === 0 ? [] : ["sudo"];
    const ok = run([
      ...sudo,
      "apt-get",
      "install",
      "-y",
      "-qq",
      "--no-install-recommends",
      "collectd-core",
    ], {
      DEBIAN_FRONTEND: "noninteractive",
    });
    return ok ? undefined : "apt-get could not install collectd-core";
  },
  async start(port, _rcvbuf, dir) {
    const config = join(dir, "collectd.conf");
    writeFileSync(
      config,
      [
        'Hostname "bench"',
        "FQDNLookup false",
        `BaseDir "${dir}"`,
        `PIDFile "${join(dir, "collectd.pid")}"`,
        'TypesDB "/usr/share/collectd/types.db"',
        "Interval 10",
        "LoadPlugin statsd",
        "<Plugin statsd>",
        '  Host "127.0.0.1"',
        `  Port "${port}"`,
        "</Plugin>",
        "",
      ].join("\n"),
    );
    const child = spawn(["collectd", "-f", "-C", config]);
    await bound(port, child, "collectd");
    return { pid: child.proc.pid, lines: async () => undefined, stop: child.stop };
  },
};

// -- one step ----------------------------------------------------------------------------------

interface Step {
  peer: string;
  kind: "line" | "packed";
  rcvbuf: number;
  rate: number;
  sent_lines: number;
  received_lines: number;
  counted_by: "receiver" | "socket drops";
  loss: number;
  socket_drops: number;
  machine_rcvbuf_errors: number;
  cpu_s_per_million_lines: number;
}

async function step(peer: Peer, kind: Step["kind"], rcvbuf: number, rate: number): Promise<Step> {
  const dir = mkdtempSync(join(tmpdir(), "outpost-peers-"));
  const port = await freeUdpPort();
  const receiver = await peer.start(port, rcvbuf, dir);
  try {
    await sleep(300);
    const cpu0 = cpuSeconds(receiver.pid);
    const errors0 = rcvbufErrors();
    const sender = Bun.spawnSync({
      cmd: [
        join(PEERS, "send"),
        String(port),
        String(rate),
        String(SECONDS),
        kind,
        peer.format ?? "tags",
      ],
      stdout: "pipe",
      stderr: "inherit",
    });
    const sent = JSON.parse(sender.stdout.toString());
    // Drained: the socket's queue is empty and the receiver's count stopped moving.
    let last = -1;
    await waitFor("the receiver to drain", async () => {
      if (socketState(port).queued > 0) return undefined;
      const n = await receiver.lines();
      if (n === undefined) return true;
      if (n === last) return true;
      last = n;
      await sleep(200);
      return undefined;
    }, 60_000);
    const counted = await receiver.lines();
    const { drops } = socketState(port);
    const received = counted ?? sent.lines - Math.round(drops * (sent.lines / sent.datagrams));
    const cpu = cpuSeconds(receiver.pid) - cpu0;
    return {
      peer: peer.name,
      kind,
      rcvbuf,
      rate,
      sent_lines: sent.lines,
      received_lines: received,
      counted_by: counted === undefined ? "socket drops" : "receiver",
      loss: Math.max(0, 1 - received / sent.lines),
      socket_drops: drops,
      machine_rcvbuf_errors: rcvbufErrors() - errors0,
      cpu_s_per_million_lines: received ? cpu / (received / 1e6) : 0,
    };
  } finally {
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// -- the run -----------------------------------------------------------------------------------

const bin = binary(args.bin);
let intake: Awaited<ReturnType<typeof startIntake>> | undefined;
const intakeDir = mkdtempSync(join(tmpdir(), "outpost-peers-intake-"));
const all: Peer[] = [
  outpost(bin, () => intake!.url),
  cRecvmmsg,
  etsyStatsd,
  statsdExporter,
  collectd,
];
const wanted = args.only ? new Set(args.only.split(",")) : undefined;
const peers = all.filter((p) => !wanted || wanted.has(p.name));

const unavailable: Record<string, string> = {
  gostatsd: "not served by the Go module proxy these machines reach (every version refused)",
};
if (!compile("send")) throw new Error("gcc could not compile send.c");
const ready: Peer[] = [];
for (const p of peers) {
  const why = p.prepare();
  if (why) unavailable[p.name] = why;
  else ready.push(p);
}
if (ready.some((p) => p.name === "outpost")) intake = await startIntake(bin, intakeDir, "512mb");

const rates = {
  line: args["line-rates"]!.split(",").map(Number),
  packed: args["packed-rates"]!.split(",").map(Number),
};
const steps: Step[] = [];
try {
  for (const peer of ready) {
    const buffers = peer.name === "outpost" || peer.name === "c-recvmmsg" ? [0, BIG_BUFFER] : [0];
    for (const rcvbuf of buffers) {
      for (const kind of ["line", "packed"] as const) {
        for (const rate of rates[kind]) {
          const s = await step(peer, kind, rcvbuf, rate);
          steps.push(s);
          console.log(
            `${s.peer} ${kind} rcvbuf=${rcvbuf} ${rate}/s: loss ${(s.loss * 100).toFixed(3)} %,` +
              ` ${s.cpu_s_per_million_lines.toFixed(2)} CPU s per million lines`,
          );
          if (s.loss > 0.5) break;
        }
      }
    }
  }
} finally {
  await intake?.stop();
  rmSync(intakeDir, { recursive: true, force: true });
}

/**
 * Per peer, kind and buffer: the highest rate up to which every step was loss-free (a lossy
 * step is not forgiven by a luckier one above it), and the CPU cost at 50,000 lines/s.
 */
const summary = [...new Set(steps.map((s) => `${s.peer}|${s.kind}|${s.rcvbuf}`))].map((key) => {
  const mine = steps.filter((s) => `${s.peer}|${s.kind}|${s.rcvbuf}` === key)
    .sort((a, b) => a.rate - b.rate);
  const lossy = mine.findIndex((s) => s.loss >= MAX_LOSS);
  const free = mine.slice(0, lossy < 0 ? mine.length : lossy).map((s) => s.rate);
  const at50k = mine.find((s) => s.rate === 50_000);
  return {
    peer: mine[0].peer,
    kind: mine[0].kind,
    rcvbuf: mine[0].rcvbuf,
    loss_free_rate: free.length ? Math.max(...free) : 0,
    cpu_s_per_million_lines_at_50k: at50k ? Number(at50k.cpu_s_per_million_lines.toFixed(3)) : null,
  };
});
report(
  "peers",
  steps.map((s) => ({
    peer: s.peer,
    kind: s.kind,
    rcvbuf: s.rcvbuf || "default",
    "lines/s": s.rate,
    "loss %": Number((s.loss * 100).toFixed(3)),
    "socket drops": s.socket_drops,
    "CPU s/M lines": Number(s.cpu_s_per_million_lines.toFixed(3)),
  })),
  {
    seconds_per_step: SECONDS,
    max_loss: MAX_LOSS,
    versions: Object.fromEntries(ready.map((p) => [p.name, p.version])),
    unavailable,
    summary,
    steps,
  },
);
console.table(summary);
for (const [name, why] of Object.entries(unavailable)) console.log(`not run: ${name}: ${why}`);
