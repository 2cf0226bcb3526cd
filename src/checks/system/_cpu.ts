/** The `cpu` check: `/proc/stat` times as percentages of the interval, plus cumulative seconds. */
import { SystemCheck, type SystemCheckContext } from "./_base.ts";
import { fields } from "./_proc.ts";
import type { Options } from "./_options.ts";

/** Clock ticks per second of `/proc/stat` (USER_HZ, 100 on every Linux the agent supports). */
const USER_HZ = 100;

const TIME_FIELDS = [
  "user",
  "nice",
  "system",
  "idle",
  "iowait",
  "irq",
  "softirq",
  "steal",
  "guest",
  "guestnice",
] as const;

/** One `cpu` line of `/proc/stat`, in clock ticks (integers, so deltas are exact). */
export type CpuTimes = Record<(typeof TIME_FIELDS)[number], number>;

/** The `cpu` (aggregate) and `cpuN` lines of `/proc/stat`, plus `ctxt`. */
export interface ProcStat {
  total: CpuTimes;
  perCpu: Map<string, CpuTimes>;
  ctxt?: number;
}

/** Parses `/proc/stat`. */
export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | undefined;
  const perCpu = new Map<string, CpuTimes>();
  let ctxt: number | undefined;
  for (const line of text.split("\n")) {
    const f = fields(line);
    if (f.length === 0) continue;
    if (f[0] === "ctxt") ctxt = Number(f[1]);
    if (!/^cpu\d*$/.test(f[0]!)) continue;
    const t = {} as CpuTimes;
    TIME_FIELDS.forEach((name, i) => t[name] = Number(f[i + 1] ?? 0));
    if (f[0] === "cpu") total = t;
    else perCpu.set(f[0]!, t);
  }
  if (!total) throw new Error("Cannot parse /proc/stat: no cpu line");
  return { total, perCpu, ctxt };
}

/** The busy total the percentages divide by (guest time is already inside user). */
function busyTotal(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** The percentages of the interval between two readings, as the check submits them. */
export function cpuPercents(last: CpuTimes, now: CpuTimes): Record<string, number> {
  const d = (pick: (t: CpuTimes) => number) => pick(now) - pick(last);
  const total = d(busyTotal);
  if (total <= 0) return {};
  const pct = (v: number) => v * 100 / total;
  return {
    "system.cpu.user": pct(d((t) => t.user + t.nice)),
    "system.cpu.system": pct(d((t) => t.system + t.irq + t.softirq)),
    "system.cpu.interrupt": pct(d((t) => t.irq + t.softirq)),
    "system.cpu.iowait": pct(d((t) => t.iowait)),
    "system.cpu.idle": pct(d((t) => t.idle)),
    "system.cpu.stolen": pct(d((t) => t.steal)),
    "system.cpu.guest": pct(d((t) => t.guest)),
  };
}

/** The `cpu` check. */
export class CpuCheck extends SystemCheck {
  readonly #perCpu: boolean;
  #last?: CpuTimes;

  constructor(ctx: SystemCheckContext, options: Options) {
    super(ctx);
    this.#perCpu = options.bool("report_total_percpu", false);
  }

  protected collect(): void {
    const stat = parseProcStat(this.proc.read("stat"));
    const s = this.sender;
    s.metric("gauge", "system.cpu.num_cores", stat.perCpu.size);
    if (stat.ctxt !== undefined && Number.isFinite(stat.ctxt)) {
      s.metric("monotonic_count", "system.cpu.context_switches", stat.ctxt);
    }
    if (this.#last) {
      for (const [name, value] of Object.entries(cpuPercents(this.#last, stat.total))) {
        s.metric("gauge", name, value);
      }
    }
    this.#last = stat.total;
    const totals = (times: CpuTimes, core: string) => {
      for (const f of TIME_FIELDS) {
        s.metric("gauge", `system.cpu.${f}.total`, times[f] / USER_HZ, [`core:${core}`]);
      }
    };
    totals(stat.total, "cpu-total");
    if (this.#perCpu) { for (const [core, times] of stat.perCpu) totals(times, core); }
  }
}
