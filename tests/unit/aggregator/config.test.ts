import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { aggregatorSettings } from "../../../src/aggregator/mod.ts";

describe("aggregator config keys", () => {
  it("the context byte budget and the reader queue bound refuse sizes too small to work", async () => {
    const { config } = await loadConfig(runtime, {
      searchPaths: [],
      env: { DD_DOGSTATSD_CONTEXT_BYTES_LIMIT: "33554432", DD_DOGSTATSD_QUEUE_MAX_BYTES: "65536" },
    });
    assert.equal(aggregatorSettings(config).contextBytesLimit, 32 * 1024 * 1024);
    assert.equal(config.dogstatsd_queue_max_bytes, 65536);
    for (
      const [key, env] of [
        ["dogstatsd_context_bytes_limit", "DD_DOGSTATSD_CONTEXT_BYTES_LIMIT"],
        ["dogstatsd_queue_max_bytes", "DD_DOGSTATSD_QUEUE_MAX_BYTES"],
      ]
    ) {
      await assert.rejects(
        loadConfig(runtime, { searchPaths: [], env: { [env]: "100" } }),
        (e: Error & { problems?: string[] }) =>
          (e.problems ?? []).some((p) =>
            p.startsWith(
              `Invalid config key "${key}" (from ${env}): expected an integer of at least`,
            )
          ),
      );
    }
  });

  it("aggregatorSettings() carries the agent's defaults", async () => {
    const { config } = await loadConfig(runtime, { searchPaths: [], env: {} });
    assert.deepEqual(aggregatorSettings(config), {
      histogramAggregates: ["max", "median", "avg", "count"],
      histogramPercentiles: ["0.95"],
      counterExpirySeconds: 300,
      contextExpirySeconds: 20,
      contextLimit: 1_000_000,
      contextBytesLimit: 256 * 1024 * 1024,
      noAggregation: true,
      noAggregationBatchSize: 2048,
      flushIncompleteBuckets: false,
      checkExpiryCommits: 2,
      checkStatefulExpirySeconds: 90_000,
      logPayloads: false,
    });
  });

  it("histogram_percentiles accepts YAML numbers and DD_* env lists", async () => {
    const dir = mkdtempSync(join(tmpdir(), "outpost-agg-"));
    try {
      const file = join(dir, "datadog.yaml");
      writeFileSync(file, "histogram_percentiles: [0.5, 0.99]\ndogstatsd_context_limit: 5000\n");
      const fromFile = await loadConfig(runtime, { path: file, env: {} });
      assert.deepEqual(fromFile.config.histogram_percentiles, ["0.5", "0.99"]);
      assert.equal(fromFile.config.dogstatsd_context_limit, 5000);
      const fromEnv = await loadConfig(runtime, {
        path: file,
        env: { DD_HISTOGRAM_AGGREGATES: "max min", DD_DOGSTATSD_EXPIRY_SECONDS: "60" },
      });
      assert.deepEqual(fromEnv.config.histogram_aggregates, ["max", "min"]);
      assert.equal(fromEnv.config.dogstatsd_expiry_seconds, 60);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
