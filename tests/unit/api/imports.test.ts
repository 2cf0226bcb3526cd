/**
 * What the agent API's clients load: `outpost status`, `outpost flare` and the fleet daemon
 * must not evaluate `src/agent.ts` (the whole pipeline) to talk to a running agent. Read from
 * the static imports of the source, which is what a runtime evaluates before `main` runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../../..");

const STATIC_IMPORT =
  /^[ \t]*(?:import|export)\s+(type\s+)?([^"';]*?)\s*from\s*["']([^"']+)["']|^[ \t]*import\s*["']([^"']+)["']/gm;

/** The repository files `file` imports for their values (type-only imports are erased). */
function staticImports(file: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(file, "utf8").matchAll(STATIC_IMPORT)) {
    const [, typeOnly, names = "", from, bare] = m;
    const spec = from ?? bare;
    if (typeOnly || !spec.startsWith(".")) continue;
    const braces = /^\{([^}]*)\}$/.exec(names.trim());
    const allTypes = braces !== null && braces[1].split(",").map((s) => s.trim()).filter(Boolean)
      .every((s) => s.startsWith("type "));
    if (!allTypes) out.push(resolve(dirname(file), spec));
  }
  return out;
}

/** Every repository file evaluated when `entry` is, as paths relative to the root. */
function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [join(ROOT, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    const rel = relative(ROOT, file);
    if (seen.has(rel) || !file.endsWith(".ts")) continue;
    seen.add(rel);
    todo.push(...staticImports(file));
  }
  return seen;
}

const PIPELINE = [
  "src/agent.ts",
  "cli/run.ts",
  "src/aggregator/",
  "src/dogstatsd/",
  "src/forwarder/",
  "src/intake/",
  "src/serializer/",
];

test("the import reader sees through to the pipeline from cli/run.ts (the check can fail)", () => {
  const loaded = [...closure("cli/run.ts")];
  for (const p of ["src/agent.ts", "src/aggregator/", "src/forwarder/", "src/serializer/"]) {
    assert.ok(loaded.some((f) => f.startsWith(p)), `${p} not found from cli/run.ts`);
  }
});

test("cli/status.ts evaluates neither the agent nor any pipeline component", () => {
  const loaded = [...closure("cli/status.ts")];
  assert.ok(loaded.includes("src/api/_client.ts"), loaded.join(", "));
  assert.deepEqual(loaded.filter((f) => PIPELINE.some((p) => f.startsWith(p))), []);
});

test("cli/flare.ts and src/fleet/_daemon.ts do not evaluate src/agent.ts", () => {
  for (const entry of ["cli/flare.ts", "src/fleet/_daemon.ts"]) {
    const loaded = closure(entry);
    assert.ok(loaded.has("src/api/_client.ts"), entry);
    assert.ok(!loaded.has("src/agent.ts"), `${entry} loads src/agent.ts`);
    assert.ok(!loaded.has("cli/run.ts"), `${entry} loads cli/run.ts`);
  }
});
