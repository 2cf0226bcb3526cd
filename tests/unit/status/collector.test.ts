import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { COLOR, StatusCollector } from "../../../src/status/mod.ts";
import { type StatusHeader } from "../../../src/status/_collector.ts";

const header: StatusHeader = {
  version: "1.2.3",
  flavor: "agent",
  runtime: "bun",
  runtimeVersion: "9.9.9",
  buildArch: "arm64",
  pid: 4242,
  startMs: 1_700_000_000_000,
  confFile: "/etc/outpost/datadog.yaml",
  logFile: "/var/log/outpost.log",
  logLevel: "debug",
};
const NOW = 1_700_000_060_123;

function collector() {
  const c = new StatusCollector({ header, now: () => NOW });
  c.register({
    name: "Zeta",
    section: "zeta",
    data: () => ({ zetaStats: { n: 1 } }),
    text: (d) => `  N: ${(d.zetaStats as any).n}`,
  });
  c.register({
    name: "Checks",
    section: "collector",
    data: () => ({ runnerStats: { runs: 3 } }),
    text: () => "  Runs: 3",
  });
  c.register({
    name: "Broken",
    section: "alpha",
    data: () => {
      throw new Error("counter exploded");
    },
    text: () => "never",
  });
  c.register({
    name: "Beta B",
    section: "beta",
    data: () => ({ b: 2 }),
    text: () => "  B: 2",
  });
  c.register({
    name: "Beta A",
    section: "beta",
    data: () => ({ a: 1 }),
    text: () => "  A: 1",
  });
  return c;
}

describe("StatusCollector", () => {
  it("sections() lists collector first, then the rest alphabetically", () => {
    assert.deepEqual(collector().sections(), ["collector", "alpha", "beta", "zeta"]);
  });

  it("json() merges the header and every provider's keys, failures under errors", async () => {
    const s = await collector().json();
    assert.equal(s.version, "1.2.3");
    assert.equal(s.flavor, "agent");
    assert.equal(s.conf_file, "/etc/outpost/datadog.yaml");
    assert.equal(s.pid, 4242);
    assert.equal(s.runtime, "bun");
    assert.equal(s.runtime_version, "9.9.9");
    assert.equal(s.build_arch, "arm64");
    assert.equal(s.agent_start_nano, header.startMs * 1e6);
    assert.equal(s.time_nano, NOW * 1e6);
    assert.deepEqual(s.config, { log_file: "/var/log/outpost.log", log_level: "debug" });
    assert.deepEqual(s.runnerStats, { runs: 3 });
    assert.deepEqual(s.zetaStats, { n: 1 });
    assert.equal(s.a, 1);
    assert.deepEqual(s.errors, ["Broken: counter exploded"]);
  });

  it("json(section) returns only that section's providers, without the header", async () => {
    assert.deepEqual(await collector().json("beta"), { a: 1, b: 2 });
  });

  it("text() renders the header, sections in order, providers by name and errors last", async () => {
    const text = await collector().text();
    assert.match(text, /^================\nOutpost \(v1\.2\.3\)\n================\n/);
    assert.match(text, /Status date: 2023-11-14 22:14:20\.123 UTC \(1700000060123\)/);
    assert.match(text, /Agent start: 2023-11-14 22:13:20\.000 UTC \(1700000000000\)/);
    assert.match(
      text,
      /Pid: 4242\n {2}Runtime: bun 9\.9\.9\n {2}Build arch: arm64\n {2}Agent flavor: agent/,
    );
    assert.match(text, /Log File: \/var\/log\/outpost\.log\n {2}Log Level: debug/);
    assert.match(text, /Config File: \/etc\/outpost\/datadog\.yaml/);
    const order = ["\nChecks\n", "\nBroken\n", "\nBeta\n", "Beta A\n", "Beta B\n", "\nZeta\n"]
      .map((t) => text.indexOf(t));
    assert.ok(order.every((i) => i > 0), `every title present: ${order}`);
    assert.deepEqual([...order].sort((a, b) => a - b), order);
    assert.match(text, /Broken\n=+\n {2}Status unavailable: counter exploded\n/);
    assert.ok(text.indexOf("Status render errors") > order.at(-1)!);
    assert.match(text, /Status render errors\n=+\n {2}Broken: counter exploded\n$/);
  });

  it("text() with COLOR wraps titles in ANSI bold", async () => {
    const text = await collector().text("zeta", COLOR);
    assert.equal(text, "====\n\x1b[1mZeta\x1b[0m\n====\n  N: 1\n");
  });

  it("text() says there is no config file when none is used", async () => {
    const c = new StatusCollector({ header: { ...header, confFile: null }, now: () => NOW });
    assert.match(await c.text(), /There is no config file/);
  });
});
