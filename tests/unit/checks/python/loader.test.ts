/**
 * The Python loader's answers that need no datadog-checks-base: "not mine" (null) for a name
 * that is no Python check, the clear error for every Python check when python_binary does not
 * exist, and the package error when the python has no datadog-checks-base (a bare venv).
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createPythonLoader } from "../../../../src/checks/python/mod.ts";
import { tempDir } from "../../../_temp.ts";
import { checkConfig, fakeHost } from "../js/_fixtures.ts";

const dir = tempDir("outpost-pyloader-");
const HELLO = "from datadog_checks.base import AgentCheck\n\nclass Hello(AgentCheck):\n" +
  "    def check(self, instance):\n        self.gauge('hello.world', 1)\n";
let barePython = "";

before(() => {
  writeFileSync(join(dir, "hello.py"), HELLO);
  // A python that surely has no datadog_checks: a venv without the system's site-packages.
  const venv = join(dir, "bare");
  execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
  barePython = join(venv, "bin", "python");
});

function hostWith(pythonBinary: string) {
  const h = fakeHost(dir);
  h.host.config = { ...h.host.config, python_binary: pythonBinary };
  return h;
}

describe("createPythonLoader()", () => {
  it("is the Python Check Loader, key python, priority 20", () => {
    const loader = createPythonLoader();
    assert.deepEqual([loader.name, loader.key, loader.priority], [
      "Python Check Loader",
      "python",
      20,
    ]);
  });

  it("load() with a python_binary that does not exist: the clear error for a checks.d/<name>.py, null for other names", async () => {
    const missing = join(dir, "no-such-python3");
    const loader = createPythonLoader();
    const h = hostWith(missing);
    const hello = checkConfig("hello");
    await assert.rejects(
      loader.load(hello.config, hello.instance, h.host),
      (e: Error) => e.message === `${missing} not found`,
    );
    // Every instance gets it, not only the first.
    await assert.rejects(loader.load(hello.config, hello.instance, h.host), /not found$/);
    const cpu = checkConfig("cpu");
    assert.equal(await loader.load(cpu.config, cpu.instance, h.host), null);
    assert.equal(loader.stats().pid, null);
    await loader.stop();
  });

  it("load() returns null for a name with no checks.d file and no datadog_checks module (the runner says so)", async () => {
    const loader = createPythonLoader();
    const h = hostWith(barePython);
    try {
      const other = checkConfig("not_a_python_check");
      assert.equal(await loader.load(other.config, other.instance, h.host), null);
      const stats = loader.stats();
      assert.equal(typeof stats.pid, "number");
      assert.match(String(stats.python_version), /^3\.\d+\.\d+$/);
      assert.ok(Number(stats.rss_bytes) > 0 && Number(stats.hwm_bytes) >= Number(stats.rss_bytes));
      assert.equal(stats.restarts, 0);
    } finally {
      await loader.stop();
    }
  });

  it("load() of a checks.d check on a python without datadog-checks-base: one error naming the package, no traceback", async () => {
    const loader = createPythonLoader();
    const h = hostWith(barePython);
    try {
      const hello = checkConfig("hello");
      await assert.rejects(
        loader.load(hello.config, hello.instance, h.host),
        (e: Error) =>
          e.message ===
            `ImportError: the datadog-checks-base package is not importable by ${barePython} ` +
              `(No module named 'datadog_checks'): install "datadog-checks-base[deps]" for that ` +
              "python, or set python_binary",
      );
    } finally {
      await loader.stop();
    }
  });

  it("stop() ends the runner process", async () => {
    const loader = createPythonLoader();
    const h = hostWith(barePython);
    const other = checkConfig("not_a_python_check");
    await loader.load(other.config, other.instance, h.host);
    const pid = loader.stats().pid as number;
    assert.ok(existsSync(`/proc/${pid}`));
    await loader.stop();
    assert.equal(existsSync(`/proc/${pid}`), false);
    assert.equal(loader.stats().pid, null);
    // The runner's script went under run_path.
    assert.ok(statSync(join(h.host.config.run_path, "pyrunner", "pyrunner.py")).size > 0);
  });

  it("codeStamp() is the checks.d file with its mtime and size, null without one", () => {
    const loader = createPythonLoader();
    const h = fakeHost(dir);
    const { mtimeMs, size } = statSync(join(dir, "hello.py"));
    assert.equal(
      loader.codeStamp("hello", h.host),
      `${join(dir, "hello.py")} ${Math.trunc(mtimeMs)}-${size}`,
    );
    assert.equal(loader.codeStamp("cpu", h.host), null);
  });
});
