/**
 * Child of intake_sigkill.test.ts: appends series payloads to the intake store at argv[2] as
 * fast as it can, printing how many are committed, until it is killed.
 */
import { IntakeStore } from "../../src/intake/_store.ts";
import { runtime } from "../../src/runtime/mod.ts";

const store = new IntakeStore({ dir: process.argv[2], runtime });
for (let i = 1;; i++) {
  const t = Date.now();
  store.append({
    route: "/api/v2/series",
    kind: "series",
    method: "POST",
    received_at: new Date(t).toISOString(),
    received_ms: t,
    headers: {},
    api_key_masked: "",
    wire_bytes: 0,
    decoded_bytes: 0,
    content: {
      series: Array.from({ length: 10 }, (_, s) => ({
        metric: `killed.m${s}`,
        type: "gauge",
        interval: 10,
        tags: [`i:${i % 5}`],
        resources: [{ type: "host", name: "h" }],
        points: Array.from({ length: 100 }, (_, p) => ({ timestamp: i * 1000 + p, value: p })),
        unit: "",
        source_type_name: "",
      })),
    },
  });
  // Printed after the append returned: that payload is committed.
  if (i % 10 === 0) process.stdout.write(`committed ${i}\n`);
}
