/** The `memory` check: `/proc/meminfo` and the swap counters of `/proc/vmstat`, in MB. */
import { SystemCheck } from "./_base.ts";
import { parseKeyValues } from "./_proc.ts";

const MB = 1024 * 1024;
/** Bytes per page for pswpin/pswpout (4 KiB on the platforms outpost targets). */
const PAGE_SIZE = 4096;

/** The `memory` check. */
export class MemoryCheck extends SystemCheck {
  protected collect(): void {
    const s = this.sender;
    const mb = (name: string, bytes: number | undefined) => {
      if (bytes !== undefined) s.metric("gauge", name, bytes / MB);
    };
    let memError: Error | undefined;
    let mem: Map<string, number> | undefined;
    try {
      mem = parseKeyValues(this.proc.read("meminfo"));
      if (!mem.has("MemTotal")) throw new Error("Cannot parse /proc/meminfo: no MemTotal");
    } catch (error) {
      memError = error as Error;
      mem = undefined;
    }
    if (mem) {
      const total = mem.get("MemTotal")!;
      const free = mem.get("MemFree") ?? 0;
      // Kernels before 3.14 lack MemAvailable: estimate it as free + buffers + page cache.
      const available = mem.get("MemAvailable") ??
        free + (mem.get("Buffers") ?? 0) + (mem.get("Cached") ?? 0);
      mb("system.mem.total", total);
      mb("system.mem.free", free);
      mb("system.mem.used", total - free);
      mb("system.mem.usable", available);
      if (total > 0) s.metric("gauge", "system.mem.pct_usable", available / total);
      // Reclaimable slab counts as cache, as `free` shows it in buff/cache.
      mb("system.mem.cached", (mem.get("Cached") ?? 0) + (mem.get("SReclaimable") ?? 0));
      mb("system.mem.buffered", mem.get("Buffers"));
      mb("system.mem.shared", mem.get("Shmem"));
      mb("system.mem.slab", mem.get("Slab"));
      mb("system.mem.slab_reclaimable", mem.get("SReclaimable"));
      mb("system.mem.page_tables", mem.get("PageTables"));
      mb("system.mem.commit_limit", mem.get("CommitLimit"));
      mb("system.mem.committed_as", mem.get("Committed_AS"));
      mb("system.swap.cached", mem.get("SwapCached"));
    }
    const swapTotal = mem?.get("SwapTotal");
    const swapFree = mem?.get("SwapFree");
    const vmstat = this.proc.tryRead("vmstat");
    if (swapTotal === undefined || swapFree === undefined) {
      if (memError) throw memError;
      return;
    }
    const used = swapTotal - swapFree;
    mb("system.swap.total", swapTotal);
    mb("system.swap.free", swapFree);
    mb("system.swap.used", used);
    s.metric("gauge", "system.swap.pct_free", swapTotal > 0 ? 1 - used / swapTotal : 1);
    if (vmstat !== undefined) {
      const vm = parseVmstat(vmstat);
      const sin = vm.get("pswpin");
      const sout = vm.get("pswpout");
      if (sin !== undefined) s.metric("rate", "system.swap.swap_in", sin * PAGE_SIZE / MB);
      if (sout !== undefined) s.metric("rate", "system.swap.swap_out", sout * PAGE_SIZE / MB);
    }
  }
}

/** `/proc/vmstat`: `name value` lines. */
export function parseVmstat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out.set(k, Number(v));
  }
  return out;
}
