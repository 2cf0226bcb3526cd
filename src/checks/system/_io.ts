/** The `io` check: per-device `/proc/diskstats` as iostat-style rates and gauges. */
import { SystemCheck, type SystemCheckContext } from "./_base.ts";
import { counterDelta, fields, round2 } from "./_proc.ts";
import type { Options } from "./_options.ts";
import { parseVmstat } from "./_memory.ts";

const SECTOR_SIZE = 512;

/** The counters of one `/proc/diskstats` line that the check uses. */
export interface DiskStats {
  reads: number;
  mergedReads: number;
  readSectors: number;
  readMs: number;
  writes: number;
  mergedWrites: number;
  writeSectors: number;
  writeMs: number;
  ioMs: number;
  weightedIoMs: number;
}

/** Parses `/proc/diskstats` into device → counters (lines with fewer than 14 fields are skipped). */
export function parseDiskstats(text: string): Map<string, DiskStats> {
  const out = new Map<string, DiskStats>();
  for (const line of text.split("\n")) {
    const f = fields(line);
    if (f.length < 14) continue;
    const n = f.map(Number);
    out.set(f[2]!, {
      reads: n[3]!,
      mergedReads: n[4]!,
      readSectors: n[5]!,
      readMs: n[6]!,
      writes: n[7]!,
      mergedWrites: n[8]!,
      writeSectors: n[9]!,
      writeMs: n[10]!,
      ioMs: n[12]!,
      weightedIoMs: n[13]!,
    });
  }
  return out;
}

/**
 * The gauges between two readings `deltaS` seconds apart, rounded to 2 decimals.
 * @example Await and utilization
 * ```ts
 * import { ioGauges } from "./_io.ts";
 * const z = { reads: 0, mergedReads: 0, readSectors: 0, readMs: 0, writes: 0, mergedWrites: 0,
 *   writeSectors: 0, writeMs: 0, ioMs: 0, weightedIoMs: 0 };
 * const g = ioGauges(z, { ...z, reads: 10, readMs: 50, ioMs: 500 }, 1);
 * // g["system.io.await"] === 5, g["system.io.util"] === 50
 * ```
 */
export function ioGauges(last: DiskStats, now: DiskStats, deltaS: number): Record<string, number> {
  const d = (k: keyof DiskStats) => counterDelta(now[k], last[k]);
  const dReads = d("reads");
  const dWrites = d("writes");
  const dIos = dReads + dWrites;
  const kbPerS = (sectors: number) => sectors * SECTOR_SIZE / 1024 / deltaS;
  // Per-second throughput and busy ms per second, the sysstat way.
  const tput = dIos / deltaS;
  const busyMsPerS = d("ioMs") / deltaS;
  const g: Record<string, number> = {
    "system.io.rkb_s": kbPerS(d("readSectors")),
    "system.io.wkb_s": kbPerS(d("writeSectors")),
    "system.io.avg_rq_sz": dIos ? (d("readSectors") + d("writeSectors")) / dIos : 0,
    "system.io.await": dIos ? (d("readMs") + d("writeMs")) / dIos : 0,
    "system.io.r_await": dReads ? d("readMs") / dReads : 0,
    "system.io.w_await": dWrites ? d("writeMs") / dWrites : 0,
    // The Datadog Agent divides by 1024 here where iostat divides by 1000; kept for parity.
    "system.io.avg_q_sz": d("weightedIoMs") / 1024 / deltaS,
    "system.io.svctm": tput ? busyMsPerS / tput : 0,
    "system.io.util": busyMsPerS / 1000 * 100,
  };
  for (const k of Object.keys(g)) g[k] = round2(g[k]!);
  return g;
}

/** The `io` check. */
export class IoCheck extends SystemCheck {
  readonly #exclude?: RegExp;
  #last?: { at: number; stats: Map<string, DiskStats> };

  constructor(ctx: SystemCheckContext, options: Options) {
    super(ctx);
    this.#exclude = options.regex("device_exclude_re", "device_blacklist_re");
    // Validated but without effect: the Datadog Agent applies it on Windows only.
    options.bool("lowercase_device_tag", false);
  }

  protected collect(): void {
    const at = this.monotonic();
    const stats = parseDiskstats(this.proc.read("diskstats"));
    const s = this.sender;
    const last = this.#last;
    const deltaS = last ? (at - last.at) / 1000 : 0;
    for (const [device, st] of stats) {
      if (this.#exclude?.test(device)) continue;
      const tags = [`device:${device}`, `device_name:${device}`];
      s.metric("rate", "system.io.r_s", st.reads, tags);
      s.metric("rate", "system.io.w_s", st.writes, tags);
      s.metric("rate", "system.io.rrqm_s", st.mergedReads, tags);
      s.metric("rate", "system.io.wrqm_s", st.mergedWrites, tags);
      const prev = last?.stats.get(device);
      if (!prev || deltaS <= 0) continue;
      for (const [name, value] of Object.entries(ioGauges(prev, st, deltaS))) {
        s.metric("gauge", name, value, tags);
      }
    }
    this.#last = { at, stats };
    const vmstat = this.proc.tryRead("vmstat");
    if (vmstat !== undefined) {
      const vm = parseVmstat(vmstat);
      const pin = vm.get("pgpgin");
      const pout = vm.get("pgpgout");
      if (pin !== undefined) s.metric("rate", "system.io.block_in", pin);
      if (pout !== undefined) s.metric("rate", "system.io.block_out", pout);
    }
  }
}
