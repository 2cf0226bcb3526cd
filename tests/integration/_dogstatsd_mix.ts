/** The known mix of DogStatsD traffic the integration tests send with hot-shots. */
import type StatsD from "hot-shots";
import type { Event, MetricSample, ServiceCheck } from "../../src/metrics/model.ts";

// hot-shots adds these to every message when set; the expected items below assume none.
for (const v of ["DD_ENV", "DD_SERVICE", "DD_VERSION", "DD_ENTITY_ID", "DD_EXTERNAL_ENV"]) {
  delete process.env[v];
}

function sample(over: Partial<MetricSample>): MetricSample {
  return {
    name: "",
    value: 1,
    rawValue: undefined,
    type: "gauge",
    tags: [],
    host: "",
    sampleRate: 1,
    timestamp: 0,
    unit: undefined,
    ...over,
  };
}

/** Sends the known mix through `client`; returns the raw lines it must have produced. */
export function sendMix(client: InstanceType<typeof StatsD>): string[] {
  const random = Math.random;
  Math.random = () => 0; // hot-shots drops sampled calls at random; keep every one
  try {
    client.gauge("mix.gauge", 1.5, ["env:test", "host:edge-1"]);
    client.increment("mix.count", 3, 0.5, ["a:b"]);
    client.histogram("mix.hist", 42, ["h"]);
    client.timing("mix.timer", 12.25, 0.25);
    client.distribution("mix.dist", 7, ["d:1", "d:2"]);
    client.set("mix.set", "user-9", ["s"]);
    client.gauge("mix.ts", 5, { timestamp: 1700000000, tags: ["t"] });
    client.event("Deploy done", "line1\nline2", {
      date_happened: new Date(1700000001_000),
      hostname: "web-2",
      aggregation_key: "deploys",
      priority: "low",
      source_type_name: "ci",
      alert_type: "success",
    }, ["ev"]);
    client.check("mix.check", 1, {
      date_happened: new Date(1700000002_000),
      hostname: "db-3",
      message: "slow",
    }, [
      "sc",
    ]);
  } finally {
    Math.random = random;
  }
  return [
    "mix.gauge:1.5|g|#env:test,host:edge-1",
    "mix.count:3|c|@0.5|#a:b",
    "mix.hist:42|h|#h",
    "mix.timer:12.25|ms|@0.25",
    "mix.dist:7|d|#d:1,d:2",
    "mix.set:user-9|s|#s",
    "mix.ts:5|g|T1700000000|#t",
    "_e{11,12}:Deploy done|line1\\nline2|d:1700000001|h:web-2|k:deploys|p:low|s:ci|t:success|#ev",
    "_sc|mix.check|1|d:1700000002|h:db-3|#sc|m:slow",
  ];
}

export const EXPECTED_SAMPLES: MetricSample[] = [
  sample({ name: "mix.gauge", value: 1.5, tags: ["env:test"], host: "edge-1" }),
  sample({ name: "mix.count", value: 3, type: "counter", tags: ["a:b"], sampleRate: 0.5 }),
  sample({ name: "mix.hist", value: 42, type: "histogram", tags: ["h"] }),
  sample({
    name: "mix.timer",
    value: 12.25,
    type: "histogram",
    sampleRate: 0.25,
    unit: "millisecond",
  }),
  sample({ name: "mix.dist", value: 7, type: "distribution", tags: ["d:1", "d:2"] }),
  sample({ name: "mix.set", value: NaN, rawValue: "user-9", type: "set", tags: ["s"] }),
  sample({ name: "mix.ts", value: 5, tags: ["t"], timestamp: 1700000000 }),
];
export const EXPECTED_EVENT: Event = {
  title: "Deploy done",
  text: "line1\nline2",
  timestamp: 1700000001,
  host: "web-2",
  priority: "low",
  alertType: "success",
  aggregationKey: "deploys",
  sourceTypeName: "ci",
  eventType: "",
  tags: ["ev"],
};
export const EXPECTED_CHECK: ServiceCheck = {
  name: "mix.check",
  status: 1,
  timestamp: 1700000002,
  host: "db-3",
  message: "slow",
  tags: ["sc"],
};
