import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, renameSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../_temp.ts";
import { logsHarness } from "./_logs_harness.ts";

const lines = (from: number, to: number, prefix = "line") =>
  Array.from({ length: to - from }, (_, i) => `${prefix} ${from + i}\n`).join("");

describe("file tailing", () => {
  it("reads a file from the beginning, tags it and records acknowledged offsets", async () => {
    const dir = tempDir("logs-files-");
    const path = join(dir, "app.log");
    writeFileSync(path, lines(0, 3));
    const h = logsHarness(dir, [{
      type: "file",
      path,
      service: "web",
      source: "nginx",
      tags: ["env:test"],
      start_position: "beginning",
    }]);
    await h.start();
    try {
      await h.waitFor(() => h.messages.length === 3, "3 lines");
      appendFileSync(path, lines(3, 5));
      await h.waitFor(() => h.messages.length === 5, "5 lines");
      assert.deepEqual(h.text(), ["line 0", "line 1", "line 2", "line 3", "line 4"]);
      const m = h.messages[0];
      assert.equal(m.service, "web");
      assert.equal(m.source, "nginx");
      assert.equal(m.status, "info");
      assert.equal(m.hostname, "test-host");
      assert.deepEqual(m.tags, ["env:test", "filename:app.log", `dirname:${dir}`]);
      assert.equal(h.messages[4].origin.offset, String(lines(0, 5).length));
      assert.equal(h.messages[4].origin.identifier, `file:${path}`);
      h.ackAll();
    } finally {
      await h.stop();
    }
    const reg = JSON.parse(readFileSync(h.settings.registryPath, "utf8"));
    assert.equal(reg.Version, 2);
    assert.equal(reg.Registry[`file:${path}`].Offset, String(lines(0, 5).length));
  });

  it("follows a rename rotation: the old file to its end, then the new one from byte 0", async () => {
    const dir = tempDir("logs-files-");
    const path = join(dir, "app.log");
    writeFileSync(path, lines(0, 100));
    const h = logsHarness(dir, [{ type: "file", path, start_position: "beginning" }]);
    await h.start();
    try {
      await h.waitFor(() => h.messages.length === 100, "first 100");
      renameSync(path, path + ".1");
      appendFileSync(path + ".1", lines(100, 110)); // a writer that has not reopened yet
      writeFileSync(path, lines(110, 200));
      await h.waitFor(() => h.messages.length === 200, "all 200");
      const got = h.text().map((t) => Number(t.split(" ")[1])).sort((a, b) => a - b);
      assert.deepEqual(got, Array.from({ length: 200 }, (_, i) => i));
      const fromNew = h.messages.filter((m) => m.origin.identifier !== "");
      assert.equal(fromNew.at(-1)!.origin.offset, String(lines(110, 200).length));
    } finally {
      await h.stop();
    }
  });

  it("reads a copytruncated file again from byte 0", async () => {
    const dir = tempDir("logs-files-");
    const path = join(dir, "app.log");
    writeFileSync(path, lines(0, 50));
    const h = logsHarness(dir, [{ type: "file", path, start_position: "beginning" }]);
    await h.start();
    try {
      await h.waitFor(() => h.messages.length === 50, "first 50");
      truncateSync(path, 0);
      await new Promise((r) => setTimeout(r, 100));
      appendFileSync(path, lines(50, 60));
      await h.waitFor(() => h.messages.length === 60, "60");
      assert.equal(h.text().at(-1), "line 59");
      assert.equal(h.messages.at(-1)!.origin.offset, String(lines(50, 60).length));
    } finally {
      await h.stop();
    }
  });

  it("holds a partial last line until its newline arrives", async () => {
    const dir = tempDir("logs-files-");
    const path = join(dir, "app.log");
    writeFileSync(path, "complete\npart");
    const h = logsHarness(dir, [{ type: "file", path, start_position: "beginning" }]);
    await h.start();
    try {
      await h.waitFor(() => h.messages.length === 1, "first line");
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(h.messages.length, 1);
      appendFileSync(path, "ial\n");
      await h.waitFor(() => h.messages.length === 2, "joined line");
      assert.deepEqual(h.text(), ["complete", "partial"]);
    } finally {
      await h.stop();
    }
  });

  it("resumes from the registry offset after a restart, and start_position end skips old lines", async () => {
    const dir = tempDir("logs-files-");
    const path = join(dir, "app.log");
    writeFileSync(path, lines(0, 10));
    const raw = [{ type: "file", path }]; // start_position: end
    const first = logsHarness(dir, raw);
    await first.start();
    appendFileSync(path, lines(10, 20));
    await first.waitFor(() => first.messages.length === 10, "10 new lines");
    assert.equal(first.text()[0], "line 10");
    // Only the first 5 were accepted by the intake.
    first.auditor.ack(first.messages.slice(0, 5).map((m) => m.origin));
    await first.stop();
    appendFileSync(path, lines(20, 25));
    const second = logsHarness(dir, raw);
    await second.start();
    try {
      await second.waitFor(() => second.messages.length === 10, "resumed lines");
      assert.deepEqual(second.text(), Array.from({ length: 10 }, (_, i) => `line ${15 + i}`));
    } finally {
      await second.stop();
    }
  });
});
