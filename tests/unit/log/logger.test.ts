import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../../src/log/mod.ts";
import { tempDir } from "../../_temp.ts";

function capture(level: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const logger = createLogger({ ...level, write: (l) => lines.push(l) });
  return { logger, lines };
}

describe("createLogger()", () => {
  it("writes time (UTC), component, level and message on one line", () => {
    const { logger, lines } = capture();
    logger.for("agent").info("started");
    assert.equal(lines.length, 1);
    assert.match(
      lines[0],
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \| OUTPOST \| INFO \| \(agent\) \| started\n$/,
    );
  });

  it("drops messages below the level and writes nothing at off", () => {
    const { logger, lines } = capture({ level: "warn" });
    const log = logger.for("x");
    log.debug("no");
    log.info("no");
    log.warn("yes");
    log.critical("yes");
    assert.deepEqual(lines.map((l) => l.split(" | ")[2]), ["WARN", "CRITICAL"]);
    logger.configure({ level: "off" });
    log.critical("no");
    assert.equal(lines.length, 2);
    assert.equal(log.enabled("critical"), false);
  });

  it("scrubs secrets from every line", () => {
    const { logger, lines } = capture();
    logger.for("fwd").error(
      "POST https://user:hunter2@proxy:3128 api_key=0123456789abcdef0123456789abcdef failed",
    );
    assert.ok(!lines[0].includes("hunter2"));
    assert.ok(!lines[0].includes("0123456789abcdef0123456789ab"));
    assert.ok(lines[0].includes("cdef"), "the key keeps its last 4 characters");
  });

  it("rotates log_file by size and keeps log_file_max_rolls files", () => {
    const file = join(tempDir("outpost-log-"), "agent.log");
    const logger = createLogger({ file, maxSize: 300, maxRolls: 2, console: false });
    const log = logger.for("t");
    for (let i = 0; i < 12; i++) log.info(`message number ${i} ${"x".repeat(40)}`);
    assert.ok(existsSync(`${file}.1`) && existsSync(`${file}.2`));
    assert.ok(!existsSync(`${file}.3`), "no more rolls than configured");
    for (const f of [file, `${file}.1`, `${file}.2`]) {
      assert.ok(readFileSync(f).length <= 300, `${f} within the size`);
    }
    assert.match(
      readFileSync(file, "utf8"),
      /message number 11/,
      "the newest line is in the current file",
    );
  });
});
