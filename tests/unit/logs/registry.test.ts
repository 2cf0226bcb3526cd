import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Auditor } from "../../../src/logs/mod.ts";
import type { Origin } from "../../../src/logs/mod.ts";
import { nextSeq } from "../../../src/logs/_message.ts";
import { resolveStart } from "../../../src/logs/_tailer.ts";
import { crc64Iso } from "../../../src/logs/_fingerprint.ts";
import { tempDir } from "../../_temp.ts";

const origin = (identifier: string, offset: number, seq = nextSeq()): Origin =>
  ({ identifier, offset: String(offset), tailingMode: "end", fingerprint: "0", seq }) as Origin;

describe("Auditor", () => {
  it("writes the Go agent's version 2 registry, atomically, only what was acknowledged", async () => {
    const dir = tempDir("logs-registry-");
    const path = join(dir, "run", "registry.json");
    const now = Date.UTC(2026, 11, 1, 22, 0, 0, 123);
    const a = new Auditor({ path, now: () => now, flushMs: 10_000 });
    await a.start();
    a.ack([
      origin("file:/var/log/a.log", 10),
      origin("file:/var/log/a.log", 18234),
      origin("", 99),
    ]);
    assert.equal(a.offset("file:/var/log/a.log"), "18234");
    await a.stop();
    const text = readFileSync(path, "utf8");
    assert.equal(
      text,
      '{"Version":2,"Registry":{"file:/var/log/a.log":{"LastUpdated":"2026-12-01T22:00:00.123Z",' +
        '"Offset":"18234","TailingMode":"end","IngestionTimestamp":1796162400123000000,"Fingerprint":"0"}}}\n',
    );
    assert.deepEqual(readdirSync(join(dir, "run")), ["registry.json"], "no temp file left");
    const again = new Auditor({ path });
    await again.start();
    assert.equal(again.offset("file:/var/log/a.log"), "18234");
    await again.stop();
  });

  it("ignores acks of messages made before a reset (a rotation), so offsets never go backwards", async () => {
    const a = new Auditor({ path: join(tempDir("logs-registry-"), "registry.json") });
    await a.start();
    const old = origin("file:/x", 5000);
    a.reset("file:/x", 0, "end", "0");
    a.ack([old]);
    assert.equal(a.offset("file:/x"), "0");
    a.ack([origin("file:/x", 120)]);
    assert.equal(a.offset("file:/x"), "120");
    await a.stop();
  });

  it("starts empty on a registry without Version, and on one that is not JSON", async () => {
    const dir = tempDir("logs-registry-");
    for (const text of ['{"Registry":{"file:/x":{"Offset":"3"}}}', "{trunc"]) {
      const path = join(dir, "registry.json");
      writeFileSync(path, text);
      const a = new Auditor({ path });
      await a.start();
      assert.equal(a.offset("file:/x"), undefined);
      await a.stop();
    }
  });

  it("counts a failed write and keeps the state for the next flush", async () => {
    const dir = tempDir("logs-registry-");
    mkdirSync(join(dir, "registry.json")); // a directory where the file should be
    const a = new Auditor({ path: join(dir, "registry.json") });
    await a.start();
    a.ack([origin("file:/x", 1)]);
    a.flush();
    assert.equal(a.writeErrors, 1);
    assert.equal(a.offset("file:/x"), "1");
    await a.stop();
  });
});

describe("resolveStart (A.2.4)", () => {
  const file = { size: 1000, fingerprint: "77" };
  const entry = (offset: string, tailingMode = "end", fingerprint = "77") => ({
    offset,
    tailingMode,
    fingerprint,
  });
  it("follows the start_position matrix", () => {
    assert.equal(resolveStart("end", undefined, file), 1000);
    assert.equal(resolveStart("beginning", undefined, file), 0);
    assert.equal(resolveStart("end", entry("400"), file), 400);
    assert.equal(resolveStart("beginning", entry("400"), file), 400);
    assert.equal(resolveStart("forceBeginning", entry("400"), file), 0);
    assert.equal(resolveStart("forceEnd", entry("400"), file), 1000);
    assert.equal(resolveStart("end", entry("x"), file), 1000);
    assert.equal(resolveStart("beginning", entry("x"), file), 0);
  });
  it("drops the offset on beginning → end, keeps it on end → beginning", () => {
    assert.equal(resolveStart("end", entry("400", "beginning"), file), 1000);
    assert.equal(resolveStart("beginning", entry("400", "end"), file), 400);
  });
  it("starts at 0 when the file is shorter than the offset or has another fingerprint", () => {
    assert.equal(resolveStart("end", entry("4000"), file), 0);
    assert.equal(resolveStart("end", entry("400", "end", "12"), file), 0);
    assert.equal(resolveStart("end", entry("400", "end", "0"), file), 400);
    assert.equal(resolveStart("end", entry("400"), { size: 900, fingerprint: "0" }), 0);
  });
});

describe("crc64Iso", () => {
  it("matches the CRC-64/GO-ISO check value", () => {
    assert.equal(crc64Iso(new TextEncoder().encode("123456789")).toString(16), "b90956c775a41001");
  });
});
