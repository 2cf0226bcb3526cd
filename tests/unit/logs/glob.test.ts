import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { glob, hasWildcard, matches } from "../../../src/logs/_glob.ts";
import { tempDir } from "../../_temp.ts";

describe("glob (Go filepath.Glob semantics)", () => {
  it("matches *, ? and [...] within one segment, sorted, with no **", () => {
    const dir = tempDir("logs-glob-");
    for (const d of ["a", "b", "c.d"]) mkdirSync(join(dir, d));
    for (const f of ["a/1.log", "a/2.log", "a/x.txt", "b/10.log", "c.d/3.log", "top.log"]) {
      writeFileSync(join(dir, f), "");
    }
    assert.deepEqual(glob(join(dir, "*", "*.log")), [
      join(dir, "a/1.log"),
      join(dir, "a/2.log"),
      join(dir, "b/10.log"),
      join(dir, "c.d/3.log"),
    ]);
    assert.deepEqual(glob(join(dir, "?", "?.log")), [join(dir, "a/1.log"), join(dir, "a/2.log")]);
    assert.deepEqual(glob(join(dir, "[ab]", "[!1]*.log")), [join(dir, "a/2.log")]);
    assert.deepEqual(glob(join(dir, "**", "top.log")), []);
    assert.deepEqual(glob(join(dir, "top.log")), [join(dir, "top.log")]);
    assert.deepEqual(glob(join(dir, "missing.log")), []);
  });
  it("matches() applies a pattern to a path segment by segment; dots are literal", () => {
    assert.ok(matches("/var/log/*.log", "/var/log/app.log"));
    assert.ok(!matches("/var/log/*.log", "/var/log/sub/app.log"));
    assert.ok(!matches("/var/log/a.log", "/var/log/aXlog"));
    assert.ok(hasWildcard("/x/[ab].log") && !hasWildcard("/x/a.log"));
  });
});
