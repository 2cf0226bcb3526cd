import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureRunPath } from "../../../src/agent.ts";
import { OutpostError } from "../../../src/errors.ts";

const dir = mkdtempSync(join(tmpdir(), "outpost-run-path-"));

function refusal(path: string): string {
  try {
    ensureRunPath(path);
  } catch (e) {
    assert.ok(e instanceof OutpostError);
    assert.equal(e.code, "config_invalid");
    return e.message;
  }
  assert.fail(`expected ${path} to be refused`);
}

describe("ensureRunPath()", () => {
  it("refuses a file such as /etc/passwd", () => {
    assert.equal(
      refusal("/etc/passwd"),
      'Invalid config key "run_path": expected a directory, got a file "/etc/passwd"',
    );
  });

  it("creates a missing directory, parents included, as 0700", () => {
    const path = join(dir, "a", "b", "run");
    ensureRunPath(path);
    assert.ok(statSync(path).isDirectory());
    assert.equal(statSync(path).mode & 0o777, 0o700);
  });

  it("accepts an existing writable directory", () => {
    const path = join(dir, "existing");
    mkdirSync(path);
    ensureRunPath(path);
  });

  it("refuses a path under a file, which cannot be created", () => {
    const file = join(dir, "plain");
    writeFileSync(file, "x");
    assert.equal(
      refusal(join(file, "run")),
      `Invalid config key "run_path": cannot read "${join(file, "run")}" (ENOTDIR)`,
    );
  });
});
