/** The `uptime` check: seconds since boot, from `/proc/uptime`. */
import { SystemCheck } from "./_base.ts";
import { fields } from "./_proc.ts";

/** The `uptime` check. */
export class UptimeCheck extends SystemCheck {
  protected collect(): void {
    const up = Number(fields(this.proc.read("uptime"))[0]);
    if (!Number.isFinite(up)) throw new Error("Cannot parse /proc/uptime: expected a number");
    this.sender.metric("gauge", "system.uptime", up);
  }
}
