/** The `network` check: `/proc/net/dev` per interface, TCP/UDP counters, connection states. */
import { SystemCheck, type SystemCheckContext } from "./_base.ts";
import { fields, parseSnmpPairs } from "./_proc.ts";
import type { Options } from "./_options.ts";

/** The counters of one `/proc/net/dev` line that the check submits. */
export interface InterfaceCounters {
  bytesRcvd: number;
  packetsIn: number;
  errorsIn: number;
  dropsIn: number;
  bytesSent: number;
  packetsOut: number;
  errorsOut: number;
  dropsOut: number;
}

/** Parses `/proc/net/dev` into interface → counters. */
export function parseNetDev(text: string): Map<string, InterfaceCounters> {
  const out = new Map<string, InterfaceCounters>();
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0 || line.includes("|")) continue;
    const name = line.slice(0, colon).trim();
    const n = fields(line.slice(colon + 1)).map(Number);
    if (n.length < 16) continue;
    out.set(name, {
      bytesRcvd: n[0]!,
      packetsIn: n[1]!,
      errorsIn: n[2]!,
      dropsIn: n[3]!,
      bytesSent: n[8]!,
      packetsOut: n[9]!,
      errorsOut: n[10]!,
      dropsOut: n[11]!,
    });
  }
  return out;
}

/** Metric suffix → [section, field] in `/proc/net/snmp` (Tcp, Udp) or `/proc/net/netstat` (TcpExt). */
const TCP_COUNTERS: Record<string, [string, string]> = {
  retrans_segs: ["Tcp", "RetransSegs"],
  in_segs: ["Tcp", "InSegs"],
  out_segs: ["Tcp", "OutSegs"],
  listen_overflows: ["TcpExt", "ListenOverflows"],
  listen_drops: ["TcpExt", "ListenDrops"],
  backlog_drops: ["TcpExt", "TCPBacklogDrop"],
  failed_retransmits: ["TcpExt", "TCPRetransFail"],
};
const UDP_COUNTERS: Record<string, [string, string]> = {
  in_datagrams: ["Udp", "InDatagrams"],
  no_ports: ["Udp", "NoPorts"],
  in_errors: ["Udp", "InErrors"],
  out_datagrams: ["Udp", "OutDatagrams"],
  rcv_buf_errors: ["Udp", "RcvbufErrors"],
  snd_buf_errors: ["Udp", "SndbufErrors"],
  in_csum_errors: ["Udp", "InCsumErrors"],
};

/** Kernel TCP state (hex in `/proc/net/tcp`) → metric suffix. */
const TCP_STATES: Record<string, string> = {
  "01": "established",
  "02": "opening",
  "03": "opening",
  "04": "closing",
  "05": "closing",
  "06": "time_wait",
  "07": "closing",
  "08": "closing",
  "09": "closing",
  "0A": "listening",
  "0B": "closing",
};

/** Counts the sockets of `/proc/net/tcp` or `tcp6` by state suffix (every suffix present). */
export function countTcpStates(text: string): Record<string, number> {
  const out: Record<string, number> = {
    established: 0,
    opening: 0,
    closing: 0,
    time_wait: 0,
    listening: 0,
  };
  for (const line of text.split("\n").slice(1)) {
    const state = fields(line)[3]?.toUpperCase();
    const suffix = state === undefined ? undefined : TCP_STATES[state];
    if (suffix) out[suffix]!++;
  }
  return out;
}

/** The `network` check. */
export class NetworkCheck extends SystemCheck {
  readonly #excluded: Set<string>;
  readonly #excludedRe?: RegExp;
  readonly #connectionState: boolean;

  constructor(ctx: SystemCheckContext, options: Options) {
    super(ctx);
    this.#excluded = new Set(options.strings("excluded_interfaces"));
    this.#excludedRe = options.regex("excluded_interface_re");
    this.#connectionState = options.bool("collect_connection_state", false);
  }

  protected collect(): void {
    const s = this.sender;
    for (const [name, c] of parseNetDev(this.proc.read("net/dev"))) {
      if (this.#excluded.has(name) || this.#excludedRe?.test(name)) continue;
      const tags = [`device:${name}`, `device_name:${name}`];
      s.metric("rate", "system.net.bytes_rcvd", c.bytesRcvd, tags);
      s.metric("rate", "system.net.bytes_sent", c.bytesSent, tags);
      s.metric("rate", "system.net.packets_in.count", c.packetsIn, tags);
      s.metric("rate", "system.net.packets_in.drop", c.dropsIn, tags);
      s.metric("rate", "system.net.packets_in.error", c.errorsIn, tags);
      s.metric("rate", "system.net.packets_out.count", c.packetsOut, tags);
      s.metric("rate", "system.net.packets_out.drop", c.dropsOut, tags);
      s.metric("rate", "system.net.packets_out.error", c.errorsOut, tags);
    }
    const snmp = parseSnmpPairs(
      (this.proc.tryRead("net/snmp") ?? "") + "\n" + (this.proc.tryRead("net/netstat") ?? ""),
    );
    const protocol = (proto: string, table: Record<string, [string, string]>) => {
      for (const [suffix, [section, field]] of Object.entries(table)) {
        const v = snmp.get(section)?.get(field);
        if (v === undefined || !Number.isFinite(v)) continue;
        s.metric("rate", `system.net.${proto}.${suffix}`, v);
        s.metric("monotonic_count", `system.net.${proto}.${suffix}.count`, v);
      }
    };
    protocol("tcp", TCP_COUNTERS);
    protocol("udp", UDP_COUNTERS);
    if (this.#connectionState) this.#connections();
  }

  #connections(): void {
    for (const v of ["4", "6"]) {
      const suffix = v === "4" ? "" : "6";
      const udp = this.proc.tryRead(`net/udp${suffix}`);
      if (udp !== undefined) {
        const count = udp.split("\n").slice(1).filter((l) => l.trim() !== "").length;
        this.sender.metric("gauge", `system.net.udp${v}.connections`, count);
      }
      const tcp = this.proc.tryRead(`net/tcp${suffix}`);
      if (tcp === undefined) continue;
      for (const [state, count] of Object.entries(countTcpStates(tcp))) {
        this.sender.metric("gauge", `system.net.tcp${v}.${state}`, count);
      }
    }
  }
}
