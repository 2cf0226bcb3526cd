import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unzipSync } from "fflate";
import type { Hono } from "hono";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import { buildAgent } from "../../../src/agent.ts";
import { readAuthToken } from "../../../src/api/mod.ts";
import { saveState, STATE_FORMAT_VERSION } from "../../../src/fleet/_state.ts";
import { tempDir } from "../../_temp.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The flare the built agent answers `POST /agent/flare` with, its entries by name. */
async function agentFlare(fleetRoot: string) {
  const dir = tempDir("flare-agent-");
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: {},
    defaults: {
      run_path: dir,
      hostname: "flare-agent",
      api_key: "0123456789abcdef0123456789abcdef",
      fleet: { root: fleetRoot },
    },
  });
  const agent = await buildAgent({
    runtime,
    config,
    configFile: null,
    logger: createLogger({ console: false }),
  });
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
