import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Decoder } from "../../../src/logs/_decoder.ts";
import { createLineHandler, type LogEvent } from "../../../src/logs/_lines.ts";
import { emptyInfo, type LogMessage, type LogSource } from "../../../src/logs/_message.ts";
import { applyRules, createProcessor, jsonStatus } from "../../../src/logs/_processor.ts";
import { compileRule } from "../../../src/logs/_rules.ts";
import { parseLogsConfig } from "../../../src/logs/_settings.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import { logsEvents } from "../../../src/telemetry/events/mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function source(raw: Record<string, unknown>, opts: { global?: unknown[]; auto?: boolean } = {}) {
  const r = parseLogsConfig({ type: "file", path: "/var/log/x.log", ...raw }, {
    integration: "app",
    configFile: "/etc/outpost/conf.d/app.d/conf.yaml",
    globalRules: (opts.global ?? []).map((g) => compileRule(g as never)),
    autoMultiLine: opts.auto ?? false,
  });
  if ("error" in r) throw new Error(r.error);
  const s: LogSource = {
    name: "app",
    type: "file",
    config: r.config,
    status: { state: "pending" },
    info: emptyInfo(),
  };
  return s;
}

/** Runs text through decoder → line handler → processor and returns the messages. */
async function run(
  s: LogSource,
  text: string,
  waitMs = 0,
  extra: { extraPatterns?: RegExp[]; truncatedTag?: string; maxMessageSize?: number } = {},
) {
  const out: LogMessage[] = [];
  const registry = new Registry();
  const process = createProcessor({
    source: s,
    hostname: "h",
    tags: [],
    identifier: () => "file:/var/log/x.log",
    fingerprint: () => "0",
    tailingMode: "end",
    output: (m) => out.push(m),
    events: logsEvents(registry),
    truncatedTag: extra.truncatedTag,
  });
  const events: LogEvent[] = [];
  const handler = createLineHandler(s.config, {
    maxMessageSize: extra.maxMessageSize ?? 256_000,
    aggregationTimeoutMs: 50,
    extraPatterns: extra.extraPatterns,
    onEvent: (e) => {
      events.push(e);
      process(e);
    },
    info: s.info,
  });
  let offset = 0;
  const d = new Decoder({
    encoding: "utf-8",
    maxMessageSize: extra.maxMessageSize ?? 256_000,
    onLine: (l) => handler.add(l, offset += l.rawLen),
  });
  d.write(enc.encode(text));
  if (waitMs) await new Promise((r) => setTimeout(r, waitMs));
  else handler.flush();
  return { out, events, text: out.map((m) => dec.decode(m.content)), registry };
}

const JAVA = [
  "2026-12-01 10:00:00 ERROR Request failed",
  "java.lang.IllegalStateException: boom",
  "\tat com.example.Foo.bar(Foo.java:42)",
  "\tat com.example.Main.main(Main.java:7)",
  "2026-12-01 10:00:01 INFO next request",
].join("\n") + "\n";

describe("processing rules", () => {
  it("multi_line merges a Java stack trace with escaped newlines and flushes after silence", async () => {
    const s = source({
      log_processing_rules: [{
        type: "multi_line",
        name: "new_event",
        pattern: "\\d{4}-\\d{2}-\\d{2}",
      }],
    });
    const { text, events } = await run(s, JAVA, 200);
    assert.deepEqual(text, [
      "2026-12-01 10:00:00 ERROR Request failed\\njava.lang.IllegalStateException: boom\\n" +
      "\tat com.example.Foo.bar(Foo.java:42)\\n\tat com.example.Main.main(Main.java:7)",
      "2026-12-01 10:00:01 INFO next request",
    ]);
    assert.equal(events[0].offset + events[1].rawLen, enc.encode(JAVA).length);
    assert.equal(s.info.linesCombined, 3);
    assert.equal(s.info.multiLineMatches, 2);
  });

  it("mask_sequences masks a card number with Go's ${1} template", async () => {
    const s = source({
      log_processing_rules: [{
        type: "mask_sequences",
        name: "cards",
        pattern: "(\\d{4})[ -]?\\d{4}[ -]?\\d{4}[ -]?(\\d{4})",
        replace_placeholder: "${1}-XXXX-XXXX-$2",
      }],
    });
    const { text } = await run(s, "paid with 4111 1111 1111 1234 ok\n");
    assert.deepEqual(text, ["paid with 4111-XXXX-XXXX-1234 ok"]);
  });

  it("exclude and include rules drop lines; a global exclude runs before the source's include", async () => {
    const s = source({
      log_processing_rules: [{ type: "include_at_match", name: "only_users", pattern: "user=" }],
    }, {
      global: [{
        type: "exclude_at_match",
        name: "no_health",
        pattern: "healthcheck",
        replace_placeholder: "",
      }],
    });
    const { text, registry } = await run(
      s,
      "user=1 login\nhealthcheck user=2\nno match\nuser=3 logout\n",
    );
    assert.deepEqual(text, ["user=1 login", "user=3 logout"]);
    assert.equal(registry.read("logs-agent.LogsDecoded"), 4);
    assert.equal(text.length, 2, "what passed reaches the sender (which counts LogsProcessed)");
  });

  it("JSON status, severity or level becomes the message status; other lines are info", async () => {
    const { out } = await run(
      source({}),
      '{"level":"error","msg":"x"}\n{"status":"warn"}\n{"severity":"critical","level":"x"}\nplain\n{"nested":{"level":"debug"}}\n',
    );
    assert.deepEqual(out.map((m) => m.status), ["error", "warn", "critical", "info", "info"]);
    assert.equal(jsonStatus("{not json"), "info");
  });

  it("auto multi-line groups lines under a leading timestamp and never groups JSON", async () => {
    const s = source({}, { auto: true });
    const { text } = await run(
      s,
      JAVA + '{"level":"info"}\n  continuation\nJan  3 10:00:00 host app: hi\n',
    );
    assert.equal(text.length, 5);
    assert.ok(text[0].startsWith("2026-12-01 10:00:00 ERROR Request failed\\njava.lang"));
    assert.equal(text[1], "2026-12-01 10:00:01 INFO next request");
    assert.equal(text[2], '{"level":"info"}');
    assert.equal(text[3], "continuation");
    assert.equal(text[4], "Jan  3 10:00:00 host app: hi");
  });

  it("auto multi-line also starts events at auto_multi_line_extra_patterns", async () => {
    const s = source({}, { auto: true });
    const extraPatterns = [
      compileRule({ type: "multi_line", name: "", pattern: "ERROR", replace_placeholder: "" })
        .regex,
    ];
    const { text } = await run(s, "ERROR one\n  detail\nERROR two\n", 0, { extraPatterns });
    assert.deepEqual(text, ["ERROR one\\n  detail", "ERROR two"]);
  });

  it("tag_truncated_logs tags the pieces of a cut line", async () => {
    const s = source({});
    const { out } = await run(s, "x".repeat(100) + "\nshort\n", 0, {
      truncatedTag: "truncated:single_line",
      maxMessageSize: 64,
    });
    assert.deepEqual(out.map((m) => m.tags), [
      ["truncated:single_line"],
      ["truncated:single_line"],
      [],
    ]);
  });

  it("refuses patterns RE2 lacks and names the rule; translates (?P<name>) and (?i)", () => {
    const bad = parseLogsConfig({
      type: "file",
      path: "/x.log",
      log_processing_rules: [{ type: "exclude_at_match", name: "look", pattern: "a(?=b)" }],
    }, { integration: "x", configFile: "", globalRules: [], autoMultiLine: false });
    assert.ok(
      "error" in bad && bad.error.startsWith(".log_processing_rules[0] (look): pattern"),
      JSON.stringify(bad),
    );
    const r = compileRule({
      type: "mask_sequences",
      name: "n",
      pattern: "(?i)key=(?P<v>\\w+)",
      replace_placeholder: "key=${v}!",
    });
    assert.equal("KEY=abc".replace(r.regex, r.replace), "key=abc!");
    assert.equal(
      applyRules([
        compileRule({ type: "exclude_at_match", name: "", pattern: "x", replace_placeholder: "" }),
      ], "axb"),
      undefined,
    );
  });
});

describe("parseLogsConfig", () => {
  const ctx = { integration: "x", configFile: "", globalRules: [], autoMultiLine: false };
  it("names the key and what was expected", () => {
    assert.deepEqual(parseLogsConfig({ type: "tcp" }, ctx), {
      error: ".port: expected a port from 1 to 65535 for a tcp source",
    });
    assert.deepEqual(parseLogsConfig({ type: "journald" }, ctx), {
      error: ".type: journald sources are not supported by outpost (file, tcp, udp are)",
    });
    assert.deepEqual(parseLogsConfig({ type: "file", path: "rel.log" }, ctx), {
      error: '.path: expected an absolute path, got "rel.log"',
    });
    const e = parseLogsConfig({ type: "file", path: "/a", start_position: "middle" }, ctx);
    assert.ok("error" in e && e.error.startsWith(".start_position: expected one of"));
    const enc = parseLogsConfig({ type: "file", path: "/a", encoding: "shift-jis" }, ctx);
    assert.ok("error" in enc && enc.error.startsWith(".encoding: expected one of utf-8"));
  });
  it("takes tags as a list or a comma string, and a Go duration for idle_timeout", () => {
    const r = parseLogsConfig(
      { type: "tcp", port: 10514, tags: "a:b, c:d", idle_timeout: "1m30s" },
      ctx,
    );
    assert.ok("config" in r);
    assert.deepEqual(r.config.tags, ["a:b", "c:d"]);
    assert.equal(r.config.idleTimeoutMs, 90_000);
    const w = parseLogsConfig({ type: "tcp", port: 1, idle_timeout: "soon" }, ctx);
    assert.ok("config" in w && w.warnings.length === 1 && w.config.idleTimeoutMs === 0);
  });
});
