/**
 * Python checks end to end, against the real datadog-checks-base 38.7.0 in .venv-pychecks (made
 * by `bun scripts/pyenv.ts`) and a real python3: conf.d read by loadConfd, the checks loaded and
 * run by a real Collector, their submissions aggregated by a real Aggregator and flushed to a
 * memory sink. Every row of spec §7.6, plus an OpenMetricsBaseCheckV2 scraping a local
 * /metrics endpoint, and the loading errors when python or the package is missing.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../_temp.ts";
import { configDefaults } from "../../src/config/mod.ts";
import type { Config } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { Aggregator, memorySink } from "../../src/aggregator/mod.ts";
import { createHttpClient, httpSettings } from "../../src/http/mod.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { buildChecks, checksSettings, renderInstance } from "../../src/checks/mod.ts";
import { loadConfd } from "../../src/checks/confd/mod.ts";
import { createJsLoader } from "../../src/checks/js/mod.ts";
import { createSystemLoader } from "../../src/checks/system/mod.ts";
import { createPythonLoader } from "../../src/checks/python/mod.ts";
import type { Check } from "../../src/checks/_types.ts";
import type { Serie } from "../../src/metrics/model.ts";
import { PLAIN } from "../../src/status/mod.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const PYTHON = join(ROOT, ".venv-pychecks", "bin", "python");
const HOST = "py-host";

before(() => {
  // Not a skip: without the venv these tests fail, as the spec requires.
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: run \`bun scripts/pyenv.ts\` first`);
});

interface WorldOptions {
  /** checks.d files by name (`hello.py`, `js_ok.ts`). */
  checks?: Record<string, string>;
  /** conf.d files by path under conf.d (`hello.yaml`). */
  confs: Record<string, string>;
  config?: Partial<Config>;
  sysPath?: string[];
  /** Schedule for real (1 s ticks) instead of running by hand. */
  schedule?: boolean;
}

/** A temp conf.d/checks.d/run_path, a collector with the js, python and core loaders. */
async function world(o: WorldOptions) {
  const dir = tempDir("outpost-py-");
  const confd = join(dir, "conf.d");
  const checksd = join(dir, "checks.d");
  const run = join(dir, "run");
  for (const d of [confd, checksd, run]) mkdirSync(d);
  for (const [file, text] of Object.entries(o.checks ?? {})) {
    writeFileSync(join(checksd, file), text);
  }
  for (const [file, text] of Object.entries(o.confs)) {
    mkdirSync(join(confd, file, ".."), { recursive: true });
    writeFileSync(join(confd, file), text);
  }
  const config: Config = {
    ...configDefaults(),
    hostname: HOST,
    run_path: run,
    confd_path: confd,
    additional_checksd: checksd,
    python_binary: PYTHON,
    ...o.config,
  };
  const lines: string[] = [];
  const logger = createLogger({ level: "debug", console: true, write: (l) => void lines.push(l) });
  const registry = new Registry();
  const sink = memorySink();
  const aggregator = new Aggregator({ sink, hostname: HOST, registry, log: logger.for("agg") });
  const validated: string[] = [];
  const python = createPythonLoader({
    sysPath: o.sysPath,
    onPy3Validated: (name) => validated.push(name),
  });
  const { component } = buildChecks(checksSettings(config, null), {
    runtime,
    config,
    registry,
    logger,
    aggregator,
    hostname: HOST,
    http: createHttpClient(runtime, httpSettings(config, {})),
    loaders: [createJsLoader(), python, createSystemLoader()],
    loadConfigs: () => loadConfd({ confdPaths: [confd], defaults: [], env: {} }),
    // By hand, the checks run only when a test says so.
    ...(o.schedule ? {} : { ticker: () => () => {} }),
  });
  const collector = component.collector;
  await collector.start();
  const check = (name: string): Check => {
    const found = [...collector.checks.values()].find((c) => c.name === name);
    assert.ok(found, `check ${name} is not scheduled: ${JSON.stringify(collector.loaderErrors)}`);
    return found;
  };
  return {
    dir,
    run,
    checksd,
    collector,
    python,
    sink,
    lines,
    validated,
    check,
    /** Runs a check as `outpost check` does and gives its stats. */
    runNow: async (name: string) => (await collector.runner.runNow(check(name)))!,
    /** Flushes and gives the series of `name`. */
    series: async (prefix: string): Promise<Serie[]> => {
      await aggregator.flush();
      return sink.received.series.filter((s) => s.name.startsWith(prefix));
    },
    stop: () => collector.stop(),
  };
}

type World = Awaited<ReturnType<typeof world>>;

async function using(o: WorldOptions, fn: (w: World) => Promise<void>): Promise<void> {
  const w = await world(o);
  try {
    await fn(w);
  } finally {
    await w.stop();
  }
}

const HELLO = `from datadog_checks.base import AgentCheck

class HelloCheck(AgentCheck):
    def check(self, instance):
        self.gauge('hello.world', 1, tags=['a:b'])
`;

/** A checks.d file whose check() body is `body` (indented by the caller). */
function pyCheck(body: string, extra = ""): string {
  return `import os, sys, time, threading
from datadog_checks.base import AgentCheck
${extra}
class TheCheck(AgentCheck):
    def check(self, instance):
${body.replace(/^/gm, "        ")}
`;
}

const points = (s: Serie[]) => s.map((x) => [x.name, x.points.map((p) => p[1]), x.tags, x.host]);

describe("Python checks (real datadog-checks-base, real python3)", { timeout: 120_000 }, () => {
  it("checks.d/hello.py with conf.d/hello.yaml: hello.world 1 with a:b under the confd ID", async () => {
    await using(
      { checks: { "hello.py": HELLO }, confs: { "hello.yaml": "instances: [{}]\n" } },
      async (w) => {
        const id = w.collector.configCheck().configs[0]!.instances[0]!.id;
        assert.match(id, /^hello:[0-9a-f]{16}$/);
        assert.equal(w.check("hello").id, id);
        assert.equal(w.check("hello").loader, "Python Check Loader");
        assert.equal(w.check("hello").version, "unversioned");
        const stats = await w.runNow("hello");
        assert.equal(stats.LastError, "");
        assert.equal(stats.TotalRuns, 1);
        assert.equal(stats.MetricSamples, 1);
        assert.deepEqual(points(await w.series("hello.")), [["hello.world", [1], ["a:b"], HOST]]);
        assert.deepEqual(w.validated, ["hello"]);
      },
    );
  });

  it("reload: an edited checks.d file is loaded again under the same ID and its new code runs", async () => {
    await using(
      { checks: { "hello.py": HELLO }, confs: { "hello.yaml": "instances: [{}]\n" } },
      async (w) => {
        const id = w.check("hello").id;
        await w.runNow("hello");
        assert.deepEqual(points(await w.series("hello.")), [["hello.world", [1], ["a:b"], HOST]]);
        w.sink.clear();
        writeFileSync(
          join(w.checksd, "hello.py"),
          HELLO.replace("'hello.world', 1", "'hello.world', 22"),
        );
        // The reload notices the edit through codeStamp() even with all=false.
        const { scheduled, unscheduled } = await w.collector.reload();
        assert.deepEqual([scheduled, unscheduled], [[id], [id]]);
        assert.equal((await w.runNow("hello")).LastError, "");
        assert.deepEqual(points(await w.series("hello.")), [["hello.world", [22], ["a:b"], HOST]]);
      },
    );
  });

  it("module lookup: datadog_checks.hello wins over checks.d/hello.py", async () => {
    const site = tempDir("outpost-py-site-");
    mkdirSync(join(site, "datadog_checks", "hello"), { recursive: true });
    writeFileSync(
      join(site, "datadog_checks", "hello", "__init__.py"),
      `__version__ = '9.9.9'
from datadog_checks.base import AgentCheck

class WheelHello(AgentCheck):
    def check(self, instance):
        self.gauge('hello.wheel', 2)
`,
    );
    await using({
      checks: { "hello.py": HELLO },
      confs: { "hello.d/conf.yaml": "instances: [{}]\n" },
      sysPath: [site],
    }, async (w) => {
      assert.equal(w.check("hello").version, "9.9.9");
      await w.runNow("hello");
      assert.deepEqual(points(await w.series("hello.")), [["hello.wheel", [2], [], HOST]]);
      // A wheel is not byte-compiled at load.
      assert.deepEqual(w.validated, []);
    });
  });

  it("class pick: a module with Base(AgentCheck) and Impl(Base) loads Impl", async () => {
    const text = `from datadog_checks.base import AgentCheck

class Base(AgentCheck):
    def check(self, instance):
        self.gauge('pick.class', 0, tags=['class:' + type(self).__name__])

class Impl(Base):
    pass
`;
    await using(
      { checks: { "pick.py": text }, confs: { "pick.yaml": "instances: [{}]\n" } },
      async (w) => {
        await w.runNow("pick");
        assert.deepEqual(points(await w.series("pick.")), [[
          "pick.class",
          [0],
          ["class:Impl"],
          HOST,
        ]]);
      },
    );
  });

  it("construction: a check whose __init__ needs the deprecated agentConfig is built on the retry with it", async () => {
    const text = `from datadog_checks.base import AgentCheck

class OldStyle(AgentCheck):
    def __init__(self, name, init_config, agentConfig, instances=None):
        super().__init__(name, init_config, instances)
        self.agent_hostname = agentConfig.get('hostname')

    def check(self, instance):
        self.gauge('old.ok', 1, tags=['agent_host:' + str(self.agent_hostname)])
`;
    await using(
      { checks: { "old.py": text }, confs: { "old.yaml": "instances: [{}]\n" } },
      async (w) => {
        assert.equal((await w.runNow("old")).LastError, "");
        assert.deepEqual(points(await w.series("old.")), [[
          "old.ok",
          [1],
          [`agent_host:${HOST}`],
          HOST,
        ]]);
        assert.ok(w.lines.some((l) => l.includes("deprecated agentConfig")));
      },
    );
  });

  it("error path: ValueError('boom') is [ERROR], Error: boom with its traceback; TotalErrors +1, LastSuccessDate unchanged", async () => {
    await using({
      checks: { "boom.py": pyCheck("raise ValueError('boom')") },
      confs: { "boom.yaml": "instances: [{}]\n" },
    }, async (w) => {
      const stats = await w.runNow("boom");
      assert.equal(stats.TotalErrors, 1);
      assert.equal(stats.LastSuccessDate, 0);
      const [error] = JSON.parse(stats.LastError);
      assert.equal(error.message, "boom");
      assert.match(error.traceback, /^Traceback \(most recent call last\):/);
      assert.match(error.traceback, /boom\.py", line \d+, in check/);
      assert.match(error.traceback, /ValueError: boom\n$/);
      const text = renderInstance(stats, undefined, { style: PLAIN, utc: true }).join("\n");
      assert.match(text, /Instance ID: boom:[0-9a-f]{16} \[ERROR\]/);
      assert.match(text, /Error: boom\n/);
      assert.match(text, /ValueError: boom/);
    });
  });

  it("warnings: self.warning('w') is [WARNING], Warning: w", async () => {
    await using({
      checks: { "warns.py": pyCheck("self.warning('w')") },
      confs: { "warns.yaml": "instances: [{}]\n" },
    }, async (w) => {
      const stats = await w.runNow("warns");
      assert.deepEqual(stats.LastWarnings, ["w"]);
      assert.equal(stats.TotalWarnings, 1);
      const text = renderInstance(stats, undefined, { style: PLAIN, utc: true }).join("\n");
      assert.match(text, /\[WARNING\]/);
      assert.match(text, /Warning: w$/m);
    });
  });

  it("stray print: print('x') does not break the protocol, and pyrunner: x is logged at WARN", async () => {
    await using({
      checks: { "chatty.py": pyCheck("print('x')\nself.gauge('chatty.after', 3)") },
      confs: { "chatty.yaml": "instances: [{}]\n" },
    }, async (w) => {
      const stats = await w.runNow("chatty");
      assert.equal(stats.LastError, "");
      assert.deepEqual(points(await w.series("chatty.")), [["chatty.after", [3], [], HOST]]);
      // stderr is read on its own stream: give it a moment to arrive.
      for (let i = 0; i < 50 && !w.lines.some((l) => l.includes("pyrunner: x")); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      const line = w.lines.find((l) => l.trimEnd().endsWith("pyrunner: x"));
      assert.ok(line, w.lines.join("\n"));
      assert.match(line, /\| WARN \|/);
    });
  });

  it("concurrency: a 3 s check every 1 s runs one at a time, 'already running' is logged, and the runner refuses a duplicate", async () => {
    const extra = `ACTIVE = [0, 0]
LOCK = threading.Lock()
`;
    const body = `with LOCK:
    ACTIVE[0] += 1
    ACTIVE[1] = max(ACTIVE[1], ACTIVE[0])
time.sleep(3)
with LOCK:
    ACTIVE[0] -= 1
self.gauge('slow.max_concurrent', ACTIVE[1])`;
    await using({
      checks: { "slow.py": pyCheck(body, extra) },
      confs: { "slow.yaml": "instances: [{min_collection_interval: 1}]\n" },
      schedule: true,
    }, async (w) => {
      const check = w.check("slow");
      const deadline = Date.now() + 15_000;
      while (!w.lines.some((l) => l.includes("is already running, skipping execution"))) {
        assert.ok(Date.now() < deadline, "no 'already running' line");
        await new Promise((r) => setTimeout(r, 100));
      }
      // The runner enforces it too: a second run of the same ID while one is in flight.
      const direct = await check.run(new AbortController().signal);
      const duplicate = w.collector.runner.isRunning(check.id);
      // Whichever of the two overlapped a scheduled run was refused by the runner.
      if (duplicate) assert.equal(direct.error?.message, "already running");
      const a = check.run(new AbortController().signal);
      const b = check.run(new AbortController().signal);
      const results = await Promise.all([a, b]);
      assert.ok(
        results.some((r) => r.error?.message === "already running"),
        JSON.stringify(results),
      );
      // One scheduled run has finished and committed by the time it has stats.
      while (!w.collector.runner.statsOf(check.id)?.TotalRuns) {
        assert.ok(Date.now() < deadline + 10_000, "no scheduled run finished");
        await new Promise((r) => setTimeout(r, 100));
      }
      const max = (await w.series("slow.")).flatMap((s) => s.points.map((p) => p[1]));
      assert.ok(max.length > 0);
      assert.deepEqual([...new Set(max)], [1]);
    });
  });

  it("crash: os._exit(1) in a check fails the run, the runner restarts and the next run is OK", async () => {
    const body = `flag = os.path.join(instance['dir'], 'crashed')
if not os.path.exists(flag):
    open(flag, 'w').close()
    os._exit(1)
self.gauge('crashy.ok', 1)`;
    const dir = tempDir("outpost-py-flag-");
    await using({
      checks: { "crashy.py": pyCheck(body) },
      confs: { "crashy.yaml": `instances: [{dir: ${JSON.stringify(dir)}}]\n` },
    }, async (w) => {
      const id = w.check("crashy").id;
      const pid = w.python.stats().pid;
      assert.equal(typeof pid, "number");
      const first = await w.runNow("crashy");
      assert.equal(
        JSON.parse(first.LastError)[0].message,
        "python runner exited (code 1, signal none)",
      );
      // While it is down a run fails at once with the same error.
      const down = await w.check("crashy").run(new AbortController().signal);
      assert.equal(down.error?.message, "python runner exited (code 1, signal none)");
      const deadline = Date.now() + 10_000;
      while (w.python.stats().restarts !== 1) {
        assert.ok(Date.now() < deadline, "the runner did not restart");
        await new Promise((r) => setTimeout(r, 100));
      }
      // Reloading the instances follows the restart; give it its round trip.
      let next = await w.runNow("crashy");
      for (let i = 0; i < 20 && next.LastError !== ""; i++) {
        await new Promise((r) => setTimeout(r, 100));
        next = await w.runNow("crashy");
      }
      assert.equal(next.LastError, "");
      assert.equal(w.check("crashy").id, id);
      assert.notEqual(w.python.stats().pid, pid);
      assert.deepEqual(points(await w.series("crashy.")), [["crashy.ok", [1], [], HOST]]);
    });
  });

  it("subprocess helper: get_subprocess_output(['echo','hi']) is ('hi\\n','',0); empty output with raise_on_empty raises", async () => {
    const body =
      `from datadog_checks.base.utils.subprocess_output import get_subprocess_output, SubprocessOutputEmptyError
out = get_subprocess_output(['echo', 'hi'], self.log, False)
assert out == ('hi\\n', '', 0), repr(out)
try:
    get_subprocess_output(['true'], self.log, True)
    raise AssertionError('no SubprocessOutputEmptyError')
except SubprocessOutputEmptyError as e:
    assert str(e) == 'get_subprocess_output expected output but had none.', str(e)
# No shell: the argument is passed as it is.
out = get_subprocess_output(['echo', '$HOME;ls'], self.log, False)
assert out[0] == '$HOME;ls\\n', repr(out)
self.gauge('sub.ok', 1)`;
    await using({
      checks: { "sub.py": pyCheck(body) },
      confs: { "sub.yaml": "instances: [{}]\n" },
    }, async (w) => {
      const stats = await w.runNow("sub");
      assert.equal(stats.LastError, "");
      assert.deepEqual(points(await w.series("sub.")), [["sub.ok", [1], [], HOST]]);
    });
  });

  it("persistent cache: a write then a read round-trips; the file is under run_path with mode 0600", async () => {
    const body = `assert self.read_persistent_cache('k') == '', 'a missing key reads as ""'
self.write_persistent_cache('k', 'v1 é')
assert self.read_persistent_cache('k') == 'v1 é'
self.gauge('cache.ok', 1)`;
    await using({
      checks: { "cache.py": pyCheck(body) },
      confs: { "cache.yaml": "instances: [{}]\n" },
    }, async (w) => {
      const stats = await w.runNow("cache");
      assert.equal(stats.LastError, "");
      // AgentCheck prefixes the key with `<check_id>_`; the ID's `:` splits directory and file.
      const hex = w.check("cache").id.split(":")[1];
      const file = join(w.run, "cache", `${hex}_k`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.equal(execFileSync("cat", [file], { encoding: "utf8" }), "v1 é");
    });
  });

  // The obfuscation calls' answers: tests/integration/checks_python_obfuscate.test.ts.
  it("obfuscate_sql_exec_plan on a plan that is not JSON raises RuntimeError with the reason", async () => {
    const body = `import datadog_agent
try:
    datadog_agent.obfuscate_sql_exec_plan('{"Plan": ')
    raise AssertionError('no error')
except RuntimeError as e:
    assert str(e).startswith('cannot obfuscate the execution plan'), str(e)
self.gauge('obf.raised', 1)`;
    await using({
      checks: { "obf.py": pyCheck(body) },
      confs: { "obf.yaml": "instances: [{}]\n" },
    }, async (w) => {
      const stats = await w.runNow("obf");
      assert.equal(stats.LastError, "");
      assert.deepEqual(points(await w.series("obf.")), [["obf.raised", [1], [], HOST]]);
    });
  });

  it("the real base sees a running agent (AGENT_RUNNING, as using_stub_aggregator is no more in 38.x) and the agent's modules answer as the agent does", async () => {
    const body = `import datadog_agent, aggregator, tagger, containers, kubeutil, _util, util
from datadog_checks.base import agent as base_agent
from datadog_checks.base.checks import base as base_module
assert base_agent.AGENT_RUNNING is True
assert base_module.aggregator is aggregator and base_module.datadog_agent is datadog_agent
assert not aggregator.__name__.startswith('datadog_checks')
# The real agent answers None for an unknown key; the test stub answers ''.
assert datadog_agent.get_config('no_such_key_anywhere') is None
assert datadog_agent.get_config('api_key') is None, 'the API key is not given to checks'
assert datadog_agent.get_config('log_level') == 'info'
assert datadog_agent.get_config('proxy') == {'http': '', 'https': '', 'no_proxy': []}
assert datadog_agent.get_hostname() == '${HOST}'
assert datadog_agent.get_version() == '7.64.0', datadog_agent.get_version()
h = datadog_agent.headers({}, http_host='example.test')
assert h == {'User-Agent': 'Datadog Agent/7.64.0', 'Content-Type': 'application/x-www-form-urlencoded',
             'Accept': 'text/html, */*', 'Host': 'example.test'}, h
assert util.headers({}) == _util.headers({})
assert tagger.tag('container_id://x', tagger.LOW) == []
try:
    tagger.tag('x', 9)
    raise AssertionError('no TypeError')
except TypeError:
    pass
assert containers.is_excluded('n', 'img') is False
assert kubeutil.get_connection_info() == {}
assert 'DD_API_KEY' not in os.environ and 'DD_APP_KEY' not in os.environ
assert os.environ.get('OUTPOST_PY_TEST') == 'inherited'
self.gauge('mods.ok', 1)`;
    process.env.DD_API_KEY = "secret-api-key";
    process.env.DD_APP_KEY = "secret-app-key";
    process.env.OUTPOST_PY_TEST = "inherited";
    try {
      await using({
        checks: { "mods.py": pyCheck(body) },
        confs: { "mods.yaml": "instances: [{}]\n" },
        config: { api_key: "secret-api-key" },
      }, async (w) => {
        const stats = await w.runNow("mods");
        assert.equal(stats.LastError, "");
        assert.deepEqual(points(await w.series("mods.")), [["mods.ok", [1], [], HOST]]);
      });
    } finally {
      delete process.env.DD_API_KEY;
      delete process.env.DD_APP_KEY;
      delete process.env.OUTPOST_PY_TEST;
    }
  });

  it("a custom AgentCheck's gauge, count, monotonic_count, histogram, service_check, event and warning arrive with exact values", async () => {
    const body = `run = self.runs = getattr(self, 'runs', 0) + 1
self.gauge('custom.gauge', 12.5, tags=['env:test'])
self.count('custom.count', 3)
self.count('custom.count', 4)
self.monotonic_count('custom.mono', 10 if run == 1 else 15)
for v in (1, 2, 3, 4):
    self.histogram('custom.hist', v)
self.service_check('custom.up', AgentCheck.WARNING, tags=['svc:a'], message='slow')
self.event({'msg_title': 'T', 'msg_text': 'body', 'alert_type': 'warning', 'tags': ['e:1'],
            'aggregation_key': 'agg', 'source_type_name': 'custom', 'priority': 'low'})
self.gauge('custom.nan', float('nan'))
self.gauge('custom.str', 'x')
self.warning('careful')`;
    await using({
      checks: { "custom.py": pyCheck(body) },
      confs: { "custom.yaml": "instances: [{tags: ['inst:1']}]\n" },
    }, async (w) => {
      const one = await w.runNow("custom");
      assert.equal(one.LastError, "");
      // 'x' is not a number: AgentCheck drops it with a warning, as under the agent.
      assert.equal(one.LastWarnings.length, 2);
      assert.match(one.LastWarnings[0]!, /Metric: 'custom.str' has non float value: 'x'/);
      assert.equal(one.LastWarnings[1], "careful");
      await w.series("custom.");
      w.sink.clear();
      const two = await w.runNow("custom");
      assert.equal(two.LastError, "");
      const series = await w.series("custom.");
      const byName = Object.fromEntries(series.map((s) => [s.name, s]));
      const v = (n: string) => byName[n]?.points.map((p) => p[1]);
      assert.deepEqual(v("custom.gauge"), [12.5]);
      assert.deepEqual(byName["custom.gauge"]!.tags, ["env:test", "inst:1"]);
      assert.equal(byName["custom.gauge"]!.host, HOST);
      assert.deepEqual(v("custom.count"), [7]);
      assert.equal(byName["custom.count"]!.type, "count");
      assert.deepEqual(v("custom.mono"), [5]);
      assert.equal(byName["custom.mono"]!.type, "count");
      assert.deepEqual(v("custom.hist.max"), [4]);
      assert.deepEqual(v("custom.hist.avg"), [2.5]);
      assert.deepEqual(v("custom.hist.count"), [4]);
      assert.deepEqual(v("custom.hist.median"), [2]);
      assert.deepEqual(v("custom.hist.95percentile"), [4]);
      // NaN is dropped by the sender, as the aggregator drops it.
      assert.equal(byName["custom.nan"], undefined);
      const sc = w.sink.received.serviceChecks.filter((s) => s.name === "custom.up");
      assert.deepEqual(sc.map((s) => [s.status, s.tags, s.host, s.message]), [
        [1, ["inst:1", "svc:a"], HOST, "slow"],
      ]);
      const ev = w.sink.received.events.filter((e) => e.title === "T");
      assert.deepEqual(
        ev.map((e) => [
          e.text,
          e.alertType,
          e.priority,
          e.aggregationKey,
          e.sourceTypeName,
          [...e.tags].sort(),
          e.host,
        ]),
        [["body", "warning", "low", "agg", "custom", ["e:1", "inst:1"], HOST]],
      );
      // gauge, count twice, monotonic_count, histogram four times; NaN was dropped.
      assert.equal(two.MetricSamples, 8);
      assert.equal(two.ServiceChecks, 1);
      assert.equal(two.Events, 1);
      // The pipe counters of this check, counted on the agent side.
      const pipe = (w.python.stats().checks as Record<string, Record<string, number>>)[
        w.check("custom").id
      ]!;
      assert.ok(pipe.msgs_in >= 2 * (9 + 2 + 1) && pipe.msgs_out >= 3, JSON.stringify(pipe));
      assert.ok(pipe.bytes_in > pipe.msgs_in && pipe.bytes_out > pipe.msgs_out);
    });
  });

  it("OpenMetricsBaseCheckV2 scraping a local /metrics endpoint maps its series exactly", async () => {
    let requests = 7;
    const server = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, (req) => {
      if (new URL(req.url).pathname !== "/metrics") return new Response("no", { status: 404 });
      const body = [
        "# HELP app_requests_total Requests served.",
        "# TYPE app_requests_total counter",
        `app_requests_total{code="200"} ${requests}`,
        "# HELP app_temperature_celsius Temperature.",
        "# TYPE app_temperature_celsius gauge",
        `app_temperature_celsius{room="lab"} 21.5`,
        "# HELP app_ignored Not mapped.",
        "# TYPE app_ignored gauge",
        "app_ignored 1",
        "",
      ].join("\n");
      requests += 3;
      return new Response(body, { headers: { "content-type": "text/plain; version=0.0.4" } });
    });
    const endpoint = `http://127.0.0.1:${server.port}/metrics`;
    const text = `from datadog_checks.base import OpenMetricsBaseCheckV2

class AppCheck(OpenMetricsBaseCheckV2):
    __NAMESPACE__ = 'app'
`;
    const conf = `instances:
  - openmetrics_endpoint: ${endpoint}
    metrics:
      - app_requests: requests
      - app_temperature_celsius: temperature
`;
    try {
      await using({ checks: { "app.py": text }, confs: { "app.yaml": conf } }, async (w) => {
        const first = await w.runNow("app");
        assert.equal(first.LastError, "", first.LastError);
        await w.series("app.");
        w.sink.clear();
        const second = await w.runNow("app");
        assert.equal(second.LastError, "", second.LastError);
        const series = await w.series("app.");
        const tag = `endpoint:${endpoint}`;
        assert.deepEqual(
          series.map((s) => [s.name, s.type, s.points.map((p) => p[1]), s.tags]).sort(),
          [
            ["app.requests.count", "count", [3], ["code:200", tag]],
            ["app.temperature", "gauge", [21.5], [tag, "room:lab"]],
          ],
        );
        const health = w.sink.received.serviceChecks.filter((s) =>
          s.name === "app.openmetrics.health"
        );
        assert.deepEqual(health.map((s) => [s.status, s.tags]), [[0, [tag]]]);
      });
    } finally {
      await server.close();
    }
  });

  it("py3 validation: a SyntaxError is a load error with file and line; a SyntaxWarning lands in Py3Warnings", async () => {
    await using({
      checks: {
        "broken.py": "from datadog_checks.base import AgentCheck\n\ndef f(:\n    pass\n",
        "warny.py": pyCheck("assert (1, 'always true')\nself.gauge('warny.ok', 1)"),
      },
      confs: { "broken.yaml": "instances: [{}]\n", "warny.yaml": "instances: [{}]\n" },
    }, async (w) => {
      const error = w.collector.loaderErrors.broken?.["Python Check Loader"];
      assert.ok(error, JSON.stringify(w.collector.loaderErrors));
      assert.match(error, /^SyntaxError: invalid syntax \(.*broken\.py line 3\)/);
      const py3 = w.python.stats().Py3Warnings as Record<string, string[]>;
      assert.equal(py3.warny?.length, 1, JSON.stringify(py3));
      assert.match(py3.warny![0]!, /warny\.py:\d+: assertion is always true/);
      assert.deepEqual(w.validated, ["warny"]);
      assert.equal((await w.runNow("warny")).LastError, "");
      assert.deepEqual(w.collector.status().pyLoaderStats.Py3Warnings, py3);
    });
  });

  it("disable_py3_validation: no byte-compile at load, onPy3Validated is not called", async () => {
    await using({
      checks: { "hello.py": HELLO },
      confs: { "hello.yaml": "instances: [{}]\n" },
      config: { disable_py3_validation: true },
    }, async (w) => {
      w.check("hello");
      assert.deepEqual(w.validated, []);
    });
  });

  it("tracemalloc_debug: the run reports its allocation delta and peak", async () => {
    await using({
      checks: {
        "mem.py": pyCheck("KEEP.append([bytes(1000) for _ in range(1000)])", "KEEP = []\n"),
      },
      confs: { "mem.yaml": "instances: [{}]\n" },
      config: { tracemalloc_debug: true },
    }, async (w) => {
      // The first run also does the check's one-time set-up, which frees garbage of its own.
      await w.runNow("mem");
      const stats = await w.runNow("mem");
      assert.equal(stats.LastError, "");
      // Each run keeps about 1 MB more.
      assert.ok(stats.MemAllocDelta! > 900_000, String(stats.MemAllocDelta));
      assert.ok(stats.MemPeak! >= stats.MemAllocDelta!);
    });
  });

  it("an aborted run asks the check to cancel() and resolves when the check returns", async () => {
    const extra = `STOP = threading.Event()
`;
    const body = `STOP.clear()
stopped = STOP.wait(20)
self.gauge('cancel.seen', 1 if stopped else 0)`;
    const text = pyCheck(body, extra) + `
    def cancel(self):
        STOP.set()
`;
    await using(
      { checks: { "cancel.py": text }, confs: { "cancel.yaml": "instances: [{}]\n" } },
      async (w) => {
        const controller = new AbortController();
        const started = Date.now();
        setTimeout(() => controller.abort(), 300);
        const result = await w.check("cancel").run(controller.signal);
        assert.deepEqual(result, { warnings: [] });
        assert.ok(Date.now() - started < 10_000);
        w.collector.senderOf(w.check("cancel").id)!.commit(Date.now() / 1000);
        assert.deepEqual(points(await w.series("cancel.")), [["cancel.seen", [1], [], HOST]]);
      },
    );
  });

  it("codeStamp(): the checks.d file with its mtime and size, null for a name without one", async () => {
    await using(
      { checks: { "hello.py": HELLO }, confs: { "hello.yaml": "instances: [{}]\n" } },
      async (w) => {
        const host = { checksdPaths: [w.checksd] } as Parameters<typeof w.python.codeStamp>[1];
        const { mtimeMs, size } = statSync(join(w.checksd, "hello.py"));
        assert.equal(
          w.python.codeStamp("hello", host),
          `${join(w.checksd, "hello.py")} ${Math.trunc(mtimeMs)}-${size}`,
        );
        assert.equal(w.python.codeStamp("nope", host), null);
      },
    );
  });

  describe("without python or without the package, one loading error per Python check while JS and system checks run", () => {
    const js = `export default class extends AgentCheck { check() { this.gauge("js.alive", 1); } }`;
    const base = {
      checks: { "py_one.py": HELLO, "py_two.py": HELLO, "js_alive.js": js },
      confs: {
        "py_one.yaml": "instances: [{}]\n",
        "py_two.yaml": "instances: [{}]\n",
        "js_alive.yaml": "instances: [{}]\n",
        "uptime.yaml": "instances: [{}]\n",
      },
    };

    async function expectErrors(w: World, pattern: RegExp): Promise<void> {
      const errors = w.collector.loaderErrors;
      assert.deepEqual(Object.keys(errors).sort(), ["py_one", "py_two"]);
      for (const name of ["py_one", "py_two"]) {
        assert.deepEqual(Object.keys(errors[name]!), ["Python Check Loader"]);
        assert.match(errors[name]!["Python Check Loader"]!, pattern);
      }
      assert.deepEqual([...w.collector.checks.values()].map((c) => c.name).sort(), [
        "js_alive",
        "uptime",
      ]);
      assert.equal((await w.runNow("js_alive")).LastError, "");
      assert.equal((await w.runNow("uptime")).LastError, "");
      assert.deepEqual(points(await w.series("js.")), [["js.alive", [1], [], HOST]]);
      assert.equal((await w.series("system.uptime")).length, 1);
    }

    it("python_binary that does not exist: Python Check Loader: <binary> not found", async () => {
      const missing = join(tempDir("outpost-py-nobin-"), "python3");
      await using({ ...base, config: { python_binary: missing } }, async (w) => {
        await expectErrors(w, new RegExp(`^${missing} not found$`));
        assert.equal(w.python.stats().pid, null);
      });
    });

    it("a python without datadog-checks-base: the error names the package", async () => {
      const bare = tempDir("outpost-py-bare-");
      execFileSync("python3", ["-m", "venv", "--without-pip", bare]);
      await using(
        { ...base, config: { python_binary: join(bare, "bin", "python") } },
        async (w) => {
          await expectErrors(
            w,
            /^ImportError: the datadog-checks-base package is not importable by .*\(No module named 'datadog_checks'\)/,
          );
        },
      );
    });
  });
});
