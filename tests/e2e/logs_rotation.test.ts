/**
 * The compiled agent tails a file that a writer appends 200,000 numbered lines to at a steady
 * rate while the real `logrotate` rotates it, forced again and again with `-f`, in `create` and
 * in `copytruncate` mode. Every line must reach a separate `outpost intake` exactly once and in
 * order. In `create` mode the agent is also killed with SIGKILL mid-run and restarted: no line
 * may be lost, and the lines repeated must all lie past the offset the registry held at the
 * kill (lines of batches sent but not acknowledged); the test prints how many repeated.
 *
 * logrotate runs synchronously between two writes, as an application pausing on rotation
 * would: in `copytruncate` mode, lines written between the copy and the truncation are lost by
 * logrotate itself (its manual says so), which is not what this test measures.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./_binary.ts";
import {
  type Agent,
  type Intake,
  sleep,
  startAgent,
  startIntake,
} from "../../scripts/bench/_agent.ts";
import { intakeLogs, logsSetup } from "./_logs.ts";

const LINES = 200_000;
const RUN_MS = 30_000;
const TICK_MS = 10;
const ROTATE_EVERY_MS = 3_000;
const PAD = "x".repeat(40);

const root = mkdtempSync(join(tmpdir(), "outpost-e2e-logrotate-"));
let intake: Intake;
const agents: Agent[] = [];

before(async () => {
  intake = await startIntake(BIN, join(root, "intake"), "1gb");
});

after(async () => {
  for (const a of agents) await a.stop("SIGKILL").catch(() => {});
  await intake?.stop();
  rmSync(root, { recursive: true, force: true });
});

const line = (mode: string, n: number) => `${mode} ${String(n).padStart(6, "0")} ${PAD}\n`;

/** Reads the registry offset of `identifier` ("" when absent). */
function registryOffset(runPath: string, identifier: string): number {
  try {
    const reg = JSON.parse(readFileSync(join(runPath, "registry.json"), "utf8"));
    return Number(reg.Registry?.[identifier]?.Offset ?? 0);
  } catch {
    return 0;
  }
}

async function rotationRun(mode: "create" | "copytruncate", kill: boolean) {
  const dir = join(root, mode);
  const logDir = join(dir, "logs");
  mkdirSync(logDir, { recursive: true });
  const file = join(logDir, "app.log");
  writeFileSync(file, "");
  const rotateConf = join(dir, "logrotate.conf");
  writeFileSync(
    rotateConf,
    `${file} {\n  ${mode}\n  rotate 1000\n  missingok\n  nocompress\n  notifempty\n}\n`,
  );
  const state = join(dir, "logrotate.state");
  const setup = await logsSetup(dir, intake.url, {
    logs: `  - type: file\n    path: ${file}\n    service: rot-${mode}\n    source: e2e\n` +
      `    start_position: beginning\n`,
  });
  let agent = await startAgent(BIN, setup);
  agents.push(agent);

  // Where each line ended in its generation of app.log, to judge repeats after the kill.
  const gen: number[] = new Array(LINES);
  const endOffset: number[] = new Array(LINES);
  let generation = 0;
  let size = 0;
  let rotations = 0;
  let killedAt: { generation: number; offset: number } | null = null;
  const perTick = Math.ceil(LINES / (RUN_MS / TICK_MS));
  const start = Date.now();
  let nextRotation = start + ROTATE_EVERY_MS;
  let killAt = kill ? start + RUN_MS / 2 + ROTATE_EVERY_MS / 2 : Infinity;
  let n = 0;
  while (n < LINES) {
    let chunk = "";
    for (let i = 0; i < perTick && n < LINES; i++, n++) {
      const l = line(mode, n);
      chunk += l;
      size += l.length;
      gen[n] = generation;
      endOffset[n] = size;
    }
    appendFileSync(file, chunk);
    const now = Date.now();
    if (now >= nextRotation) {
      const r = spawnSync("logrotate", ["-f", "-s", state, rotateConf], { encoding: "utf8" });
      assert.equal(r.status, 0, `logrotate failed: ${r.stderr}`);
      rotations++;
      generation++;
      size = 0;
      nextRotation = now + ROTATE_EVERY_MS;
    }
    if (now >= killAt) {
      killAt = Infinity;
      await agent.stop("SIGKILL");
      killedAt = {
        generation,
        offset: registryOffset(join(dir, "run"), `file:${file}`),
      };
      await sleep(500);
      agent = await startAgent(BIN, setup);
      agents.push(agent);
    }
    await sleep(Math.max(0, start + (n / perTick) * TICK_MS - Date.now()));
  }

  const service = `rot-${mode}`;
  // Polled every 2 s: each answer is every stored event of the service.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const got = await intakeLogs(intake.url, `service=${service}`);
    if (new Set(got.map((l) => l.message)).size >= LINES) break;
    if (Date.now() > deadline) {
      const have = new Set(got.map((l) => Number(l.message.split(" ")[1])));
      const gaps: string[] = [];
      for (let i = 0; i < LINES; i++) {
        if (have.has(i)) continue;
        let j = i;
        while (j + 1 < LINES && !have.has(j + 1)) j++;
        gaps.push(`${i}-${j} (gen ${gen[i]}, offsets ${endOffset[i]}-${endOffset[j]})`);
        i = j;
      }
      throw new Error(
        `missing ranges: ${gaps.slice(0, 20).join(", ")}\n` +
          `${
            new Set(got.map((l) => l.message)).size
          } of ${LINES} distinct ${mode} lines after 120 s\n` +
          agent.stderr().slice(-3000),
      );
    }
    await sleep(2000);
  }
  const logs = await intakeLogs(intake.url, `service=${service}`);
  const numbers = logs.map((l) => Number(l.message.split(" ")[1]));
  const seen = new Map<number, number>();
  for (const x of numbers) seen.set(x, (seen.get(x) ?? 0) + 1);
  const missing = Array.from({ length: LINES }, (_, i) => i).filter((i) => !seen.has(i));
  const repeated = [...seen].filter(([, c]) => c > 1).map(([x]) => x);
  console.log(
    `${mode}: ${LINES} lines, ${rotations} rotations, ${logs.length} received, ${missing.length} missing, ` +
      `${repeated.length} repeated${kill ? " (after a SIGKILL)" : ""}`,
  );
  assert.ok(rotations >= 5, `only ${rotations} rotations`);
  assert.deepEqual(missing.slice(0, 10), [], `${missing.length} lines missing`);
  if (!killedAt) {
    assert.equal(repeated.length, 0, "no line may repeat without a crash");
    assert.deepEqual(numbers, Array.from({ length: LINES }, (_, i) => i), "in order");
  } else {
    // Acked before the kill: an older generation, or this one up to the registry offset.
    const k = killedAt;
    const wronglyRepeated = repeated.filter((x) =>
      gen[x] < k.generation || (gen[x] === k.generation && endOffset[x] <= k.offset)
    );
    console.log(
      `SIGKILL: registry offset ${k.offset} in generation ${k.generation}; ${repeated.length} ` +
        `lines repeated, all of them past the acknowledged offset: ${wronglyRepeated.length === 0}`,
    );
    assert.deepEqual(wronglyRepeated.slice(0, 10), [], "a repeated line had been acknowledged");
    // In order apart from the replayed stretch: first occurrences ascend.
    const once = new Set<number>();
    const firsts = numbers.filter((x) => !once.has(x) && once.add(x) !== undefined);
    assert.deepEqual(firsts, Array.from({ length: LINES }, (_, i) => i), "first arrivals in order");
  }
  assert.equal(await agent.stop("SIGTERM"), 0, agent.stderr().slice(-2000));
}

describe("logs through logrotate", { timeout: 400_000 }, () => {
  it("create mode, with a SIGKILL and restart mid-run", { timeout: 200_000 }, async () => {
    await rotationRun("create", true);
  });
  it("copytruncate mode", { timeout: 200_000 }, async () => {
    await rotationRun("copytruncate", false);
  });
});
