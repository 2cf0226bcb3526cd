/**
 * An intake store whose writer is killed with SIGKILL in the middle of ingest opens again
 * readable: the database passes SQLite's integrity check, every payload the writer saw
 * committed is there with all its points, and numbering goes on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { runtime } from "../../src/runtime/mod.ts";
import { DB_FILE, IntakeStore } from "../../src/intake/_store.ts";
import { querySeries } from "../../src/intake/_queries.ts";
import { tempDir } from "../_temp.ts";

test("SIGKILL during ingest leaves a readable intake store", { timeout: 60_000 }, async () => {
  const dir = tempDir("outpost-intake-kill-");
  const child = spawn(
    process.execPath,
    [join(import.meta.dirname, "intake_sigkill_child.ts"), dir],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let committed = 0;
  await new Promise<void>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c) => {
      out += c;
      for (const m of out.matchAll(/committed (\d+)/g)) committed = Number(m[1]);
      if (committed >= 150) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the child exited with ${code}: ${out}`)));
  });
  const killed = new Promise((r) => child.once("exit", (_code, signal) => r(signal)));
  child.kill("SIGKILL");
  assert.equal(await killed, "SIGKILL");

  const db = runtime.openSqlite(join(dir, DB_FILE));
  assert.deepEqual(db.prepare("PRAGMA integrity_check").all(), [{ integrity_check: "ok" }]);
  db.close();

  const store = new IntakeStore({ dir, runtime });
  const seqs = [...store.records({ kind: "series" })].map((r) => r.seq);
  // The newest ones, without gaps (the cap may have evicted the oldest).
  assert.ok(seqs.at(-1)! >= committed, `payloads up to ${seqs.at(-1)}, ${committed} committed`);
  assert.deepEqual(seqs, seqs.map((_, i) => seqs[0] + i));
  // No payload is there in part: 10 series of 100 points each.
  const all = querySeries(store, {});
  assert.equal(all.series, seqs.length * 10);
  assert.equal(all.count, seqs.length * 1000);
  assert.equal(querySeries(store, { metric: "killed.m3", tags: ["i:0"] }).count % 100, 0);
  const { v: _v, seq: _seq, ...last } = [...store.records({ last: 1 })][0];
  assert.equal(store.append(last).seq, seqs.at(-1)! + 1);
  store.close();
});
