import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { unzipSync } from "fflate";
import { parse } from "yaml";
import { runtime } from "../../../src/runtime/mod.ts";
import { createFlare } from "../../../src/flare/mod.ts";
import { tempDir } from "../../_temp.ts";
import { profiledFlare } from "./_profiled_flare.ts";
import {
  API_KEY,
  AUTH_TOKEN,
  leaks,
  seededHost as seededHostIn,
  stars,
  text,
  URL_PASSWORD,
} from "./_seeded_host.ts";

const seededHost = () => seededHostIn(tempDir("flare-leak-"));

test("createFlare() leaves no seeded secret in any file, and the scrubbed forms keep their tails", async () => {
  const { dir, config, file, env } = await seededHost();
  const zip = await createFlare({
    runtime,
    config,
    configFile: file,
    env,
    sources: { statusText: () => `api_key: ${API_KEY}\nproxy: http://u:${URL_PASSWORD}@p` },
    authToken: AUTH_TOKEN,
    localReason: "local flare was requested",
    outDir: dir,
  });
  const files = unzipSync(readFileSync(zip));
  const names = Object.keys(files);
  for (
    const want of [
      "etc/datadog.yaml",
      "etc/confd/mysql.d/conf.yaml",
      "envvars.log",
      "logs/outpost.log",
      "logs/outpost.log.1",
      "runtime_config_dump.yaml",
      "status.log",
    ]
  ) {
    assert.ok(names.includes(`leak-host/${want}`), `missing ${want} in ${names.join(", ")}`);
  }
  assert.ok(!names.some((n) => n.endsWith(".example")), "an .example file was added");
  // Byte search in every file, the zip's entries decompressed.
  assert.deepEqual(leaks(files), []);

  const datadogYaml = parse(text(files["leak-host/etc/datadog.yaml"]));
  assert.equal(datadogYaml.api_key, `${stars(28)}8f90`);
  assert.equal(datadogYaml.app_key, `${stars(36)}5678`);
  assert.equal(datadogYaml.proxy.https, "http://user:********@proxy.internal:3128");
  assert.deepEqual(datadogYaml.additional_endpoints, { "https://app.datadoghq.eu": ["********"] });
  const dump = parse(text(files["leak-host/runtime_config_dump.yaml"]));
  assert.equal(dump.api_key, `${stars(28)}8f90`);
  const confd = parse(text(files["leak-host/etc/confd/mysql.d/conf.yaml"]));
  assert.equal(confd.instances[0].password, "********");
  assert.equal(confd.instances[0].headers.Authorization, "********");
  assert.equal(confd.instances[0].ssl_key.trim(), "********");
  const envvars = text(files["leak-host/envvars.log"]);
  assert.match(envvars, new RegExp(`^DD_API_KEY=\\*{28}8f90$`, "m"));
  assert.match(envvars, new RegExp(`^DD_APP_KEY=\\*{36}5678$`, "m"));
  assert.match(envvars, /^DD_MYSQL_PASSWORD=\*{8}$/m);
  assert.match(envvars, /^HTTPS_PROXY=http:\/\/user:\*{8}@proxy.internal:3128$/m);
  assert.ok(!envvars.includes("HOME="), "a variable outside DD_* and proxies was added");
  const log = text(files["leak-host/logs/outpost.log"]);
  assert.match(log, new RegExp(`api_key=\\*{28}8f90`));
  assert.match(log, /Authorization: (Bearer )?\*{8}$/m);
  assert.match(log, /password=\*{8}/);
  assert.match(log, new RegExp(`app key \\*{36}5678`));
  assert.match(log, /^\*{8}$/m);
});

test("createFlare() caps the logs newest first and records the cap", async () => {
  const { dir, config, file, env } = await seededHost();
  const current = readFileSync(config.log_file, "utf8");
  const zip = await createFlare({
    runtime,
    config: { ...config, flare_logs_max_size: current.length - 10 },
    configFile: file,
    env,
    sources: {},
    outDir: dir,
    localReason: "local flare was requested",
  });
  const files = unzipSync(readFileSync(zip));
  const log = text(files["leak-host/flare_creation.log"]);
  assert.match(log, new RegExp(`size cap ${current.length - 10} bytes`));
  assert.match(log, /left out .*outpost\.log\.1 .*size cap reached/);
  assert.equal(files["leak-host/logs/outpost.log.1"], undefined);
  assert.ok(files["leak-host/logs/outpost.log"].length <= current.length);
});

// A heap snapshot holds every string of the process it is taken in, these secrets among them
// (they are constants of _seeded_host.ts). The flare is built with profiles in a fresh process
// (see _profiled_flare.ts): a heap snapshot of this runner, which may have loaded the whole suite,
// takes a minute to scrub.
test(
  "createFlare() with profiles leaves no seeded secret nor any 8-character piece of one in any byte",
  {
    timeout: 60_000,
  },
  async () => {
    const zip = await profiledFlare("leak", tempDir("flare-leak-"));
    const files = unzipSync(readFileSync(zip));
    const names = Object.keys(files);
    for (
      const want of [
        "etc/confd/vault.d/conf.yaml",
        "profiles/core-1st-heap.heapsnapshot",
        "profiles/core-cpu.cpuprofile",
        "profiles/core-2nd-heap.heapsnapshot",
      ]
    ) {
      assert.ok(names.includes(`leak-host/${want}`), `missing ${want} in ${names.join(", ")}`);
    }
    assert.deepEqual(leaks(files), []);
    // The heap snapshot was scrubbed, not emptied: its strings hold the masked key.
    const heap = JSON.parse(text(files["leak-host/profiles/core-1st-heap.heapsnapshot"]));
    assert.ok(heap.strings.length > 1000);
    assert.ok(heap.strings.some((s: string) => s.includes(`${stars(28)}8f90`)));
    const vault = parse(text(files["leak-host/etc/confd/vault.d/conf.yaml"]));
    assert.deepEqual(vault.instances[0], {
      secret: "********",
      secret_key: "********",
      client_secret: "********",
      command: "redis-cli -h cache -a ******** ping",
    });
    const dd = parse(text(files["leak-host/etc/datadog.yaml"]));
    assert.deepEqual(dd.secret_backend_arguments, ["--vault-token", "********"]);
    const report = JSON.parse(text(files["leak-host/non_scrubbed_files.json"]));
    assert.deepEqual(report.files, []);
    assert.match(report.message, /review the files before sending them/);
  },
);
