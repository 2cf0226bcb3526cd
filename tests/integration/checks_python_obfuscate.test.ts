/**
 * `datadog_agent.obfuscate_sql`, `obfuscate_sql_exec_plan` and `obfuscate_mongodb_string` from a real Python check (the
 * real datadog-checks-base in .venv-pychecks, made by `bun scripts/pyenv.ts`, and a real
 * python3), answered by the trace agent's obfuscator through the pyrunner: the check submits
 * what it got back as metric tags, and a failure reaches it as RuntimeError.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { tempDir } from "../_temp.ts";
import { type Config, configDefaults } from "../../src/config/mod.ts";
import { createLogger } from "../../src/log/mod.ts";
import { Registry } from "../../src/telemetry/mod.ts";
import { Aggregator, memorySink } from "../../src/aggregator/mod.ts";
import { createHttpClient, httpSettings } from "../../src/http/mod.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { buildChecks, checksSettings } from "../../src/checks/mod.ts";
import { loadConfd } from "../../src/checks/confd/mod.ts";
import { createPythonLoader } from "../../src/checks/python/mod.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const PYTHON = join(ROOT, ".venv-pychecks", "bin", "python");
const HOST = "py-host";

before(() => {
  // Not a skip: without the venv these tests fail.
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: run \`bun scripts/pyenv.ts\` first`);
});

const CHECK = `import json
from datadog_checks.base import AgentCheck
import datadog_agent

class ObfCheck(AgentCheck):
    def check(self, instance):
        q = datadog_agent.obfuscate_sql("SELECT * FROM users WHERE id = 42 AND name = 'bob'")
        self.gauge('obf.plain', 1, tags=['q:' + q])
        meta = json.loads(datadog_agent.obfuscate_sql(
            "/* c */ SELECT a FROM t1 JOIN t2 ON t1.x = t2.y WHERE b IN (1, 2, 3)",
            json.dumps({'table_names': True, 'collect_commands': True, 'collect_comments': True,
                        'return_json_metadata': True})))
        self.gauge('obf.meta', 1, tags=['q:' + meta['query'], 'tables:' + meta['metadata']['tables_csv'],
                                        'commands:' + ','.join(meta['metadata']['commands']),
                                        'comments:' + ','.join(meta['metadata']['comments'])])
        try:
            datadog_agent.obfuscate_sql("SELECT 'unterminated")
            self.gauge('obf.error', 0)
        except RuntimeError as e:
            self.gauge('obf.error', 1, tags=['msg:' + str(e)[:40]])
        m = datadog_agent.obfuscate_mongodb_string('{"find": "users", "filter": {"age": 42}}')
        self.gauge('obf.mongo', 1, tags=['m:' + m])
        plan = json.dumps({'Plan': {'Node Type': 'Seq Scan', 'Relation Name': 'users', 'Filter': '(id = 42)',
                                    'Plan Rows': 3, 'Output': ['secret']}})
        for normalize in (False, True):
            p = json.loads(datadog_agent.obfuscate_sql_exec_plan(plan, normalize))['Plan']
            self.gauge('obf.plan', 1, tags=['normalize:%s' % normalize, 'node:' + p['Node Type'],
                                            'filter:' + p['Filter'], 'rows:%s' % p['Plan Rows'],
                                            'output:' + ','.join(p['Output'])])
`;

describe("datadog_agent.obfuscate_sql from a Python check", { timeout: 120_000 }, () => {
  it("answers with the trace agent's SQL obfuscator, metadata as JSON, errors as RuntimeError", async () => {
    const dir = tempDir("outpost-pyobf-");
    const confd = join(dir, "conf.d");
    const checksd = join(dir, "checks.d");
    const run = join(dir, "run");
    for (const d of [confd, checksd, run]) mkdirSync(d);
    writeFileSync(join(checksd, "obf.py"), CHECK);
    writeFileSync(join(confd, "obf.yaml"), "instances: [{}]\n");
    const config: Config = {
      ...configDefaults(),
      hostname: HOST,
      run_path: run,
      confd_path: confd,
      additional_checksd: checksd,
      python_binary: PYTHON,
    };
    const logger = createLogger({ level: "info", console: true, write: () => {} });
    const registry = new Registry();
    const sink = memorySink();
    const aggregator = new Aggregator({ sink, hostname: HOST, registry, log: logger.for("agg") });
    const { component } = buildChecks(checksSettings(config, null), {
      runtime,
      config,
      registry,
      logger,
      aggregator,
      hostname: HOST,
      http: createHttpClient(runtime, httpSettings(config, {})),
      loaders: [createPythonLoader({})],
      loadConfigs: () => loadConfd({ confdPaths: [confd], defaults: [], env: {} }),
      ticker: () => () => {},
    });
    const collector = component.collector;
    await collector.start();
    try {
      const check = [...collector.checks.values()].find((c) => c.name === "obf");
      assert.ok(check, `check obf is not scheduled: ${JSON.stringify(collector.loaderErrors)}`);
      const stats = (await collector.runner.runNow(check))!;
      assert.equal(stats.LastError, "");
      await aggregator.flush();
      const tags = (name: string) => sink.received.series.find((s) => s.name === name)?.tags;
      assert.deepEqual(tags("obf.plain"), ["q:SELECT * FROM users WHERE id = ? AND name = ?"]);
      assert.deepEqual(tags("obf.meta"), [
        "commands:SELECT,JOIN",
        "comments:/* c */",
        "q:SELECT a FROM t1 JOIN t2 ON t1.x = t2.y WHERE b IN ( ? )",
        "tables:t1,t2",
      ]);
      const error = sink.received.series.find((s) => s.name === "obf.error")!;
      assert.equal(error.points[0][1], 1, "the check must get RuntimeError");
      assert.match(error.tags[0], /^msg:.*unexpected EOF in string/);
      assert.deepEqual(tags("obf.mongo"), ['m:{"find":"?","filter":{"age":"?"}}']);
      const plans = sink.received.series.filter((s) => s.name === "obf.plan").map((s) => s.tags);
      assert.deepEqual(plans, [
        ["filter:( id = ? )", "node:Seq Scan", "normalize:False", "output:?", "rows:3"],
        ["filter:( id = ? )", "node:Seq Scan", "normalize:True", "output:?", "rows:?"],
      ]);
    } finally {
      await collector.stop();
    }
  });
});
