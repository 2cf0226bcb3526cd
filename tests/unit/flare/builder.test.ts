import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { cleanHostname, recordVersion } from "../../../src/flare/mod.ts";
import { FlareBuilder, FlareSkip } from "../../../src/flare/_builder.ts";
import { tempDir } from "../../_temp.ts";

const T0 = Date.parse("2026-01-02T03:04:05.000Z");
const text = (b: Uint8Array) => new TextDecoder().decode(b);

function builder(extra: { localReason?: string } = {}) {
  const outDir = tempDir("flare-test-");
  let t = T0;
  const fb = FlareBuilder.create({ hostname: "edge 1", outDir, now: () => (t += 5), ...extra });
  return { fb, outDir };
}

test("cleanHostname() makes a safe folder name and falls back to unknown", () => {
  assert.equal(cleanHostname("edge 1/../x"), "edge_1_.._x");
  assert.equal(cleanHostname("  "), "unknown");
  assert.equal(cleanHostname("..hidden"), "hidden");
});

test("FlareBuilder.save() never replaces an existing file: a flare of the same second gets -2", () => {
  const outDir = tempDir("flare-test-");
  const make = () => FlareBuilder.create({ hostname: "h", outDir, now: () => T0 });
  const first = make();
  first.writer.add("status.log", "first");
  const a = first.save();
  const second = make();
  second.writer.add("status.log", "second");
  const b = second.save();
  assert.equal(a, join(outDir, "outpost-flare-h-2026-01-02T03-04-05Z.zip"));
  assert.equal(b, join(outDir, "outpost-flare-h-2026-01-02T03-04-05Z-2.zip"));
  assert.equal(text(unzipSync(readFileSync(a))["h/status.log"]), "first");
  assert.equal(text(unzipSync(readFileSync(b))["h/status.log"]), "second");
  assert.equal(statSync(b).mode & 0o777, 0o600);
});

test("FlareBuilder.save() zips every file under <hostname>/ with the creation log first, mode 0600", async () => {
  const { fb, outDir } = builder();
  fb.writer.add("status.log", "ok");
  const zip = fb.save();
  assert.equal(zip, join(outDir, "outpost-flare-edge_1-2026-01-02T03-04-05Z.zip"));
  assert.equal(statSync(zip).mode & 0o777, 0o600);
  const names = Object.keys(unzipSync(readFileSync(zip)));
  assert.equal(names[0], "edge_1/flare_creation.log");
  assert.ok(names.every((n) => n.startsWith("edge_1/")));
  assert.deepEqual(names.slice(1).sort(), [
    "edge_1/non_scrubbed_files.json",
    "edge_1/permissions.log",
    "edge_1/status.log",
  ]);
});

test("FlareBuilder.create() writes the local marker with its reason", () => {
  const { fb } = builder({ localReason: "local flare was requested" });
  const files = unzipSync(readFileSync(fb.save()));
  assert.equal(text(files["edge_1/local"]), "local flare was requested\n");
  assert.match(text(files["edge_1/flare_creation.log"]), /local flare: local flare was requested/);
});

test("FlareBuilder.runProviders() records start, skip, failure and duration of each provider", async () => {
  const { fb } = builder();
  await fb.runProviders([
    { name: "good", run: (w) => w.add("good.txt", "x") },
    {
      name: "absent",
      run: () => {
        throw new FlareSkip("no source");
      },
    },
    {
      name: "broken",
      run: () => {
        throw new Error("boom");
      },
    },
  ], { timeoutMs: 1000 });
  const log = text(unzipSync(readFileSync(fb.save()))["edge_1/flare_creation.log"]);
  assert.match(log, /provider good: started\n.*provider good: done in 10 ms/);
  assert.match(log, /provider absent: skipped, no source \(10 ms\)/);
  assert.match(log, /provider broken: failed after 10 ms: boom/);
});

test("FlareBuilder.runProviders() skips a provider past its timeout and ignores its late writes", async () => {
  const { fb } = builder();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let wrote!: Promise<void>;
  await fb.runProviders([
    {
      name: "slow",
      run: (w) => {
        wrote = gate.then(() => w.add("late.txt", "too late"));
        return wrote;
      },
    },
    { name: "next", run: (w) => w.add("next.txt", "x") },
  ], { timeoutMs: 10 });
  release();
  await wrote;
  const files = unzipSync(readFileSync(fb.save()));
  const log = text(files["edge_1/flare_creation.log"]);
  assert.match(log, /provider slow: skipped, timed out after 10 ms/);
  assert.match(log, /ignored a late write to late.txt/);
  assert.equal(files["edge_1/late.txt"], undefined);
  assert.equal(text(files["edge_1/next.txt"]), "x");
});

test("FlareBuilder.save() lists what could not be scrubbed, and the permissions of copied files", () => {
  const { fb, outDir } = builder();
  const src = join(outDir, "datadog.yaml");
  writeFileSync(src, "password: hunter2\n", { mode: 0o640 });
  fb.writer.copy(src, "etc/datadog.yaml");
  const broken = join(outDir, "broken.yaml");
  writeFileSync(broken, "password: hunter3\n  : : [\n");
  fb.writer.copy(broken, "etc/confd/broken.yaml");
  const bin = join(outDir, "core.bin");
  writeFileSync(
    bin,
    new Uint8Array([0, 1, 2, ...new TextEncoder().encode(" password=hunter4 "), 0xff]),
  );
  fb.writer.copy(bin, "logs/core.bin");
  const files = unzipSync(readFileSync(fb.save()));
  const report = JSON.parse(text(files["edge_1/non_scrubbed_files.json"]));
  assert.deepEqual(report.files, ["etc/confd/broken.yaml", "logs/core.bin"]);
  assert.equal(report.count, 2);
  assert.match(report.reasons["etc/confd/broken.yaml"], /does not parse/);
  assert.match(report.reasons["logs/core.bin"], /binary content/);
  assert.match(report.message, /^2 file\(s\) could not be scrubbed as their format asks/);
  const perms = text(files["edge_1/permissions.log"]);
  assert.match(perms, /^File path +\| mode \| owner \| group \| error/);
  assert.match(
    perms,
    new RegExp(`${src.replace(/[.]/g, "\\.")} +\\| 0640 \\| \\d+ +\\| \\d+ +\\|`),
  );
  assert.equal(text(files["edge_1/etc/datadog.yaml"]), `password: "********"\n`);
  // The binary file keeps its bytes around the masked password.
  assert.deepEqual(
    [...files["edge_1/logs/core.bin"]],
    [0, 1, 2, ...new TextEncoder().encode(" password=******** "), 0xff],
  );
});

test("FlareBuilder.save() says what the scrubber did when every file was scrubbed as its format asks", () => {
  const { fb } = builder();
  fb.writer.add("status.log", "ok");
  const files = unzipSync(readFileSync(fb.save()));
  const report = JSON.parse(text(files["edge_1/non_scrubbed_files.json"]));
  assert.deepEqual(report.files, []);
  assert.equal(report.count, 0);
  assert.match(report.message, /^No file was added as is: every file went through the scrubber/);
  assert.match(report.message, /review the files before sending them/);
  assert.doesNotMatch(report.message, /All files were scrubbed/);
});

test("FlareBuilder.save() masks values learned from a later file in every earlier one", () => {
  const { fb } = builder();
  fb.writer.add("status.log", "connected with Lat3rSecret99");
  fb.writer.add("etc/confd/db.d/conf.yaml", "instances:\n  - secret: Lat3rSecret99\n");
  fb.log("connecting with Lat3rSecret99");
  const files = unzipSync(readFileSync(fb.save()));
  for (const [name, data] of Object.entries(files)) {
    assert.ok(!text(data).includes("Lat3rSecr"), `${name} holds the secret`);
  }
  assert.equal(text(files["edge_1/status.log"]), "connected with ********");
});

test("FlareWriter.add() refuses paths that leave the flare", () => {
  const { fb } = builder();
  assert.throws(() => fb.writer.add("../escape.txt", "x"), /must stay inside it/);
  assert.throws(() => fb.writer.add("/etc/passwd", "x"), /must stay inside it/);
  fb.discard();
});

test("recordVersion() appends a new version once and keeps the history as JSON", () => {
  const dir = tempDir("flare-vh-");
  recordVersion(dir, "0.1.0", new Date("2026-01-01T00:00:00Z"));
  recordVersion(dir, "0.1.0", new Date("2026-01-02T00:00:00Z"));
  const entries = recordVersion(dir, "0.2.0", new Date("2026-01-03T00:00:00Z"));
  assert.deepEqual(entries, [
    { version: "0.1.0", timestamp: "2026-01-01T00:00:00.000Z" },
    { version: "0.2.0", timestamp: "2026-01-03T00:00:00.000Z" },
  ]);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, "version-history.json"), "utf8")), {
    entries,
  });
});
