/**
 * IP addresses in peer tags (`peer.hostname`, `db.hostname`, `out.host`…): replaced by
 * `blocked-ip-address` before they become a stats dimension, since every pod IP would
 * otherwise be its own group. Ports stay: they are few and say which protocol it is.
 */
import { isIP } from "node:net";

/** Addresses that are the same everywhere: localhost and cloud metadata servers. */
const ALLOWED = new Set(["127.0.0.1", "::1", "169.254.169.254", "fd00:ec2::254", "169.254.170.2"]);
const PROTOCOL = /^((?:dnspoll|ftp|file|http|https):\/{2,3})/;
const BLOCKED = "blocked-ip-address";

/** A leading IPv4 address with `.`, `-` or `_` between its octets. */
const IPV4 = [".", "-", "_"].map((sep) =>
  new RegExp(`^(\\d{1,3})\\${sep}(\\d{1,3})\\${sep}(\\d{1,3})\\${sep}(\\d{1,3})`)
);

/** The length of a leading IPv4 address matched by `re`, or -1. */
function ipv4Prefix(s: string, re: RegExp): number {
  const m = re.exec(s);
  if (!m) return -1;
  for (const octet of m.slice(1)) {
    if (Number(octet) > 255 || (octet.length > 1 && octet[0] === "0")) return -1;
  }
  return m[0].length;
}

function quantizeOne(raw: string): string {
  let prefix = "";
  if (raw.startsWith("ip-")) prefix = "ip-";
  else prefix = PROTOCOL.exec(raw)?.[1] ?? "";
  let rest = raw.slice(prefix.length);
  let port = "";
  // host:port (IPv4) or [v6]:port
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1];
    port = bracket[2] ?? "";
  } else {
    const hp = /^([^:]+):(\d+)$/.exec(rest);
    if (hp) {
      rest = hp[1];
      port = hp[2];
    }
  }
  let host = "";
  let suffix = "";
  if (rest.includes(":") && isIP(rest) === 6) host = rest;
  else {
    for (const re of IPV4) {
      const n = ipv4Prefix(rest, re);
      if (n > 0) {
        host = rest.slice(0, n);
        suffix = rest.slice(n);
        break;
      }
    }
  }
  if (host === "" || ALLOWED.has(host)) return raw;
  return prefix + BLOCKED + (port ? `:${port}` : "") + suffix;
}

/**
 * Quantizes a comma-separated host list: each IP address entry becomes `blocked-ip-address`
 * (with its port), duplicates after that collapse, other hosts stay.
 *
 * @example
 * ```ts
 * import { quantizePeerIpAddresses } from "./_ip.ts";
 * console.assert(quantizePeerIpAddresses("10.0.0.1:9092,10.0.0.2:9092,kafka") === "blocked-ip-address:9092,kafka");
 * console.assert(quantizePeerIpAddresses("ip-10-1-2-3.ec2.internal") === "ip-blocked-ip-address.ec2.internal");
 * ```
 */
export function quantizePeerIpAddresses(raw: string): string {
  // Most peer values are names: without a digit or a colon nothing can be an address.
  if (!/[\d:]/.test(raw)) return raw;
  return [...new Set(raw.split(",").map(quantizeOne))].join(",");
}
