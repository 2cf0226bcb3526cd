import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createJsLoader } from "../../../../src/checks/js/mod.ts";
import { cachePath, readCache } from "../../../../src/checks/js/_cache.ts";
import { runtime } from "../../../../src/runtime/mod.ts";
import { tempDir } from "../../../_temp.ts";
import { checkConfig, fakeHost, never, writeCheck } from "./_fixtures.ts";

const loader = createJsLoader();

async function loadOne(
  dir: string,
  name: string,
  raw: Record<string, unknown> = {},
  host = fakeHost(dir),
) {
  const { config, instance } = checkConfig(name, raw);
  const check = await loader.load(config, instance, host.host);
  assert.ok(check, `check ${name} should load`);
  return { check, ...host, sender: host.sender(instance.id), id: instance.id };
}

describe("createJsLoader()", () => {
  it("has the key, name and priority the collector sorts by", () => {
    assert.equal(loader.key, "js");
    assert.equal(loader.name, "JS Check Loader");
    assert.equal(loader.priority, 10);
  });

  it("load() returns null when no checks.d directory has the file", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(dir, "other.ts", "export default class extends AgentCheck { check() {} }");
    const { config, instance } = checkConfig("absent");
    assert.equal(await loader.load(config, instance, fakeHost(dir).host), null);
  });

  it("load() takes the first directory, then .ts before .mts, .js and .mjs", async () => {
    const dir = tempDir("outpost-js-");
    const first = join(dir, "first");
    const second = join(dir, "second");
    mkdirSync(first);
    mkdirSync(second);
    const body = (v: number) =>
      `export default class extends AgentCheck { check() { this.gauge("pick", ${v}); } }`;
    writeCheck(second, "pick.ts", body(1));
    writeCheck(first, "pick.mjs", body(2));
    writeCheck(first, "pick.js", body(3));
    const host = fakeHost(dir, { checksdPaths: [first, second] });
    const { sender, check } = await loadOne(dir, "pick", {}, host);
    await check.run(never());
    assert.deepEqual(sender.metrics().map((m) => m.value), [3]);
  });

  it("a .ts check with types runs and submits through the sender", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "typed.ts",
      `interface Point { v: number }
       export const version: string = "1.2.3";
       export default class extends AgentCheck {
         check(instance: Readonly<Record<string, unknown>>): void {
           const p: Point = { v: Number(instance.value) };
           this.gauge("typed.g", p.v, { tags: ["a:b", 7 as never], hostname: "h1" });
           this.count("typed.c", 2);
           this.monotonicCount("typed.m", 3, { flushFirstValue: true });
           this.rate("typed.r", 4);
           this.histogram("typed.h", 5);
           this.historate("typed.hr", 6);
           this.increment("typed.inc");
           this.decrement("typed.dec", 2);
         }
       }`,
    );
    const { check, sender } = await loadOne(dir, "typed", { value: 42 });
    assert.equal(check.version, "1.2.3");
    assert.equal(check.loader, "JS Check Loader");
    assert.equal(check.id, "typed:0123456789abcdef");
    assert.equal(check.intervalS, 15);
    const result = await check.run(never());
    assert.deepEqual(result, { warnings: [] });
    assert.deepEqual(
      sender.metrics().map((m) => [m.type, m.name, m.value]),
      [
        ["gauge", "typed.g", 42],
        ["count", "typed.c", 2],
        ["monotonic_count", "typed.m", 3],
        ["rate", "typed.r", 4],
        ["histogram", "typed.h", 5],
        ["historate", "typed.hr", 6],
        ["counter", "typed.inc", 1],
        ["counter", "typed.dec", -2],
      ],
    );
    const [g, , m] = sender.metrics();
    assert.deepEqual(g.tags, ["a:b"]);
    assert.equal(g.hostname, "h1");
    assert.equal(m.flushFirstValue, true);
  });

  it("a .js check without a version export is unversioned; min_collection_interval sets the interval", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "plain.js",
      `export default class extends AgentCheck { check() { this.gauge("plain.one", 1); } }`,
    );
    const { check, sender } = await loadOne(dir, "plain", { min_collection_interval: 60 });
    assert.equal(check.version, "unversioned");
    assert.equal(check.intervalS, 60);
    await check.run(never());
    assert.deepEqual(sender.metrics().map((m) => m.name), ["plain.one"]);
  });

  it("run() turns a throw into an error whose traceback is the stack", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "boom.ts",
      `function deep(): never { throw new Error("database is down"); }
       export default class extends AgentCheck { check() { this.gauge("before", 1); deep(); } }`,
    );
    const { check, sender } = await loadOne(dir, "boom");
    const result = await check.run(never());
    assert.equal(result.error?.message, "database is down");
    assert.match(result.error!.traceback, /Error: database is down/);
    assert.match(result.error!.traceback, /deep/);
    assert.match(result.error!.traceback, /boom\.ts/);
    // What was submitted before the throw stays, for the collector's commit.
    assert.equal(sender.metrics().length, 1);
  });

  it("run() turns a rejected async check and a thrown non-Error into errors", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "rej.js",
      `export default class extends AgentCheck {
         async check(i) { await null; if (i.str) throw "plain text"; throw new TypeError("bad"); }
       }`,
    );
    const one = await loadOne(dir, "rej");
    assert.equal((await one.check.run(never())).error?.message, "bad");
    const two = await loadOne(dir, "rej", { str: true });
    assert.deepEqual((await two.check.run(never())).error, {
      message: "plain text",
      traceback: "plain text",
    });
  });

  it("warnings are returned by the run they happened in, then drained", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "warn.ts",
      `let runs = 0;
       export default class extends AgentCheck {
         constructor(ctx: any) { super(ctx); this.warning("from the constructor"); }
         check() { runs++; if (runs === 1) this.warning("first run"); }
       }`,
    );
    const { check, logs } = await loadOne(dir, "warn");
    assert.deepEqual((await check.run(never())).warnings, ["from the constructor", "first run"]);
    assert.deepEqual((await check.run(never())).warnings, []);
    assert.ok(logs.some((l) => l.includes("WARN") && l.includes("first run")), logs.join("\n"));
  });

  it("serviceCheck() drops the message of an OK status with a warning, keeps others", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "sc.ts",
      `export default class extends AgentCheck {
         check() {
           this.serviceCheck("sc.ok", AgentCheck.OK, { message: "all good", tags: ["t:1"] });
           this.serviceCheck("sc.crit", 2, { message: "down", hostname: "h2" });
           this.serviceCheck("sc.bad", 9);
         }
       }`,
    );
    const { check, sender } = await loadOne(dir, "sc");
    const result = await check.run(never());
    assert.equal(result.error, undefined);
    assert.equal(result.warnings.length, 2);
    assert.match(result.warnings[0], /sc\.ok.*OK.*message was dropped: all good/);
    assert.match(result.warnings[1], /sc\.bad.*invalid status 9/);
    assert.deepEqual(sender.items, [
      {
        kind: "service_check",
        name: "sc.ok",
        status: 0,
        tags: ["t:1"],
        hostname: undefined,
        message: undefined,
      },
      {
        kind: "service_check",
        name: "sc.crit",
        status: 2,
        tags: [],
        hostname: "h2",
        message: "down",
      },
    ]);
  });

  it("non-finite and non-number values are dropped with a warning", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "nan.js",
      `export default class extends AgentCheck {
         check() {
           this.gauge("v.nan", NaN);
           this.gauge("v.inf", Infinity);
           this.count("v.str", "3");
           this.gauge("v.ok", 0);
         }
       }`,
    );
    const { check, sender } = await loadOne(dir, "nan");
    const result = await check.run(never());
    assert.equal(result.warnings.length, 3);
    assert.match(result.warnings[0], /"v\.nan" has a non-finite value NaN/);
    assert.match(result.warnings[1], /"v\.inf" has a non-finite value Infinity/);
    assert.deepEqual(sender.metrics().map((m) => m.name), ["v.ok"]);
  });

  it("static NAMESPACE prefixes metric and service check names, not events", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "ns.ts",
      `export default class extends AgentCheck {
         static NAMESPACE = "shop";
         check() {
           this.gauge("orders", 1);
           this.gauge("system.raw", 1, { raw: true });
           this.serviceCheck("can_connect", 0);
           this.event({ title: "t", text: "x", tags: ["e:1"], alertType: "info" });
           this.setMetadata("version.raw", 12);
         }
       }`,
    );
    const { check, sender } = await loadOne(dir, "ns");
    await check.run(never());
    assert.deepEqual(sender.items.map((i) => "name" in i ? i.name : i.kind), [
      "shop.orders",
      "system.raw",
      "shop.can_connect",
      "event",
      "metadata",
    ]);
    const ev = sender.items[3];
    assert.ok(ev.kind === "event");
    assert.equal(ev.event.title, "t");
    assert.equal(ev.event.alertType, "info");
    assert.deepEqual(ev.event.tags, ["e:1"]);
    assert.deepEqual(sender.items[4], { kind: "metadata", key: "version.raw", value: "12" });
  });

  it("the instance and init_config are deep-frozen copies; ctx has name, checkId and agent", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "ctx.js",
      `export default class extends AgentCheck {
         check(instance) {
           let threw = false;
           try { instance.nested.list.push(1); } catch { threw = true; }
           this.gauge("frozen", threw && Object.isFrozen(this.initConfig) ? 1 : 0);
           this.gauge("same", instance === this.instance ? 1 : 0);
           this.setMetadata("who", [this.name, this.checkId, this.agent.version, this.agent.hostname].join(" "));
           this.setMetadata("cfg", String(this.agent.getConfig("api_key")) + " " + String(this.agent.getConfig("nope")));
           this.agent.log("error", "logged by the check");
         }
       }`,
    );
    const raw = { nested: { list: [] as number[] } };
    const { config, instance } = checkConfig("ctx", raw, { shared: 1 });
    const h = fakeHost(dir);
    const check = (await loader.load(config, instance, h.host))!;
    await check.run(never());
    const sender = h.sender(instance.id);
    assert.deepEqual(sender.metrics().map((m) => m.value), [1, 1]);
    assert.deepEqual(raw.nested.list, [], "the caller's map is untouched");
    assert.deepEqual(sender.items.slice(2).map((i) => i.kind === "metadata" && i.value), [
      "ctx ctx:0123456789abcdef 7.99.0 test-host",
      "k undefined",
    ]);
    assert.ok(
      h.logs.some((l) => /ERROR.*check:ctx.*logged by the check/.test(l)),
      h.logs.join("\n"),
    );
  });

  it("run(signal) exposes an AbortSignal that aborts on timeout, so the check can stop", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "slow.ts",
      `export default class extends AgentCheck {
         check() {
           return new Promise<void>((_, reject) => {
             this.signal.addEventListener("abort", () => reject(this.signal.reason), { once: true });
           });
         }
       }`,
    );
    const { check } = await loadOne(dir, "slow");
    const timeout = new AbortController();
    const running = check.run(timeout.signal);
    timeout.abort(new DOMException("Check slow ran past check_run_timeout", "TimeoutError"));
    const result = await running;
    assert.equal(result.error?.message, "Check slow ran past check_run_timeout");
  });

  it("cancel() aborts the signal and calls the check's cancel()", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "cancel.js",
      `export default class extends AgentCheck {
         check() {
           return new Promise((resolve) => this.signal.addEventListener("abort", () => resolve()));
         }
         cancel() { this.gauge("cancelled", this.signal.aborted ? 1 : 0); }
       }`,
    );
    const { check, sender } = await loadOne(dir, "cancel");
    const running = check.run(never());
    await check.cancel();
    assert.deepEqual(await running, { warnings: [] });
    assert.deepEqual(sender.metrics().map((m) => [m.name, m.value]), [["cancelled", 1]]);
  });

  it("a module that fails to import, or whose default export is not a check, is a load error", async () => {
    const dir = tempDir("outpost-js-");
    writeFileSync(join(dir, "broken.ts"), "export default class {{{ syntax");
    const { config, instance } = checkConfig("broken");
    await assert.rejects(
      loader.load(config, instance, fakeHost(dir).host),
      /Cannot import JS check "broken" from .*broken\.ts: /,
    );
    writeFileSync(join(dir, "notclass.js"), "export default 42;");
    const other = checkConfig("notclass");
    await assert.rejects(
      loader.load(other.config, other.instance, fakeHost(dir).host),
      /default export must be a class extending AgentCheck/,
    );
    writeCheck(
      dir,
      "ctor.js",
      `export default class extends AgentCheck { constructor(c) { super(c); throw new Error("no url"); } check() {} }`,
    );
    const third = checkConfig("ctor");
    await assert.rejects(
      loader.load(third.config, third.instance, fakeHost(dir).host),
      /Cannot load JS check "ctor": its constructor failed: no url/,
    );
  });

  it("load() after an edit runs the new code; an unchanged file keeps its module", async () => {
    const dir = tempDir("outpost-js-");
    const body = (v: number) =>
      `let loads = (globalThis.__jsReloadCount ??= { n: 0 }); loads.n++;
       export default class extends AgentCheck { check() { this.gauge("edit.v", ${v}); } }`;
    writeCheck(dir, "edit.js", body(1));
    const first = await loadOne(dir, "edit");
    await first.check.run(never());
    const again = await loadOne(dir, "edit");
    await again.check.run(never());
    writeCheck(dir, "edit.js", body(2));
    const edited = await loadOne(dir, "edit");
    await edited.check.run(never());
    assert.deepEqual(first.sender.metrics().map((m) => m.value), [1]);
    assert.deepEqual(again.sender.metrics().map((m) => m.value), [1]);
    assert.deepEqual(edited.sender.metrics().map((m) => m.value), [2]);
    const count = (globalThis as Record<string, any>).__jsReloadCount.n;
    assert.equal(count, 2, "evaluated once per distinct content");
  });

  it("a check can import a sibling module of its own by a relative path", async () => {
    const dir = tempDir("outpost-js-");
    writeFileSync(join(dir, "_helper.js"), "export const triple = (x) => x * 3;\n");
    writeCheck(
      dir,
      "rel.js",
      `import { triple } from "./_helper.js";
       export default class extends AgentCheck { check() { this.gauge("rel", triple(2)); } }`,
    );
    const { check, sender } = await loadOne(dir, "rel");
    assert.deepEqual(await check.run(never()), { warnings: [] });
    assert.deepEqual(sender.metrics().map((m) => m.value), [6]);
  });

  it("outpost:checks resolves on Bun; on Deno the load error points to the global AgentCheck", async () => {
    const dir = tempDir("outpost-js-");
    writeFileSync(
      join(dir, "virt.ts"),
      `import { AgentCheck } from "outpost:checks";
       export default class extends AgentCheck { check() { this.gauge("virt", 1); } }`,
    );
    const { config, instance } = checkConfig("virt");
    const h = fakeHost(dir);
    if (runtime.name === "bun") {
      const check = (await loader.load(config, instance, h.host))!;
      await check.run(never());
      assert.deepEqual(h.sender(instance.id).metrics().map((m) => m.name), ["virt"]);
    } else {
      await assert.rejects(
        loader.load(config, instance, h.host),
        /Cannot import JS check "virt" .*cannot provide "outpost:checks": use the global AgentCheck/s,
      );
    }
  });

  it("codeStamp() changes when the file is edited and is null without a file", () => {
    const dir = tempDir("outpost-js-");
    const { host } = fakeHost(dir);
    assert.equal(loader.codeStamp("stamped", host), null);
    const path = writeCheck(
      dir,
      "stamped.js",
      "export default class extends AgentCheck { check() {} }",
    );
    const before = loader.codeStamp("stamped", host);
    assert.match(before!, new RegExp(`^${path.replace(/[.]/g, "\\.")} \\d+-\\d+$`));
    assert.equal(loader.codeStamp("stamped", host), before);
    writeCheck(dir, "stamped.js", "export default class extends AgentCheck { check() {} }");
    assert.notEqual(loader.codeStamp("stamped", host), before);
  });

  it("the global AgentCheck is defined for checks that import nothing", async () => {
    const dir = tempDir("outpost-js-");
    writeFileSync(
      join(dir, "noimport.js"),
      `export default class extends AgentCheck { check() { this.gauge("g", 1); } }`,
    );
    // The loader defines the global on the first load that finds a file.
    writeCheck(dir, "warm.js", "export default class extends AgentCheck { check() {} }");
    await loadOne(dir, "warm");
    const { check, sender } = await loadOne(dir, "noimport");
    await check.run(never());
    assert.equal(sender.metrics().length, 1);
  });
});

describe("persistent cache", () => {
  it("writePersistentCache() writes <run_path>/<check name>/<hex>_<key> with mode 0600", async () => {
    const dir = tempDir("outpost-js-");
    writeCheck(
      dir,
      "cache.ts",
      `export default class extends AgentCheck {
         check() {
           const before = this.readPersistentCache("last/../pos!");
           this.writePersistentCache("last/../pos!", "v" + (Number(before.slice(1) || 0) + 1));
           this.setMetadata("before", before);
         }
       }`,
    );
    const h = fakeHost(dir);
    const { check, sender, host } = await loadOne(dir, "cache", {}, h);
    await check.run(never());
    await check.run(never());
    const file = join(host.config.run_path, "cache", "0123456789abcdef_lastpos");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(sender.items.map((i) => i.kind === "metadata" && i.value), ["", "v1"]);
    // A new instance of the same ID reads what the last one wrote (it survives restarts).
    const next = await loadOne(dir, "cache", {}, h);
    await next.check.run(never());
    assert.deepEqual(sender.items.at(-1), { kind: "metadata", key: "before", value: "v2" });
  });
});

describe("cachePath()", () => {
  it("splits at the first colon and drops characters outside [a-zA-Z0-9_-]", () => {
    assert.deepEqual(cachePath("/run", "redis:inst:ab12_k.e/y"), {
      dir: "/run/redis",
      file: "/run/redis/instab12_key",
    });
    assert.deepEqual(cachePath("/run", "../../etc/passwd"), {
      dir: "/run",
      file: "/run/etcpasswd",
    });
  });
  it("readCache() of a key never written is empty", () => {
    const dir = tempDir("outpost-js-");
    assert.equal(readCache(dir, "x:never"), "");
  });
  it("a key with no valid file name is an error", () => {
    assert.throws(
      () => cachePath("/run", "a:..."),
      /Cannot use persistent cache key "a:\.\.\.": no valid file name/,
    );
  });
});
