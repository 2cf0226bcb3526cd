/**
 * JS checks on Bun as the agent runs them: the base class comes from the `outpost:checks`
 * virtual module, `agent.http` goes through the shared HTTP client to a real server, an edited
 * file is re-imported, and a check author's TypeScript type-checks against agent_check.ts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createJsLoader } from "../../src/checks/js/mod.ts";
import { createHttpClient, httpSettings } from "../../src/http/mod.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { tempDir } from "../_temp.ts";
import { checkConfig, fakeHost, never } from "../unit/checks/js/_fixtures.ts";

const loader = createJsLoader();
const ROOT = resolve(import.meta.dirname, "../..");
let stamp = 1_800_000_000;

/** Writes a check file as an author would, importing from `outpost:checks`. */
function writeAuthorCheck(dir: string, file: string, body: string): void {
  const path = join(dir, file);
  writeFileSync(path, `import { AgentCheck } from "outpost:checks";\n${body}`);
  stamp += 10;
  utimesSync(path, stamp, stamp);
}

describe("JS checks on Bun", () => {
  it("a .ts and a .js check import AgentCheck from outpost:checks", async () => {
    const dir = tempDir("outpost-jsi-");
    writeAuthorCheck(
      dir,
      "vts.ts",
      `export const version = "2.0.0";
       export default class extends AgentCheck {
         static NAMESPACE = "vts";
         check(instance: Readonly<Record<string, unknown>>): void {
           this.gauge("value", Number(instance.v), { tags: ["lang:ts"] });
         }
       }`,
    );
    writeAuthorCheck(
      dir,
      "vjs.js",
      `export default class extends AgentCheck { check() { this.count("vjs.value", 5); } }`,
    );
    const h = fakeHost(dir);
    for (const [name, raw] of [["vts", { v: 3 }], ["vjs", {}]] as const) {
      const { config, instance } = checkConfig(name, raw);
      const check = await loader.load(config, instance, h.host);
      assert.ok(check);
      assert.deepEqual(await check.run(never()), { warnings: [] });
    }
    const ts = h.sender("vts:0123456789abcdef").metrics();
    const js = h.sender("vjs:0123456789abcdef").metrics();
    assert.deepEqual(ts.map((m) => [m.name, m.value, m.tags]), [["vts.value", 3, ["lang:ts"]]]);
    assert.deepEqual(js.map((m) => [m.type, m.name, m.value]), [["count", "vjs.value", 5]]);
  });

  it("agent.http reaches a 127.0.0.1 server with User-Agent: Datadog Agent/<version>", async () => {
    const seen: string[] = [];
    const server = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, (req) => {
      seen.push(`${req.headers.get("user-agent")} ${req.headers.get("x-extra")}`);
      return new Response("17");
    });
    try {
      const dir = tempDir("outpost-jsi-");
      writeAuthorCheck(
        dir,
        "web.ts",
        `export default class extends AgentCheck {
           async check(instance: Readonly<Record<string, unknown>>) {
             const res = await this.agent.http(String(instance.url), { headers: { "X-Extra": "1" } });
             this.gauge("web.body", Number(await res.text()));
           }
         }`,
      );
      const base = fakeHost(dir);
      const http = createHttpClient(runtime, httpSettings(base.host.config, {}));
      const h = fakeHost(dir, { http });
      const { config, instance } = checkConfig("web", {
        url: `http://127.0.0.1:${server.port}/value`,
      });
      const check = (await loader.load(config, instance, h.host))!;
      assert.deepEqual(await check.run(never()), { warnings: [] });
      assert.deepEqual(seen, ["Datadog Agent/7.99.0 1"]);
      assert.deepEqual(h.sender(instance.id).metrics().map((m) => m.value), [17]);
    } finally {
      await server.close();
    }
  });

  it("re-loading after an edit runs the new code (Bun keys the module cache by path and query)", async () => {
    const dir = tempDir("outpost-jsi-");
    const body = (v: number) =>
      `export default class extends AgentCheck { check() { this.gauge("rl.v", ${v}); } }`;
    writeAuthorCheck(dir, "rl.ts", body(1));
    const h = fakeHost(dir);
    const { config, instance } = checkConfig("rl");
    await (await loader.load(config, instance, h.host))!.run(never());
    writeAuthorCheck(dir, "rl.ts", body(2));
    await (await loader.load(config, instance, h.host))!.run(never());
    assert.deepEqual(h.sender(instance.id).metrics().map((m) => m.value), [1, 2]);
  });

  it(
    "in a `bun build --compile` executable, a .ts check loads from outpost:checks and an edit is picked up",
    {
      timeout: 120_000,
    },
    async () => {
      const dir = tempDir("outpost-jsi-");
      const checksd = join(dir, "checks.d");
      mkdirSync(checksd);
      writeAuthorCheck(
        checksd,
        "bin.ts",
        `export const version: string = "4.5.6";
       type V = number;
       export default class extends AgentCheck {
         check(instance: Readonly<Record<string, unknown>>): void {
           const v: V = Number(instance.v);
           this.gauge("bin.v", v, { tags: ["t:1"] });
         }
       }`,
      );
      writeFileSync(
        join(checksd, "bin_js.js"),
        `export default class extends AgentCheck { check() { this.gauge("bin.js", 2); } }`,
      );
      // The entry loads each check, runs it, prints what the sender got, edits bin.ts and loads it
      // again: the same path the agent takes, compiled the way scripts/build.ts compiles.
      const entry = join(dir, "entry.ts");
      const src = (p: string) => JSON.stringify(join(ROOT, p));
      writeFileSync(
        entry,
        `import { createJsLoader } from ${src("src/checks/js/mod.ts")};
       import { checkConfig, fakeHost, never } from ${src("tests/unit/checks/js/_fixtures.ts")};
       import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
       async function main() {
         const checksd = process.argv[2];
         const loader = createJsLoader();
         const h = fakeHost(checksd);
         const out: unknown[] = [];
         const once = async (name: string) => {
           const { config, instance } = checkConfig(name, { v: 3 });
           const check = await loader.load(config, instance, h.host);
           const result = await check!.run(never());
           const values = h.sender(instance.id).metrics().map((m) => [m.name, m.value, m.tags]);
           out.push([name, check!.version, result, values.at(-1)]);
         };
         await once("bin");
         await once("bin_js");
         const path = checksd + "/bin.ts";
         writeFileSync(path, 'import { AgentCheck } from "outpost:checks";\\n' +
           'export default class extends AgentCheck { check(): void { this.gauge("bin.v", 30); } }');
         utimesSync(path, 2_000_000_000, 2_000_000_000);
         await once("bin");
         console.log(JSON.stringify(out));
       }
       main();
      `,
      );
      const exe = join(dir, "app");
      const build = await runtime.spawn([
        process.execPath,
        "build",
        entry,
        "--compile",
        "--minify",
        "--bytecode",
        `--outfile=${exe}`,
      ], { timeoutMs: 100_000 });
      assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
      const run = await runtime.spawn([exe, checksd], { timeoutMs: 20_000 });
      const stdout = new TextDecoder().decode(run.stdout);
      assert.equal(run.code, 0, stdout + new TextDecoder().decode(run.stderr));
      assert.deepEqual(JSON.parse(stdout), [
        ["bin", "4.5.6", { warnings: [] }, ["bin.v", 3, ["t:1"]]],
        ["bin_js", "unversioned", { warnings: [] }, ["bin.js", 2, []]],
        ["bin", "unversioned", { warnings: [] }, ["bin.v", 30, []]],
      ]);
    },
  );

  it("a check that does not parse is a load error naming the problem and its line", async () => {
    const dir = tempDir("outpost-jsi-");
    writeAuthorCheck(dir, "unparsable.ts", "export default class extends {{{\n");
    const { config, instance } = checkConfig("unparsable");
    await assert.rejects(
      loader.load(config, instance, fakeHost(dir).host),
      /Cannot import JS check "unparsable" from .*unparsable\.ts: .*Expected identifier but found "\{" \(line 2, column \d+\)/,
    );
  });

  it("a check author's TypeScript type-checks against agent_check.ts mapped as outpost:checks", async () => {
    const dir = tempDir("outpost-jsi-");
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "bundler",
          lib: ["ES2022", "DOM"],
          types: [],
          skipLibCheck: true,
          paths: { "outpost:checks": [join(ROOT, "src/checks/js/agent_check.ts")] },
        },
        files: ["good.ts", "bad.ts"],
      }),
    );
    writeAuthorCheck(
      dir,
      "good.ts",
      `export default class extends AgentCheck {
         async check(): Promise<void> {
           const res = await this.agent.http("http://127.0.0.1:1/", { signal: this.signal });
           this.gauge("ok", res.status, { tags: ["a:b"] });
           this.serviceCheck("up", AgentCheck.OK);
         }
       }`,
    );
    writeAuthorCheck(
      dir,
      "bad.ts",
      `export default class extends AgentCheck {
         check(): void { this.gauge("bad", "not a number"); }
       }`,
    );
    const tsc = join(ROOT, "node_modules/.bin/tsc");
    const res = await runtime.spawn([tsc, "-p", join(dir, "tsconfig.json")], {
      timeoutMs: 120_000,
    });
    const out = new TextDecoder().decode(res.stdout);
    assert.notEqual(res.code, 0, out);
    // Only the wrong call is reported: good.ts and the base class type-check.
    const errors = out.split("\n").filter((l) => /error TS/.test(l));
    assert.equal(errors.length, 1, out);
    assert.match(
      errors[0],
      /bad\.ts\(3,\d+\): error TS2345: .*'string' is not assignable to parameter of type 'number'/,
    );
  });
});
