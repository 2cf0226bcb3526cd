import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureRunPath } from "../../../src/api/mod.ts";
import { OutpostError } from "../../../src/errors.ts";
import { tempDir } from "../../_temp.ts";

const dir = tempDir("outpost-run-path-");

function refusal(path: string): string {
  try {
    ensureRunPath(path);
  } catch (e) {
    assert.ok(e instanceof OutpostError);
    assert.equal(e.code, "run_path");
    return e.message;
  }
  assert.fail(`expected ${path} to be refused`);
}

describe("ensureRunPath()", () => {
  it("refuses a file such as /etc/passwd", () => {
    assert.equal(
      refusal("/etc/passwd"),
      'Refusing run_path "/etc/passwd": it is not a directory',
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
      `Cannot create run_path "${join(file, "run")}": ENOTDIR`,
    );
  });
});
