/**
 * Lambda lets an extension write under /tmp only: the compiled binary runs three invocations
 * and a SHUTDOWN under strace, with HOME pointing nowhere and `/` as its working directory, and
 * every path it opened for writing, created, renamed or removed must be under /tmp (or a
 * device). Needs strace; without it the test says so and is skipped.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { BIN } from "./_binary.ts";
import {
  freePort,
  freeUdpPort,
  type Intake,
  intakeEnv,
  startIntake,
} from "../../scripts/bench/_agent.ts";
import { tempDir } from "../_temp.ts";
import { TestRuntimeApi } from "../_lambda_runtime_api.ts";

const STRACE = ["/usr/bin/strace", "/bin/strace"].find((p) => existsSync(p));
const dir = tempDir("outpost-lambda-writes-");
let intake: Intake;
let api: TestRuntimeApi;

before(async () => {
  intake = await startIntake(BIN, join(dir, "intake"), "1gb");
  api = new TestRuntimeApi();
  await api.start();
});
after(async () => {
  await api.close();
  await intake.stop();
});

/** Syscalls that write to the file system, and where their path arguments are. */
const WRITES =
  /^(?:\d+\s+)?(openat|open|creat|mkdir|mkdirat|rename|renameat2?|link|linkat|symlink|symlinkat|unlink|unlinkat|rmdir|truncate|chmod|fchmodat)\((.*)\)\s+=\s+(-?\d+)/;

/** The paths each writing syscall in an strace log touched (only calls that succeeded). */
function writtenPaths(log: string): string[] {
  const paths: string[] = [];
  for (const line of log.split("\n")) {
    const m = WRITES.exec(line);
    if (!m || Number(m[3]) < 0) continue;
    const [, call, args] = m;
    if ((call === "openat" || call === "open") && !/O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(args)) {
      continue;
    }
    for (const q of args.matchAll(/"((?:[^"\\]|\\.)*)"/g)) paths.push(q[1]);
  }
  return paths;
}

describe("the Lambda mode's writes", () => {
  it(
    "stay under /tmp",
    { skip: STRACE ? false : "strace is not installed", timeout: 60_000 },
    async () => {
      const bin = join(dir, "datadog-agent");
      copyFileSync(BIN, bin);
      const trace = join(dir, "strace.log");
      const dogstatsd = await freeUdpPort();
      const apm = await freePort();
      const proc = Bun.spawn({
        cmd: [STRACE!, "-f", "-qq", "-s", "512", "-o", trace, bin],
        cwd: "/",
        env: {
          PATH: process.env.PATH ?? "",
          HOME: "/nonexistent",
          AWS_LAMBDA_RUNTIME_API: api.address,
          DD_API_KEY: "e2e-key",
          ...intakeEnv(intake.url),
          DD_LOGS_ENABLED: "true",
          DD_DOGSTATSD_PORT: String(dogstatsd),
          DD_APM_RECEIVER_PORT: String(apm),
          DD_SERVERLESS_DAEMON_PORT: String(await freePort()),
          DD_SERVERLESS_FLUSH_STRATEGY: "end",
        },
        stdout: "ignore",
        stderr: "pipe",
      });
      const stderr = new Response(proc.stderr).text();
      try {
        await api.waitFor("/event/next", 1, 30_000);
        const sock = createSocket("udp4");
        for (let i = 1; i <= 3; i++) {
          api.invoke(`writes-${i}`);
          await api.waitDelivered(i);
          await new Promise((ok) => sock.send(`lambda.writes:1|c`, dogstatsd, "127.0.0.1", ok));
          await (await fetch(`http://127.0.0.1:${apm}/v0.4/traces`, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify([[{
              trace_id: i,
              span_id: 1,
              name: "w",
              resource: "w",
              service: "w",
              start: Date.now() * 1e6,
              duration: 1,
            }]]),
          })).body?.cancel();
          await api.runtimeDone(`writes-${i}`);
          await api.waitFor("/event/next", i + 1);
        }
        sock.close();
        api.shutdown();
        assert.equal(await proc.exited, 0, await stderr);
      } finally {
        proc.kill("SIGKILL");
      }
      const paths = writtenPaths(readFileSync(trace, "utf8"));
      assert.ok(
        paths.includes("/tmp/outpost/dd-lambda-extension-cache.json"),
        "the state file was written",
      );
      assert.ok(paths.some((p) => p.startsWith("/tmp/outpost/")), "run_path is /tmp/outpost");
      const outside = paths.filter((p) => !p.startsWith("/tmp/") && !p.startsWith("/dev/"));
      assert.deepEqual(outside, [], "written outside /tmp");
    },
  );
});
