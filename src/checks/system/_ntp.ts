/**
 * The `ntp` check: an NTP v3 client over UDP. Queries every host at once, submits the median
 * clock offset and the `ntp.in_sync` service check; a failure is UNKNOWN and a warning, never a
 * run error, since the default pool hosts need the internet.
 */
import { createSocket, type Socket } from "node:dgram";
import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { SystemCheck, type SystemCheckContext } from "./_base.ts";
import { fields } from "./_proc.ts";
import type { Options } from "./_options.ts";

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
const NTP_EPOCH_OFFSET = 2_208_988_800;
const PACKET_SIZE = 48;

/** The hosts queried when the config names none. */
export const DEFAULT_NTP_HOSTS = [0, 1, 2, 3].map((i) => `${i}.datadog.pool.ntp.org`);

/** Where `use_local_defined_servers` looks for `server`/`pool`/`peer` lines. */
export const LOCAL_NTP_CONF_PATHS = [
  "/etc/ntp.conf",
  "/etc/xntp.conf",
  "/etc/chrony.conf",
  "/etc/chrony/chrony.conf",
  "/etc/ntpd.conf",
  "/etc/openntpd/ntpd.conf",
];

/** The servers named in ntpd or chrony config texts, in order, without duplicates. */
export function localNtpServers(texts: readonly string[]): string[] {
  const out: string[] = [];
  for (const text of texts) {
    for (const line of text.split("\n")) {
      const [kw, host] = fields(line.replace(/#.*/, ""));
      if ((kw === "server" || kw === "pool" || kw === "peer") && host && !out.includes(host)) {
        out.push(host);
      }
    }
  }
  return out;
}

/** Writes Unix milliseconds as a 64-bit NTP timestamp at `at`. */
function writeTimestamp(buf: Uint8Array, at: number, unixMs: number): void {
  const seconds = unixMs / 1000 + NTP_EPOCH_OFFSET;
  const whole = Math.floor(seconds);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(at, whole);
  view.setUint32(at + 4, Math.floor((seconds - whole) * 2 ** 32));
}

/** Reads a 64-bit NTP timestamp at `at` as Unix seconds. */
function readTimestamp(buf: Uint8Array, at: number): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return view.getUint32(at) - NTP_EPOCH_OFFSET + view.getUint32(at + 4) / 2 ** 32;
}

/** Options of {@linkcode ntpQuery}. */
export interface NtpQueryOptions {
  /** @default 123 */
  port?: number;
  /** @default 3 */
  version?: number;
  /** @default 5000 */
  timeoutMs?: number;
  /** Unix milliseconds. @default Date.now */
  now?: () => number;
  signal?: AbortSignal;
}

/**
 * Asks one NTP server for the time and returns the clock offset in seconds,
 * `((t2 − t1) + (t3 − t4)) / 2`; rejects on timeout, a bad reply or a kiss-of-death.
 */
export function ntpQuery(host: string, options: NtpQueryOptions = {}): Promise<number> {
  const { port = 123, version = 3, timeoutMs = 5000, now = Date.now, signal } = options;
  return new Promise<number>((resolve, reject) => {
    let socket: Socket | undefined;
    const timers: Array<ReturnType<typeof setTimeout>> = [];
    const finish = (error: Error | undefined, offset?: number) => {
      timers.forEach(clearTimeout);
      signal?.removeEventListener("abort", onAbort);
      try {
        socket?.close();
      } catch {
        // Already closed.
      }
      socket = undefined;
      if (error) reject(error);
      else resolve(offset!);
    };
    const onAbort = () => finish(new Error(`NTP query to ${host} cancelled`));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort);
    const request = new Uint8Array(PACKET_SIZE);
    request[0] = (version << 3) | 3; // LI 0, client mode
    socket = createSocket(isIPv6(host) ? "udp6" : "udp4");
    socket.on(
      "error",
      (e) => finish(new Error(`NTP query to ${host}:${port} failed: ${e.message}`)),
    );
    socket.on("message", (msg: Uint8Array) => {
      const t4 = now() / 1000;
      if (msg.length < PACKET_SIZE) return;
      const mode = msg[0]! & 7;
      if (mode !== 4 && mode !== 5) return;
      // The reply must echo our transmit time: anything else is a stray or spoofed packet.
      for (let i = 0; i < 8; i++) if (msg[24 + i] !== request[40 + i]) return;
      if (msg[1] === 0) {
        const code = new TextDecoder().decode(msg.subarray(12, 16)).replace(/\0+$/, "");
        return finish(new Error(`NTP server ${host} sent kiss-of-death ${code}`));
      }
      if (msg[0]! >> 6 === 3) return finish(new Error(`NTP server ${host} is not synchronized`));
      if (msg[1]! > 15) {
        return finish(new Error(`NTP server ${host} sent invalid stratum ${msg[1]}`));
      }
      const t1 = readTimestamp(request, 40);
      const t2 = readTimestamp(msg, 32);
      const t3 = readTimestamp(msg, 40);
      finish(undefined, ((t2 - t1) + (t3 - t4)) / 2);
    });
    timers.push(setTimeout(
      () => finish(new Error(`NTP query to ${host}:${port} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    ));
    writeTimestamp(request, 40, now());
    socket.send(request, port, host, (e) => {
      if (e) finish(new Error(`NTP query to ${host}:${port} failed: ${e.message}`));
    });
  });
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** An integer option in [0, max]; 0 or absent gives `fallback`. */
function integerOption(options: Options, key: string, fallback: number, max: number): number {
  const v = options.number(key, fallback, { min: 0 });
  if (!Number.isInteger(v) || v > max) {
    throw new Error(`Cannot parse ntp option "${key}": expected an integer between 1 and ${max}`);
  }
  return v || fallback;
}

/** The `ntp` check. */
export class NtpCheck extends SystemCheck {
  readonly #hosts: string[];
  readonly #port: number;
  readonly #version: number;
  readonly #timeoutMs: number;
  readonly #threshold: number;
  readonly #cancel = new AbortController();

  constructor(ctx: SystemCheckContext, options: Options, confPaths = LOCAL_NTP_CONF_PATHS) {
    super(ctx);
    let hosts = options.strings("hosts");
    const host = options.string("host");
    // `host` (the old key) comes first, then the `hosts` that differ from it.
    if (host !== undefined && host !== "") hosts = [host, ...hosts.filter((h) => h !== host)];
    if (options.bool("use_local_defined_servers", false)) {
      const texts = confPaths.flatMap((p) => {
        try {
          return [readFileSync(p, "utf8")];
        } catch {
          return [];
        }
      });
      hosts = localNtpServers(texts);
      if (hosts.length === 0) {
        throw new Error(
          `Cannot find an NTP server in ${confPaths.join(", ")} (use_local_defined_servers)`,
        );
      }
    }
    this.#hosts = hosts.length ? hosts : DEFAULT_NTP_HOSTS;
    // As in the Datadog Agent, 0 means "the default" for each of these.
    this.#port = integerOption(options, "port", 123, 65535);
    this.#version = integerOption(options, "version", 3, 4);
    this.#timeoutMs = (options.number("timeout", 5, { min: 0 }) || 5) * 1000;
    this.#threshold = options.number("offset_threshold", 60, { min: 0 }) || 60;
  }

  /** The servers each run queries. */
  get hosts(): readonly string[] {
    return this.#hosts;
  }

  protected async collect(signal: AbortSignal): Promise<void> {
    const both = AbortSignal.any([signal, this.#cancel.signal]);
    const results = await Promise.allSettled(this.#hosts.map((host) =>
      ntpQuery(host, {
        port: this.#port,
        version: this.#version,
        timeoutMs: this.#timeoutMs,
        now: this.now,
        signal: both,
      })
    ));
    // A cancelled or timed-out run submits nothing: the collector discards it anyway.
    if (both.aborted) return;
    const offsets: number[] = [];
    const errors: string[] = [];
    for (const r of results) {
      if (r.status === "fulfilled") offsets.push(r.value);
      else errors.push((r.reason as Error).message);
    }
    if (offsets.length === 0) {
      const message = `failed to get clock offset from any ntp host: ${errors.join("; ")}`;
      this.sender.serviceCheck("ntp.in_sync", 3, [], undefined, message);
      this.warn(message);
      return;
    }
    const offset = median(offsets);
    this.sender.metric("gauge", "ntp.offset", offset);
    // Whole seconds are compared, as the Datadog Agent does.
    if (Math.trunc(Math.abs(offset)) > this.#threshold) {
      this.sender.serviceCheck(
        "ntp.in_sync",
        2,
        [],
        undefined,
        `Offset ${offset} is higher than offset threshold (${this.#threshold} secs)`,
      );
    } else {
      this.sender.serviceCheck("ntp.in_sync", 0);
    }
  }

  override async cancel(): Promise<void> {
    this.#cancel.abort();
  }
}
