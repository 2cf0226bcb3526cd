import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  chmodSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { SourceStatus } from "../../src/logs/mod.ts";
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

  it("finds the new file itself when the path was empty for a moment (between rename and create)", async () => {
    const dir = tempDir("logs-files-");
    const path = join(dir, "app.log");
    writeFileSync(path, lines(0, 5));
    // No scan comes to help: only the tailer's own checks can find the new file.
    const h = logsHarness(dir, [{ type: "file", path, start_position: "beginning" }], {
      settings: { scanPeriodMs: 600_000 },
    });
    await h.start();
    try {
      await h.waitFor(() => h.messages.length === 5, "5 lines");
      renameSync(path, path + ".1");
      await new Promise((r) => setTimeout(r, 200)); // several checks see no file at the path
      writeFileSync(path, lines(5, 10));
      await h.waitFor(() => h.messages.length === 10, "the new file's lines");
      assert.equal(h.text().at(-1), "line 9");
    } finally {
      await h.stop();
    }
  });

  it("gives up a rotated file at close_timeout and counts what was left in BytesMissed", async () => {
    const dir = tempDir("logs-files-");
    const path = join(dir, "app.log");
    writeFileSync(path, lines(0, 10));
    let open = true;
    const h = logsHarness(dir, [{ type: "file", path, start_position: "beginning" }], {
      canAccept: () => open,
      settings: { closeTimeoutMs: 300 },
    });
    await h.start();
    try {
      await h.waitFor(() => h.messages.length === 10, "10 lines");
      renameSync(path, path + ".1");
      writeFileSync(path, "");
      await h.waitFor(
        () => (h.registry.read("logs-agent.Rotations") as number) === 1,
        "the rotation",
      );
      open = false;
      appendFileSync(path + ".1", "late 1\nlate 2\n");
      await h.waitFor(() => h.registry.read("logs-agent.BytesMissed") === 14, "the missed bytes");
      assert.equal(h.registry.read("logs-agent.TailersOpen"), 1, "only the new file is open");
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

describe("file tailing across a restart", () => {
  it("reads the rest of a file rotated while the agent was down from its new name, then the new file", async () => {
    const dir = tempDir("logs-restart-");
    const path = join(dir, "app.log");
    const pad = "p".repeat(40); // lines long enough that the file has a fingerprint (1024 bytes)
    writeFileSync(path, lines(0, 100, pad));
    const raw = [{ type: "file", path, start_position: "beginning" }];
    const first = logsHarness(dir, raw);
    await first.start();
    await first.waitFor(() => first.messages.length === 100, "100 lines");
    first.auditor.ack(first.messages.slice(0, 60).map((m) => m.origin));
    await first.stop(); // as after a crash: only the first 60 were acknowledged
    appendFileSync(path, lines(100, 110, pad));
    renameSync(path, path + ".1");
    writeFileSync(path, lines(110, 150, "new"));
    const second = logsHarness(dir, raw);
    await second.start();
    try {
      await second.waitFor(() => second.messages.length === 90, "the old rest and the new file");
      assert.deepEqual(second.text(), [
        ...Array.from({ length: 50 }, (_, i) => `${pad} ${60 + i}`),
        ...Array.from({ length: 40 }, (_, i) => `new ${110 + i}`),
      ]);
      second.ackAll();
    } finally {
      await second.stop();
    }
    const reg = JSON.parse(readFileSync(second.settings.registryPath, "utf8"));
    assert.equal(reg.Registry[`file:${path}`].Offset, String(lines(110, 150, "new").length));
  });
});

describe("file tailing: a crash after a rotation", () => {
  it("keeps the old file's offset until the new file's lines are acknowledged, and loses nothing", async () => {
    const dir = tempDir("logs-crash-");
    const path = join(dir, "app.log");
    const pad = "q".repeat(40);
    writeFileSync(path, lines(0, 100, pad));
    const raw = [{ type: "file", path, start_position: "beginning" }];
    const first = logsHarness(dir, raw);
    await first.start();
    await first.waitFor(() => first.messages.length === 100, "100 lines");
    renameSync(path, path + ".1");
    writeFileSync(path, lines(100, 140, "new"));
    await first.waitFor(() => first.messages.length === 140, "the new file too");
    first.auditor.ack(first.messages.slice(0, 60).map((m) => m.origin)); // the rest was in flight
    await first.stop();
    const entry =
      JSON.parse(readFileSync(first.settings.registryPath, "utf8")).Registry[`file:${path}`];
    assert.equal(entry.Offset, String(lines(0, 60, pad).length), "still the old file's offset");
    const second = logsHarness(dir, raw);
    await second.start();
    try {
      await second.waitFor(() => second.messages.length === 80, "the old rest, then the new file");
      assert.deepEqual(second.text(), [
        ...Array.from({ length: 40 }, (_, i) => `${pad} ${60 + i}`),
        ...Array.from({ length: 40 }, (_, i) => `new ${100 + i}`),
      ]);
    } finally {
      await second.stop();
    }
  });
});

describe("file tailing: bad input", () => {
  it("a 10 MB line becomes truncated pieces and the next line still arrives", async () => {
    const dir = tempDir("logs-bad-");
    const path = join(dir, "big.log");
    writeFileSync(path, "x".repeat(10 * 1024 * 1024) + "\nafter\n");
    const h = logsHarness(dir, [{ type: "file", path, start_position: "beginning" }]);
    await h.start();
    try {
      await h.waitFor(() => h.text().at(-1) === "after", "the line after");
      const pieces = h.messages.slice(0, -1);
      assert.equal(pieces.length, Math.ceil(10 * 1024 * 1024 / 256_000));
      assert.ok(pieces.every((m) => m.content.length <= 256_000 + 30));
      assert.ok(h.text()[0].endsWith("...TRUNCATED..."));
      assert.ok(h.text()[1].startsWith("...TRUNCATED..."));
      assert.equal(h.sources.sources()[0].info.truncated, pieces.length);
      assert.equal(h.registry.read("logs-agent.LogsTruncated"), pieces.length);
    } finally {
      await h.stop();
    }
  });

  it("a binary file and invalid UTF-8 are read with replacement characters and counted", async () => {
    const dir = tempDir("logs-bad-");
    const path = join(dir, "bin.log");
    const bytes = new Uint8Array(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131) & 0xff;
    writeFileSync(path, bytes);
    appendFileSync(path, "\nvalid line\n");
    const h = logsHarness(dir, [{ type: "file", path, start_position: "beginning" }]);
    await h.start();
    try {
      await h.waitFor(() => h.text().at(-1) === "valid line", "the valid line");
      const info = h.sources.sources()[0].info;
      assert.ok(info.decodingErrors > 0);
      assert.equal(info.bytesRead, 4096 + 12);
      for (const m of h.messages) {
        new TextDecoder("utf-8", { fatal: true }).decode(m.content); // throws if not valid UTF-8
      }
      assert.ok(h.text().some((t) => t.includes("\ufffd")));
    } finally {
      await h.stop();
    }
  });

  it("a file that disappears is read to its end, closed, and picked up again when it returns", async () => {
    const dir = tempDir("logs-bad-");
    const path = join(dir, "gone.log");
    writeFileSync(path, lines(0, 5));
    const h = logsHarness(dir, [{
      type: "file",
      path: join(dir, "*.log"),
      start_position: "beginning",
    }]);
    await h.start();
    try {
      await h.waitFor(() => h.messages.length === 5, "5 lines");
      rmSync(path);
      await h.waitFor(() => h.registry.read("logs-agent.TailersOpen") === 0, "tailer closed");
      const s = h.sources.sources()[0];
      await h.waitFor(() => s.status.state === "error", "the next scan's status");
      assert.match(s.status.message!, /could not find any file matching pattern/);
      writeFileSync(path, lines(5, 7));
      await h.waitFor(() => h.messages.length === 7, "the new file, from its start");
      assert.equal(s.status.state, "ok");
      assert.deepEqual(s.info.messages, ["1 files tailed out of 1 files matching"]);
    } finally {
      await h.stop();
    }
  });

  it("a missing file is an error in status until it exists", async () => {
    const dir = tempDir("logs-bad-");
    const path = join(dir, "later.log");
    const h = logsHarness(dir, [{ type: "file", path }]);
    await h.start();
    try {
      const s = h.sources.sources()[0];
      assert.equal(s.status.message, `cannot read file ${path}: no such file or directory`);
      writeFileSync(path, "first\n");
      await h.waitFor(
        () => h.messages.length === 1,
        "a file first seen by a scan, read from its start",
      );
      assert.equal(s.status.state, "ok");
    } finally {
      await h.stop();
    }
  });

  it("a directory without read permission shows in status and the agent keeps running", async () => {
    const dir = tempDir("logs-bad-");
    const locked = join(dir, "locked");
    mkdirSync(locked);
    writeFileSync(join(locked, "a.log"), "secret\n");
    writeFileSync(join(dir, "open.log"), "visible\n");
    chmodSync(locked, 0o000);
    let result: { status: SourceStatus[]; lines: string[] };
    try {
      if (process.getuid?.() === 0) {
        // root reads a mode-000 directory: run the same sources as `nobody`, where it cannot.
        chmodSync(dir, 0o755);
        mkdirSync(join(dir, "run"), { mode: 0o777 });
        chmodSync(join(dir, "run"), 0o777);
        const child = spawnSync("setpriv", [
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          process.execPath,
          join(import.meta.dirname!, "logs_unreadable_child.ts"),
          dir,
        ], { encoding: "utf8", timeout: 20_000 });
        assert.equal(child.status, 0, child.stderr);
        result = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
      } else {
        const h = logsHarness(dir, [
          { type: "file", path: join(locked, "*.log"), start_position: "beginning" },
          { type: "file", path: join(dir, "open.log"), start_position: "beginning" },
        ]);
        await h.start();
        await h.waitFor(() => h.text().includes("visible"), "the readable source");
        result = { status: h.sources.sources().map((s) => s.status), lines: h.text() };
        await h.stop();
      }
    } finally {
      chmodSync(locked, 0o755);
    }
    assert.deepEqual(result.lines, ["visible"]);
    assert.equal(result.status[0].state, "error");
    assert.match(result.status[0].message!, /check that all its subdirectories are executable/);
    assert.equal(result.status[1].state, "ok");
  });

  it("a UTF-16 LE file is decoded to UTF-8 and offsets count its bytes", async () => {
    const dir = tempDir("logs-bad-");
    const path = join(dir, "wide.log");
    const text = "héllo\nwörld\n";
    const bytes = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) bytes[2 * i] = text.charCodeAt(i);
    writeFileSync(path, bytes);
    const h = logsHarness(dir, [{
      type: "file",
      path,
      encoding: "utf-16-le",
      start_position: "beginning",
    }]);
    await h.start();
    try {
      await h.waitFor(() => h.messages.length === 2, "2 lines");
      assert.deepEqual(h.text(), ["héllo", "wörld"]);
      assert.equal(h.messages[1].origin.offset, String(bytes.length));
    } finally {
      await h.stop();
    }
  });
});

describe("file tailing: limits and back-pressure", () => {
  it("tails at most open_files_limit files, by descending name, and says so in status", async () => {
    const dir = tempDir("logs-limit-");
    for (let i = 0; i < 12; i++) {
      writeFileSync(join(dir, `f${String(i).padStart(2, "0")}.log`), `file ${i}\n`);
    }
    const h = logsHarness(dir, [{
      type: "file",
      path: join(dir, "*.log"),
      exclude_paths: [join(dir, "f11.log")],
      start_position: "beginning",
    }], {
      settings: { openFilesLimit: 5 },
    });
    await h.start();
    try {
      await h.waitFor(() => h.messages.length === 5, "5 files");
      assert.deepEqual(h.text().sort(), ["file 10", "file 6", "file 7", "file 8", "file 9"]);
      assert.deepEqual(h.sources.sources()[0].info.messages, [
        "5 files tailed out of 11 files matching",
      ]);
      assert.match(
        h.sources.warnings()[0],
        /maximum number of files in use \(5\) has been reached/,
      );
    } finally {
      await h.stop();
    }
  });

  it(
    "600 matches: exactly 500 tailers; by_modification_time picks the newest",
    { timeout: 30_000 },
    async () => {
      const dir = tempDir("logs-limit-");
      for (let i = 0; i < 600; i++) {
        const p = join(dir, `m${String(i).padStart(3, "0")}.log`);
        writeFileSync(p, `file ${i}\n`);
        // The lowest names are the newest: the opposite of by_name's choice.
        const t = new Date(Date.UTC(2026, 0, 1) + (600 - i) * 1000);
        utimesSync(p, t, t);
      }
      const h = logsHarness(dir, [{
        type: "file",
        path: join(dir, "*.log"),
        start_position: "beginning",
      }], {
        settings: { selectionMode: "by_modification_time" },
      });
      await h.start();
      try {
        await h.waitFor(() => h.messages.length === 500, "500 files", 20_000);
        assert.equal(h.registry.read("logs-agent.TailersOpen"), 500);
        const got = new Set(h.text().map((t) => Number(t.split(" ")[1])));
        assert.ok([...got].every((n) => n < 500), "the 500 newest");
        assert.deepEqual(h.sources.sources()[0].info.messages, [
          "500 files tailed out of 600 files matching",
        ]);
      } finally {
        await h.stop();
      }
    },
  );

  it("stops reading while the sender refuses, and loses nothing", async () => {
    const dir = tempDir("logs-limit-");
    const path = join(dir, "app.log");
    writeFileSync(path, "");
    let open = true;
    const h = logsHarness(dir, [{ type: "file", path, start_position: "beginning" }], {
      canAccept: () => open,
    });
    await h.start();
    try {
      appendFileSync(path, lines(0, 10));
      await h.waitFor(() => h.messages.length === 10, "10 lines");
      open = false;
      appendFileSync(path, lines(10, 20_000));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(h.messages.length, 10, "nothing read while refused");
      open = true;
      await h.waitFor(() => h.messages.length === 20_000, "the rest");
      assert.deepEqual(h.text().slice(-2), ["line 19998", "line 19999"]);
    } finally {
      await h.stop();
    }
  });
});
