/** Run by logs_registry_crash.test.ts: acknowledges offsets of 2,000 files without pause until killed. */
import { Auditor } from "../../src/logs/mod.ts";
import type { Origin } from "../../src/logs/mod.ts";
import { nextSeq } from "../../src/logs/_message.ts";

const auditor = new Auditor({ path: process.argv[2], flushMs: 1 });
await auditor.start();
let offset = 0;
for (;;) {
  offset += 100;
  const origins = Array.from(
    { length: 2000 },
    (_, i) =>
      ({
        identifier: `file:/var/log/app-${i}.log`,
        offset: String(offset),
        tailingMode: "end",
        fingerprint: "0",
        seq: nextSeq(),
      }) as Origin,
  );
  auditor.ack(origins);
  auditor.flush();
  if (offset === 100) console.log("writing");
  await new Promise((r) => setImmediate(r));
}
