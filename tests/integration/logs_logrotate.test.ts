import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../_temp.ts";
import { logsHarness } from "./_logs_harness.ts";

const TOTAL = 20_000;

/** Appends TOTAL numbered lines at a steady rate while the real logrotate rotates the file. */
async function rotateWhileWriting(mode: "create" | "copytruncate") {
  const dir = tempDir(`logs-logrotate-${mode}-`);
  const path = join(dir, "app.log");
  writeFileSync(path, "");
  const conf = join(dir, "logrotate.conf");
  writeFileSync(conf, `${path} {\n  ${mode}\n  rotate 20\n  missingok\n  nocompress\n}\n`, {
    mode: 0o644,
  });
  // The agent's own periods: the file is checked once a second, globbed every 10 s.
  const h = logsHarness(dir, [{ type: "file", path, start_position: "beginning" }], {
    settings: { filePollMs: 1000, scanPeriodMs: 10_000 },
  });
  await h.start();
  try {
    let next = 0;
    let rotations = 0;
    while (next < TOTAL) {
      // appendFileSync opens the path each time: a writer that reopens after `create`.
      let batch = "";
      for (let i = 0; i < 40 && next < TOTAL; i++) batch += `line ${next++} ${"p".repeat(60)}\n`;
      appendFileSync(path, batch);
      if (next % 5000 === 0) {
        const r = spawnSync("logrotate", ["-f", "-s", join(dir, "state"), conf], {
          encoding: "utf8",
        });
        assert.equal(r.status, 0, r.stderr);
        rotations++;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await h.waitFor(() => h.messages.length >= TOTAL, `${TOTAL} lines`, 30_000);
    await new Promise((r) => setTimeout(r, 300)); // anything repeated would arrive by now
    const seen = h.text().map((t) => Number(t.split(" ")[1]));
    assert.equal(seen.length, TOTAL, "every line exactly once");
    assert.deepEqual(seen, Array.from({ length: TOTAL }, (_, i) => i), "in order");
    assert.ok(rotations >= 3);
    assert.ok((h.registry.read("logs-agent.Rotations") as number) >= rotations);
  } finally {
    await h.stop();
  }
}

describe("rotation by the real logrotate while a writer appends", () => {
  it(
    "create mode: every line once, in order",
    { timeout: 60_000 },
    () => rotateWhileWriting("create"),
  );
  it(
    "copytruncate mode: every line once, in order",
    { timeout: 60_000 },
    () => rotateWhileWriting("copytruncate"),
  );
});
