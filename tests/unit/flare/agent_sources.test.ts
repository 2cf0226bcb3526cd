import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { unzipSync } from "fflate";
import type { Hono } from "hono";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { buildAgent } from "../../../src/agent.ts";
import { readAuthToken } from "../../../src/api/mod.ts";
import type { ChecksComponent } from "../../../src/checks/mod.ts";
import { saveState, STATE_FORMAT_VERSION } from "../../../src/fleet/_state.ts";
import { tempDir } from "../../_temp.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * The flare the built agent answers `POST /agent/flare` with, its entries by name; with
 * `confd`, the checks component has loaded that conf.d first (`confd_path`).
 */
async function agentFlare(
  fleetRoot: string,
  confd = "",
  identity: Record<string, string> = { hostname: "flare-agent" },
) {
  const dir = tempDir("flare-agent-");
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {},
    defaults: {
      run_path: dir,
      ...identity,
      api_key: "0123456789abcdef0123456789abcdef",
      fleet: { root: fleetRoot },
      confd_path: confd,
    },
  });
  const agent = await buildAgent({
    runtime,
    config,
    configFile: null,
    logger: createLogger({ console: false }),
  });
  if (confd) {
    const checks = agent.component<ChecksComponent>("checks")!;
    await checks.start();
    while (checks.collector.configCheck().configs.length === 0) await sleep(10);
    after(() => checks.stop());
  }
  const app = agent.component<{ name: string; app: Hono } & any>("api")!.app;
  const res = await app.request("/agent/flare", {
    method: "POST",
    headers: { Authorization: `Bearer ${readAuthToken(join(dir, "auth_token"))}` },
  });
  assert.equal(res.status, 200);
  return unzipSync(readFileSync((await res.text()).trim()));
}

test("the agent's flare holds forwarder_queue.json and fleet_state.json, as the README lists", async () => {
  const fleetRoot = tempDir("flare-fleet-");
  saveState(join(fleetRoot, "state.json"), {
    format_version: STATE_FORMAT_VERSION,
    catalog: null,
    packages: { outpost: { experiment_started_at: "2026-01-01T00:00:00Z" } },
  });
  const files = await agentFlare(fleetRoot);
  const queue = JSON.parse(text(files["flare-agent/forwarder_queue.json"]));
  for (const k of ["queue_transactions_memory", "queue_transactions_disk", "oldest_queued_age_s"]) {
    assert.ok(k in queue.forwarderStats, k);
  }
  const fleet = JSON.parse(text(files["flare-agent/fleet_state.json"]));
  assert.equal(fleet.packages.outpost.experiment_started_at, "2026-01-01T00:00:00Z");
});

test("the agent's flare skips fleet_state.json on a host that is not fleet-managed", async () => {
  const files = await agentFlare(tempDir("flare-fleet-"));
  assert.equal(files["flare-agent/fleet_state.json"], undefined);
  assert.match(
    text(files["flare-agent/flare_creation.log"]),
    /fleet_state\.json.*this host has no fleet state/,
  );
});

test("the agent's flare holds config-check.log, scrubbed, and etc/confd/ from confd_path", async () => {
  const confd = tempDir("flare-confd-");
  mkdirSync(join(confd, "http_check.d"));
  writeFileSync(
    join(confd, "http_check.d", "conf.yaml"),
    "instances:\n  - url: http://127.0.0.1:1\n    password: Hunter2Hunter2\n",
  );
  const files = await agentFlare(tempDir("flare-fleet-"), confd);
  const check = text(files["flare-agent/config-check.log"]);
  assert.match(check, /=== http_check check ===/);
  assert.match(check, /Config for instance ID: http_check:[0-9a-f]+/);
  assert.match(check, /password: "?\*{8}"?/);
  assert.ok(!check.includes("Hunter2Hunter2"));
  assert.match(text(files["flare-agent/etc/confd/http_check.d/conf.yaml"]), /url: http/);
});

test("the agent's flare is rooted at the resolved host name: hostname_file when hostname is unset", async () => {
  const dir = tempDir("flare-hostfile-");
  writeFileSync(join(dir, "hostname"), "from-file-host\n");
  const files = await agentFlare(tempDir("flare-fleet-"), "", {
    hostname: "",
    hostname_file: join(dir, "hostname"),
  });
  assert.ok(files["from-file-host/flare_creation.log"], Object.keys(files).join(", "));
});
