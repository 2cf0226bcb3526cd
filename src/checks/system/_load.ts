/** The `load` check: `/proc/loadavg`, raw and divided by the logical CPU count. */
import { SystemCheck } from "./_base.ts";
import { countCpus, fields } from "./_proc.ts";

/** The `load` check. */
export class LoadCheck extends SystemCheck {
  protected collect(): void {
    const [l1, l5, l15] = fields(this.proc.read("loadavg")).slice(0, 3).map(Number);
    if (![l1, l5, l15].every((v) => v !== undefined && Number.isFinite(v))) {
      throw new Error("Cannot parse /proc/loadavg: expected three numbers");
    }
    const cores = countCpus(this.proc.read("stat"));
    const loads: Record<string, number> = { "1": l1!, "5": l5!, "15": l15! };
    for (const [k, v] of Object.entries(loads)) {
      this.sender.metric("gauge", `system.load.${k}`, v);
      if (cores > 0) this.sender.metric("gauge", `system.load.norm.${k}`, v / cores);
    }
  }
}
