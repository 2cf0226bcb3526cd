/**
 * The v5 host metadata payload (`/intake/`) and its cache: `getPayload` always rebuilds and
 * stores, `getFromCache` returns the stored copy and builds only when there is none — the
 * sender uses fresh payloads, status and the API read the cache.
 */
import { createHash } from "node:crypto";
import { readFileSync, readlinkSync } from "node:fs";
import { arch, cpus, platform } from "node:os";
import { dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Config } from "../config/mod.ts";
import { BUILD } from "../version.ts";
import type { HostnameInfo } from "./_hostname.ts";

/** The flavor outpost reports: the Datadog backend knows the core agent's. */
export const AGENT_FLAVOR = "agent";

/** The v5 host metadata payload, keys as the intake expects them. */
export interface HostPayload {
  apiKey: string;
  agentVersion: string;
  uuid: string;
  internalHostname: string;
  os: string;
  "agent-flavor": string;
  python: string;
  systemStats: {
    cpuCores: number;
    machine: string;
    platform: string;
    pythonV: string;
    processor: string;
    macV: [string, string, string];
    nixV: [string, string, string];
    fbsdV: [string, string, string];
    winV: [string, string, string];
  };
  meta: {
    "socket-hostname": string;
    timezones: string[];
    "socket-fqdn": string;
    "ec2-hostname": string;
    hostname: string;
    host_aliases: string[];
    "instance-id": string;
    "hostname-resolution-version": "1.0";
  };
  "host-tags": { system: string[] };
  network: { "network-id": string; "public-ipv4"?: string } | null;
  logs: { transport: string; auto_multi_line_detection_enabled: boolean };
  "install-method": {
    tool: string | null;
    tool_version: string;
    installer_version: string | null;
  };
  "proxy-info": {
    "no-proxy-nonexact-match": boolean;
    "proxy-behavior-changed": boolean;
    "no-proxy-nonexact-match-explicitly-set": boolean;
  };
  otlp: { enabled: boolean };
}

/** Where the machine's identity and OS facts come from; overridable for tests. */
export interface HostFacts {
  /** Stable host id: DMI product UUID, then `/etc/machine-id`, then a hash of the hostname. */
  uuid(hostname: string): string;
  /** `[distribution, version, ""]` from `/etc/os-release`. */
  nixV(): [string, string, string];
  /** The local time zone's abbreviation. */
  timezone(): string;
}

/** Options of {@linkcode HostMetadata}. */
export interface HostMetadataOptions {
  config: Config;
  /** The config file in use: `install_info` is read beside it. */
  configFile: string | null;
  hostname: HostnameInfo;
  /** @default facts read from the local machine */
  facts?: HostFacts;
}

/**
 * Builds and caches the host metadata payload.
 *
 * @example
 * ```ts
 * import { HostMetadata } from "./_payload.ts";
 * import { loadConfig } from "../config/mod.ts";
 * import { runtime } from "../runtime/mod.ts";
 * const { config } = await loadConfig(runtime, { searchPaths: [], env: {} });
 * const hostname = { hostname: "edge-1", provider: "configuration", osHostname: "edge-1", fqdn: "edge-1", errors: {} } as const;
 * const md = new HostMetadata({ config, configFile: null, hostname });
 * console.log(md.getFromCache() === md.getFromCache()); // true
 * ```
 */
export class HostMetadata {
  readonly #o: HostMetadataOptions;
  readonly #facts: HostFacts;
  #cached: HostPayload | null = null;

  constructor(options: HostMetadataOptions) {
    this.#o = options;
    this.#facts = options.facts ?? localFacts;
  }

  /** The resolved hostname and its provider. */
  get hostname(): HostnameInfo {
    return this.#o.hostname;
  }

  /** Builds a fresh payload and stores it in the cache (no expiry). */
  getPayload(): HostPayload {
    this.#cached = this.#build();
    return this.#cached;
  }

  /** The cached payload, built once when the cache is empty. */
  getFromCache(): HostPayload {
    return this.#cached ?? this.getPayload();
  }

  #build(): HostPayload {
    const { config, hostname } = this.#o;
    const cpu = cpus();
    const tags = [...config.tags, ...config.extra_tags];
    if (config.env) tags.push(`env:${config.env}`);
    const empty: [string, string, string] = ["", "", ""];
    return {
      apiKey: config.api_key,
      agentVersion: BUILD.agentVersion,
      uuid: this.#facts.uuid(hostname.hostname),
      internalHostname: hostname.hostname,
      os: platform(),
      "agent-flavor": AGENT_FLAVOR,
      python: "n/a",
      systemStats: {
        cpuCores: cpu.length,
        machine: goArch(arch()),
        platform: platform(),
        pythonV: "n/a",
        processor: cpu[0]?.model ?? "",
        macV: empty,
        nixV: platform() === "linux" ? this.#facts.nixV() : empty,
        fbsdV: empty,
        winV: empty,
      },
      meta: {
        "socket-hostname": hostname.osHostname,
        timezones: [this.#facts.timezone()],
        "socket-fqdn": hostname.fqdn,
        "ec2-hostname": "",
        hostname: hostname.hostname,
        host_aliases: [],
        "instance-id": "",
        "hostname-resolution-version": "1.0",
      },
      "host-tags": { system: [...new Set(tags)].sort() },
      // No cloud provider is queried on edge hosts, so there is never a network ID.
      network: null,
      logs: { transport: "", auto_multi_line_detection_enabled: false },
      "install-method": installMethod(this.#o.configFile),
      "proxy-info": {
        "no-proxy-nonexact-match": false,
        "proxy-behavior-changed": false,
        "no-proxy-nonexact-match-explicitly-set": false,
      },
      otlp: { enabled: false },
    };
  }
}

/** Node's architecture names → Go's, which the intake and the status page expect. */
export function goArch(a: string): string {
  return ({ x64: "amd64", ia32: "386", arm64: "arm64", arm: "arm" } as Record<string, string>)[a] ??
    a;
}

/** The build's architecture in Go's naming (`amd64`, `arm64`), as status and metadata report it. */
export const BUILD_ARCH = goArch(BUILD.target.split("-")[1] ?? arch());

/** `install_info` beside the config file, as the Datadog installers write it. */
function installMethod(configFile: string | null): HostPayload["install-method"] {
  const none = { tool: null, tool_version: "undefined", installer_version: null };
  if (!configFile) return none;
  try {
    const doc = parseYaml(readFileSync(join(dirname(configFile), "install_info"), "utf8"));
    const m = doc?.install_method ?? {};
    return {
      tool: typeof m.tool === "string" ? m.tool : null,
      tool_version: typeof m.tool_version === "string" ? m.tool_version : "undefined",
      installer_version: typeof m.installer_version === "string" ? m.installer_version : null,
    };
  } catch {
    return none;
  }
}

const localFacts: HostFacts = {
  uuid(hostname) {
    for (const file of ["/sys/class/dmi/id/product_uuid", "/etc/machine-id"]) {
      try {
        const id = readFileSync(file, "utf8").trim().toLowerCase();
        if (/^[0-9a-f]{32}$/.test(id)) return asUuid(id);
        if (/^[0-9a-f-]{36}$/.test(id)) return id;
      } catch { /* not readable here: try the next source */ }
    }
    return asUuid(createHash("sha256").update(hostname).digest("hex").slice(0, 32));
  },
  nixV() {
    try {
      const text = readFileSync("/etc/os-release", "utf8");
      const field = (k: string) =>
        /^"?(.*?)"?$/.exec(new RegExp(`^${k}=(.*)$`, "m").exec(text)?.[1] ?? "")?.[1] ?? "";
      return [field("ID"), field("VERSION_ID"), ""];
    } catch {
      return ["", "", ""];
    }
  },
  // Read from the system, not through Intl or local Date methods: their first use loads ICU's
  // time zone data, about 15 ms and several MB at every start (scripts/bench/startup.ts).
  timezone() {
    const tz = process.env.TZ?.replace(/^:/, "");
    if (tz) return tz;
    try {
      const name = readFileSync("/etc/timezone", "utf8").trim();
      if (name) return name;
    } catch { /* not a Debian-style system */ }
    try {
      const zone = /zoneinfo\/(.+)$/.exec(readlinkSync("/etc/localtime"))?.[1];
      if (zone) return zone;
    } catch { /* no zone configured: the system runs on UTC */ }
    return "UTC";
  },
};

function asUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20, 32)
  }`;
}
