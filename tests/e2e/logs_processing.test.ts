/**
 * Processing and listeners through the compiled agent, checked at a separate `outpost intake`:
 * a Java stack trace merged by a `multi_line` rule, a card number masked, exclude and include
 * rules, JSON `level` as the status, and TCP and UDP sources fed by `socat` and `logger`.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BIN } from "./_binary.ts";
import {
  type Agent,
  freePort,
  freeUdpPort,
  type Intake,
  startAgent,
  startIntake,
  waitFor,
} from "../../scripts/bench/_agent.ts";
import { type IntakeLog, intakeLogs, logsSetup } from "./_logs.ts";

const root = mkdtempSync(join(tmpdir(), "outpost-e2e-logs-proc-"));
const logDir = join(root, "logs");
let intake: Intake;
let agent: Agent;
let configFile: string;
let tcpPort: number;
let udpPort: number;
const path = (name: string) => join(logDir, name);

const source = (file: string, service: string, rules = "") =>
  `  - type: file\n    path: ${path(file)}\n    service: ${service}\n    source: e2e\n` +
  `    start_position: beginning\n${rules}`;

before(async () => {
  mkdirSync(logDir);
  for (const f of ["multi.log", "mask.log", "filter.log", "json.log"]) writeFileSync(path(f), "");
  intake = await startIntake(BIN, join(root, "intake"), "64mb");
  tcpPort = await freePort();
  udpPort = await freeUdpPort();
  const setup = await logsSetup(root, intake.url, {
    logs: [
      source(
        "multi.log",
        "proc-multi",
        "    log_processing_rules:\n      - type: multi_line\n        name: new_log_start_with_date\n" +
          "        pattern: \\d{4}-\\d{2}-\\d{2}\n",
      ),
      source(
        "mask.log",
        "proc-mask",
        "    log_processing_rules:\n      - type: mask_sequences\n        name: mask_cards\n" +
          '        pattern: (?:\\d{4}[- ]?){3}\\d{4}\n        replace_placeholder: "[masked_card]"\n',
      ),
      source(
        "filter.log",
        "proc-filter",
        "    log_processing_rules:\n      - type: exclude_at_match\n        name: no_debug\n" +
          "        pattern: DEBUG\n      - type: include_at_match\n        name: only_keep\n" +
          "        pattern: keep\n",
      ),
      source("json.log", "proc-json"),
      `  - type: tcp\n    port: ${tcpPort}\n    service: net-tcp\n    source: socat\n` +
      `    tags: [via:tcp]\n`,
      `  - type: udp\n    port: ${udpPort}\n    service: net-udp\n    source: logger\n` +
      `    tags: [via:udp]\n`,
    ].join(""),
  });
  configFile = setup.config;
  agent = await startAgent(BIN, setup);
});

after(async () => {
  await agent?.stop("SIGKILL");
  await intake?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** The events of `service` once there are at least `n`. */
async function eventsOf(service: string, n: number): Promise<IntakeLog[]> {
  return await waitFor(`${n} events of ${service}`, async () => {
    const logs = await intakeLogs(intake.url, `service=${service}`);
    return logs.length >= n ? logs : undefined;
  }, 20_000);
}

describe("logs processing at the intake", () => {
  it("merges a Java stack trace with a multi_line rule", async () => {
    appendFileSync(
      path("multi.log"),
      [
        "2026-12-03 10:00:00 ERROR Request failed",
        "java.lang.IllegalStateException: boom",
        "\tat com.example.Service.handle(Service.java:42)",
        "\tat com.example.Main.main(Main.java:7)",
        "2026-12-03 10:00:01 INFO next request",
        "",
      ].join("\n"),
    );
    // The second event is sent after the multi-line flush timeout (1 s of silence).
    const logs = await eventsOf("proc-multi", 2);
    // One event, its lines joined with a literal `\n` as the Datadog Agent joins them (A.3.2).
    assert.deepEqual(logs[0].message.split(String.raw`\n`).map((l) => l.trim()), [
      "2026-12-03 10:00:00 ERROR Request failed",
      "java.lang.IllegalStateException: boom",
      "at com.example.Service.handle(Service.java:42)",
      "at com.example.Main.main(Main.java:7)",
    ]);
    assert.equal(logs[1].message, "2026-12-03 10:00:01 INFO next request");
  });

  it("masks a card number with mask_sequences", async () => {
    appendFileSync(path("mask.log"), "paid with 4111-1111-1111-1111 today\n");
    const [log] = await eventsOf("proc-mask", 1);
    assert.equal(log.message, "paid with [masked_card] today");
  });

  it("applies exclude_at_match, then include_at_match", async () => {
    appendFileSync(
      path("filter.log"),
      "keep this one\nDEBUG keep but excluded\ndrop: not included\nkeep that one too\n",
    );
    await eventsOf("proc-filter", 2);
    await new Promise((r) => setTimeout(r, 1000)); // nothing else may arrive
    const logs = await intakeLogs(intake.url, "service=proc-filter");
    assert.deepEqual(logs.map((l) => l.message), ["keep this one", "keep that one too"]);
  });

  it("takes the status from a JSON log's level", async () => {
    appendFileSync(
      path("json.log"),
      '{"level":"error","msg":"disk full"}\n{"level":"warn","msg":"slow"}\nplain line\n',
    );
    const logs = await eventsOf("proc-json", 3);
    assert.deepEqual(logs.map((l) => l.status), ["error", "warn", "info"]);
  });

  it("receives TCP lines from socat, tagged with the source's service, source and tags", async () => {
    const r = spawnSync("socat", ["-u", "-", `TCP:127.0.0.1:${tcpPort}`], {
      input: "tcp line one\ntcp line two\n",
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const logs = await eventsOf("net-tcp", 2);
    assert.deepEqual(logs.map((l) => l.message), ["tcp line one", "tcp line two"]);
    assert.equal(logs[0].ddsource, "socat");
    assert.match(logs[0].ddtags, /via:tcp/);
  });

  it("receives UDP lines from logger and socat", async () => {
    const r = spawnSync("logger", [
      "-d",
      "-n",
      "127.0.0.1",
      "-P",
      String(udpPort),
      "udp from logger",
    ], {
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const s = spawnSync("socat", ["-u", "-", `UDP:127.0.0.1:${udpPort}`], {
      input: "udp from socat\n",
      encoding: "utf8",
    });
    assert.equal(s.status, 0, s.stderr);
    const logs = await eventsOf("net-udp", 2);
    const messages = logs.map((l) => l.message);
    assert.ok(messages.some((m) => m.endsWith("udp from logger")), messages.join(" | "));
    assert.ok(messages.includes("udp from socat"), messages.join(" | "));
    assert.equal(logs[0].ddsource, "logger");
    assert.match(logs[0].ddtags, /via:udp/);
  });

  it("outpost stream-logs shows processed (masked) lines, filtered by service", {
    timeout: 30_000,
  }, async () => {
    const proc = Bun.spawn({
      cmd: [BIN, "stream-logs", "-c", configFile, "--service", "proc-mask", "--duration", "4"],
      stdout: "pipe",
      stderr: "pipe",
    });
    await new Promise((r) => setTimeout(r, 1500)); // connected
    appendFileSync(path("mask.log"), "streamed 5500 0000 0000 0004 card\n");
    appendFileSync(path("filter.log"), "keep: another service, not streamed\n");
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    assert.equal(code, 0, err);
    assert.match(
      out,
      /Integration Name: app \| Type: file \| Status: info \| .* \| Service: proc-mask \| Source: e2e \| .*Message: streamed \[masked_card\] card\n/,
    );
    assert.doesNotMatch(out, /5500/);
    assert.doesNotMatch(out, /another service/);
  });
});
