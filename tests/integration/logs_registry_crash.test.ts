import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../_temp.ts";

describe("registry.json under SIGKILL", () => {
  it(
    "is always a whole version 2 registry: the old one or the new one",
    { timeout: 30_000 },
    async () => {
      const dir = tempDir("logs-registry-crash-");
      const path = join(dir, "registry.json");
      for (let round = 0; round < 5; round++) {
        const child = spawn(process.execPath, [
          join(import.meta.dirname!, "logs_registry_child.ts"),
          path,
        ], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        await new Promise<void>((r) => child.stdout!.once("data", () => r()));
        await new Promise((r) => setTimeout(r, 100 + 37 * round));
        child.kill("SIGKILL");
        await new Promise((r) => child.once("exit", r));
        const doc = JSON.parse(readFileSync(path, "utf8"));
        assert.equal(doc.Version, 2);
        const entries = Object.values(doc.Registry) as Array<{ Offset: string }>;
        assert.equal(entries.length, 2000);
        // Every entry of one write has the same offset: no mix of two writes.
        assert.equal(new Set(entries.map((e) => e.Offset)).size, 1);
      }
      const leftovers = readdirSync(dir).filter((n) => n !== "registry.json");
      assert.ok(leftovers.every((n) => n.startsWith(".tmp-")), JSON.stringify(leftovers));
    },
  );
});
