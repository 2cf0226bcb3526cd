/**
 * Adversarial DogStatsD input over real UDP to the compiled agent, one class of datagrams per
 * test, each against a fresh `outpost run` sending to a separate `outpost intake`. After each
 * class the agent must still: send a canary metric (a timestamped gauge, which leaves without
 * waiting for a flush) to the intake with its exact value, answer health within 2 s, keep its
 * RSS under MAX_RSS_MB, and exit 0 within 5 s of SIGTERM. A test collects every check that
 * failed, so one report names them all. Loopback only; every loop is bounded; the random bytes
 * come from a seeded generator, so a failure can be replayed.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN, freePort, type RunningAgent, startAgent } from "./_binary.ts";
import {
  freeUdpPort,
  type Intake,
  sleep,
  startIntake,
  waitFor,
} from "../../scripts/bench/_agent.ts";

/**
 * The agent's resident memory must stay under this from start to exit, whatever a class
 * sends. An idle agent holds about 60 MB, 200,000 contexts about 200 MB; the failures this
 * suite exists for reach gigabytes.
 */
const MAX_RSS_MB = 400;
/** Past this the agent is killed at once, so a runaway class cannot starve the test host. */
const GUARD_RSS_MB = 1500;
/** Health must answer within this. */
const HEALTH_MS = 2_000;
/** SIGTERM must end the process within this. */
const STOP_MS = 5_000;
/** The canary goes out after about 2 s of quiet (the no-aggregation batch); this is ample. */
const CANARY_MS = 10_000;
/** The largest UDP payload over IPv4. */
const MAX_DATAGRAM = 65_507;
const SEED = 0x5eed;

const dir = mkdtempSync(join(tmpdir(), "outpost-e2e-fuzz-"));
let intake: Intake;

before(async () => {
  intake = await startIntake(BIN, join(dir, "intake"), "256mb");
});

after(async () => {
  await intake?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** mulberry32: a small seeded generator, enough to make random datagrams replayable. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Resident memory of `pid` in MB, from /proc. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/**
 * Sends datagrams to the agent's DogStatsD port, pausing now and then so the socket drains.
 * Throws when one cannot be sent (too large): the class would not test what it says.
 */
async function sendAll(port: number, datagrams: Iterable<Uint8Array | string>): Promise<number> {
  const socket = createSocket("udp4");
  let sent = 0;
  let inFlight = 0;
  let pendingBytes = 0;
  let failed: Error | undefined;
  for (const d of datagrams) {
    const bytes = typeof d === "string" ? Buffer.from(d) : d;
    if (bytes.byteLength > MAX_DATAGRAM) throw new Error(`a datagram of ${bytes.byteLength} bytes`);
    inFlight++;
    pendingBytes += bytes.byteLength;
    socket.send(bytes, port, "127.0.0.1", (e) => {
      inFlight--;
      failed ??= e ?? undefined;
    });
    sent++;
    // About 6 MB/s: the class tests the agent, not the kernel's receive queue.
    if (pendingBytes > 64 * 1024) {
      while (inFlight > 0) await sleep(1);
      await sleep(10);
      pendingBytes = 0;
    }
  }
  while (inFlight > 0) await sleep(1);
  socket.close();
  if (failed) throw failed;
  return sent;
}

/** One class: a name and the datagrams it sends. */
interface FuzzClass {
  name: string;
  datagrams: () => Iterable<Uint8Array | string>;
}

const nines = (n: number) => "9".repeat(n);
const TYPES = ["c", "g", "ms", "h", "d", "s"];
const EXTREME_NUMBERS = [
  "0",
  "-0",
  "1e308",
  "-1e308",
  "1.7976931348623157e308",
  "1e309",
  "-1e309",
  "5e-324",
  "1e-320",
  "1e-300",
  "1e-15",
  "-1",
  "NaN",
  "nan",
  "Infinity",
  "-Infinity",
  "inf",
  "+inf",
  "0x10",
  "1_000",
  "",
  " ",
  "1e",
  "--1",
  nines(20),
  nines(385),
  "-" + nines(385),
  "0." + nines(385),
  "1e" + nines(20),
  "9007199254740993",
  "18446744073709551616",
];

/** Every line once per datagram, then all of them packed into datagrams of about 8 KB. */
function* singlyAndPacked(lines: string[]): Generator<string> {
  yield* lines;
  let chunk = "";
  for (const l of lines) {
    if (chunk.length + l.length + 1 > 8192 && chunk) {
      yield chunk;
      chunk = "";
    }
    chunk += chunk ? "\n" + l : l;
  }
  if (chunk) yield chunk;
}

const CLASSES: FuzzClass[] = [
  {
    name: "random bytes",
    *datagrams() {
      const next = random(SEED);
      for (let i = 0; i < 3000; i++) {
        const size = i % 100 === 0 ? MAX_DATAGRAM : 1 + Math.floor(next() * 1500);
        const bytes = new Uint8Array(size);
        for (let j = 0; j < size; j++) bytes[j] = Math.floor(next() * 256);
        // Every third one is built of the protocol's own separators, which reach deeper.
        if (i % 3 === 0) {
          const alphabet = ":|@#,\n\r_{}.-e9T0c";
          for (let j = 0; j < size; j++) {
            bytes[j] = alphabet.charCodeAt(Math.floor(next() * alphabet.length));
          }
        }
        yield bytes;
      }
    },
  },
  { name: "datagram 1: x:1|d|@1e-300", datagrams: () => ["x:1|d|@1e-300"] },
  {
    name: "datagram 2: ts.inf:1|g|T followed by 385 nines",
    datagrams: () => [`ts.inf:1|g|T${nines(385)}`],
  },
  {
    name: "extreme numbers: values of every type",
    datagrams: () =>
      singlyAndPacked(
        TYPES.flatMap((t) => EXTREME_NUMBERS.map((v, i) => `fuzz.value.${t}.${i}:${v}|${t}`)),
      ),
  },
  {
    name: "extreme numbers: sample rates of every type",
    datagrams: () =>
      singlyAndPacked(
        TYPES.flatMap((t) =>
          [...EXTREME_NUMBERS, "2", "1e300", "1e-16", "1e-200"].map((r, i) =>
            `fuzz.rate.${t}.${i}:1|${t}|@${r}`
          )
        ),
      ),
  },
  {
    name: "extreme numbers: metric timestamps",
    datagrams: () =>
      singlyAndPacked(
        ["g", "c"].flatMap((t) =>
          [...EXTREME_NUMBERS, "1", "4102444800", "1e10", "1.5"].map((ts, i) =>
            `fuzz.ts.${t}.${i}:1|${t}|T${ts}`
          )
        ),
      ),
  },
  {
    name: "events: bad and extreme (lengths, timestamps, priorities)",
    datagrams: () =>
      singlyAndPacked([
        "_e",
        "_e{",
        "_e{}",
        "_e{,}:|",
        "_e{1,1}",
        "_e{1,1}:",
        "_e{0,0}:|",
        "_e{-1,-1}:a|b",
        "_e{1.5,1}:a|b",
        "_e{NaN,1}:a|b",
        `_e{${nines(20)},1}:a|b`,
        `_e{1,${nines(385)}}:a|b`,
        "_e{1e9,1}:a|b",
        "_e{99999,99999}:a|b",
        "_e{5,4}:title|tex",
        "_e{5,4}:tit|text",
        "_e{2,2}:ab|cd|d:",
        ...EXTREME_NUMBERS.map((ts) => `_e{2,2}:ab|cd|d:${ts}`),
        "_e{2,2}:ab|cd|p:extreme|t:nonsense|s:|k:|h:|#",
        `_e{2,2}:ab|cd|#${Array.from({ length: 5000 }, (_, i) => `t${i}`).join(",")}`,
        `_e{60000,1}:${"é".repeat(30000)}|x`,
        `_e{1,60000}:x|${"y".repeat(60000)}`,
        "_e{2,2}:ab|cd\n_e{2,2}:ab",
      ]),
  },
  {
    name: "service checks: bad and extreme (status, timestamps, messages)",
    datagrams: () =>
      singlyAndPacked([
        "_sc",
        "_sc|",
        "_sc||",
        "_sc|x",
        "_sc|x|",
        "_sc||0",
        ...EXTREME_NUMBERS.map((s, i) => `_sc|fuzz.sc.status.${i}|${s}`),
        ...EXTREME_NUMBERS.map((ts, i) => `_sc|fuzz.sc.ts.${i}|0|d:${ts}`),
        "_sc|x|0|d:|h:|#|m:",
        `_sc|x|0|m:${"m".repeat(60000)}`,
        `_sc|x|0|#${Array.from({ length: 5000 }, (_, i) => `t${i}`).join(",")}`,
        `_sc|${"n".repeat(60000)}|1`,
        "_sc|x|0|m:a|m:b|d:1|d:2",
      ]),
  },
  {
    name: "huge names, tags and tag counts (10,000 tags a line)",
    *datagrams() {
      // Base 36 keeps 10,000 distinct tags within one datagram.
      const tags = (n: number, salt: string) =>
        Array.from({ length: n }, (_, i) => `${salt}${i.toString(36)}`).join(",");
      yield `${"n".repeat(MAX_DATAGRAM - 10)}:1|c`;
      yield `fuzz.bigtag:1|c|#${"t".repeat(MAX_DATAGRAM - 30)}`;
      yield `fuzz.manytags:1|g|#${tags(10_000, "")}`;
      yield `fuzz.emptytags:1|g|#${",".repeat(MAX_DATAGRAM - 30)}`;
      // 1,500 distinct lines of 10,000 tags each, as in the review: the context limit alone does
      // not bound their bytes. A two-character prefix per line (40 × 40 of them) makes every
      // tag string distinct across lines and keeps a line within one datagram.
      const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz_-./";
      for (let i = 0; i < 1500; i++) {
        const prefix = alphabet[Math.floor(i / alphabet.length)] + alphabet[i % alphabet.length];
        yield `fuzz.manytags.${i}:1|c|#${tags(10_000, prefix)}`;
      }
      for (let i = 0; i < 200; i++) yield `fuzz.bigname.${i}.${"x".repeat(60_000)}:1|c`;
    },
  },
  {
    name: "cardinality burst (200,000 distinct contexts)",
    *datagrams() {
      let chunk = "";
      for (let i = 0; i < 200_000; i++) {
        const l = `fuzz.card.m${i % 50}:1|c|#id:${i}`;
        if (chunk.length + l.length + 1 > 8192) {
          yield chunk;
          chunk = "";
        }
        chunk += chunk ? "\n" + l : l;
      }
      if (chunk) yield chunk;
    },
  },
];

/** Starts an agent for one class; DogStatsD and expvar on free ports, sending to the intake. */
async function agentFor(): Promise<{ agent: RunningAgent; udp: number; vars: string }> {
  const udp = await freeUdpPort();
  const expvar = await freePort();
  const agent = await startAgent(
    [
      `dd_url: ${intake.url}`,
      "hostname: fuzz-host",
      `dogstatsd_port: ${udp}`,
      `expvar_port: ${expvar}`,
      "gui_port: -1",
      "forwarder_stop_timeout: 1",
      "",
    ].join("\n"),
  );
  return { agent, udp, vars: `http://127.0.0.1:${expvar}/debug/vars` };
}

/** Whether the health route answers 200 within HEALTH_MS. */
async function healthy(agent: RunningAgent): Promise<string | null> {
  try {
    const res = await agent.api("/agent/status/health", { signal: AbortSignal.timeout(HEALTH_MS) });
    await res.body?.cancel();
    return res.ok ? null : `health answered ${res.status}`;
  } catch (e) {
    return `health did not answer within ${HEALTH_MS} ms (${(e as Error).name})`;
  }
}

/** The intake's points of metric `name`, as values. */
async function canaryValues(name: string): Promise<number[]> {
  const got = await intake.get(`/outpost/intake/series?metric=${encodeURIComponent(name)}`);
  return got.points.map((p: { value: number }) => p.value);
}

describe("outpost run under adversarial DogStatsD datagrams", () => {
  CLASSES.forEach((cls, index) => {
    it(`survives ${cls.name}`, { timeout: 60_000 }, async () => {
      const { agent, udp, vars } = await agentFor();
      const pid = agent.proc.pid;
      const problems: string[] = [];
      let maxRss = rssMb(pid);
      let guarded = false;
      const sampler = setInterval(() => {
        try {
          maxRss = Math.max(maxRss, rssMb(pid));
        } catch { /* exited */ }
        if (maxRss > GUARD_RSS_MB && !guarded) {
          guarded = true;
          agent.proc.kill("SIGKILL");
        }
      }, 100);
      try {
        const sent = await sendAll(udp, cls.datagrams());

        // The canary goes through the parser, the no-aggregation path, the serializer and the
        // forwarder of the same process, after the class.
        const canary = `fuzz.canary.c${index}`;
        const value = 1000 + index + 0.25;
        await sendAll(udp, [`${canary}:${value}|g|T${Math.floor(Date.now() / 1000)}`]);
        const arrived = await waitFor(
          "the canary",
          async () => {
            if (agent.proc.exitCode !== null) return false; // killed by the guard: no point waiting
            return (await canaryValues(canary)).includes(value) || undefined;
          },
          CANARY_MS,
        ).catch(() => false);
        if (!arrived) {
          problems.push(
            `the canary ${canary}:${value} did not reach the intake in ${CANARY_MS} ms`,
          );
        }

        const health = await healthy(agent);
        if (health) problems.push(health);
        // A class the agent never read tests nothing: at least half must get past the kernel.
        let received = "-";
        if (!health) {
          const v = await (await fetch(vars, { signal: AbortSignal.timeout(HEALTH_MS) })).json();
          const packets = Number(v["dogstatsd-udp"]?.Packets ?? 0) - 1; // minus the canary
          received = String(packets);
          if (packets < sent / 2) problems.push(`only ${packets} of ${sent} datagrams were read`);
        }

        if (guarded) {
          problems.push(`killed with SIGKILL past ${GUARD_RSS_MB} MB, so SIGTERM was not tried`);
        } else {
          agent.proc.kill("SIGTERM");
          const code = await Promise.race([
            agent.proc.exited,
            sleep(STOP_MS).then(() => "timeout"),
          ]);
          if (code === "timeout") {
            problems.push(`SIGTERM did not end the process within ${STOP_MS} ms`);
          } else if (code !== 0) problems.push(`exited with ${code} after SIGTERM`);
        }
        clearInterval(sampler); // its samples cover the shutdown flush too
        if (maxRss > MAX_RSS_MB) {
          problems.push(`RSS reached ${maxRss.toFixed(0)} MB (bound ${MAX_RSS_MB} MB)`);
        }
        console.log(
          `fuzz ${cls.name}: ${sent} datagrams sent, ${received} read, max RSS ${
            maxRss.toFixed(0)
          } MB, ${problems.length ? problems.join("; ") : "ok"}`,
        );
        assert.deepEqual(problems, [], `${cls.name}:\n${agent.stderr().slice(-2000)}`);
      } finally {
        clearInterval(sampler);
        if (agent.proc.exitCode === null) {
          agent.proc.kill("SIGKILL");
          await agent.proc.exited;
        }
        rmSync(agent.dir, { recursive: true, force: true });
      }
    });
  });
});
