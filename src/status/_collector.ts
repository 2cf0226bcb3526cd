/**
 * The status framework: components register providers, and the collector merges their JSON
 * under a common header or renders them as text — the collector section first, the rest
 * alphabetically, providers within a section by name, errors last.
 */
import { heading, lines, PLAIN, type Style } from "./_style.ts";

/** JSON data a provider adds to the status object (merged into one flat object). */
export type StatusData = Record<string, unknown>;

/** One component's contribution to the status page. */
export interface StatusProvider {
  /** Shown as the title, e.g. `DogStatsD`. */
  name: string;
  /** Section id used by `/agent/{section}/status`, lower case, e.g. `dogstatsd`. */
  section: string;
  /** The provider's keys of the JSON status. */
  data(): StatusData | Promise<StatusData>;
  /** Text lines (already indented) rendered from what {@linkcode StatusProvider.data} returned. */
  text(data: StatusData, style: Style): string;
}

/** What the header shows about this process. */
export interface StatusHeader {
  /** Outpost's version. */
  version: string;
  /** Commit of the build. @default not shown */
  commit?: string;
  /** ISO time of the build; "" from source. @default not shown */
  buildDate?: string;
  /** The Datadog Agent version sent to Datadog. @default not shown */
  agentVersion?: string;
  flavor: string;
  /** Runtime name and version, e.g. `bun` and `1.2.3`. */
  runtime: string;
  runtimeVersion: string;
  buildArch: string;
  pid: number;
  /** Agent start, ms since the epoch. */
  startMs: number;
  confFile: string | null;
  logFile: string;
  logLevel: string;
}

/** Options of {@linkcode StatusCollector}. */
export interface StatusCollectorOptions {
  header: StatusHeader;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Collects status from registered providers.
 *
 * @example
 * ```ts
 * import { StatusCollector } from "./_collector.ts";
 * const status = new StatusCollector({ header: { version: "0.1.0", flavor: "agent", runtime: "bun", runtimeVersion: "1", buildArch: "amd64", pid: 1, startMs: 0, confFile: null, logFile: "", logLevel: "info" } });
 * status.register({ name: "Demo", section: "demo", data: () => ({ demoStats: { ok: true } }), text: () => "  OK" });
 * console.log(status.sections()); // ["demo"]
 * ```
 */
export class StatusCollector {
  readonly #header: StatusHeader;
  readonly #now: () => number;
  readonly #providers: StatusProvider[] = [];

  constructor({ header, now = Date.now }: StatusCollectorOptions) {
    this.#header = header;
    this.#now = now;
  }

  /** Adds a provider; its section appears once it has one. */
  register(provider: StatusProvider): void {
    this.#providers.push(provider);
  }

  /** Section ids: `collector` first, then alphabetical. */
  sections(): string[] {
    return [...new Set(this.#providers.map((p) => p.section))].sort((a, b) =>
      a === "collector" ? -1 : b === "collector" ? 1 : a.localeCompare(b)
    );
  }

  /** True when some provider is in `section`. */
  has(section: string): boolean {
    return this.#providers.some((p) => p.section === section);
  }

  /** The whole status (header and every provider), or one section's providers only. */
  async json(section?: string): Promise<StatusData> {
    const out: StatusData = section === undefined ? this.#headerJson() : {};
    const errors: string[] = [];
    for (const { provider, data, error } of await this.#collect(section)) {
      if (error) errors.push(`${provider.name}: ${error}`);
      else Object.assign(out, data);
    }
    if (errors.length > 0) out.errors = errors;
    return out;
  }

  /** The text status (header and every section), or one section's text. */
  async text(section?: string, style: Style = PLAIN): Promise<string> {
    const blocks: string[] = section === undefined ? [this.#headerText(style)] : [];
    const errors: string[] = [];
    const results = await this.#collect(section);
    for (const s of this.sections()) {
      const inSection = results.filter((r) => r.provider.section === s);
      if (inSection.length === 0) continue;
      const single = inSection.length === 1;
      const parts = [heading(single ? inSection[0].provider.name : titleCase(s), style)];
      for (const { provider, data, error } of inSection) {
        if (!single) parts.push("", heading(provider.name, style, "  "));
        if (error) {
          errors.push(`${provider.name}: ${error}`);
          parts.push(style.error(`  Status unavailable: ${error}`));
          continue;
        }
        try {
          parts.push(provider.text(data!, style));
        } catch (e) {
          errors.push(`${provider.name}: ${(e as Error).message}`);
        }
      }
      blocks.push(parts.join("\n"));
    }
    if (errors.length > 0) {
      blocks.push(
        [heading("Status render errors", style), ...errors.map((e) => style.error(`  ${e}`))].join(
          "\n",
        ),
      );
    }
    return blocks.join("\n\n") + "\n";
  }

  async #collect(section?: string) {
    const providers = this.#providers
      .filter((p) => section === undefined || p.section === section)
      .sort((a, b) => a.name.localeCompare(b.name));
    return await Promise.all(providers.map(async (provider) => {
      try {
        return { provider, data: await provider.data(), error: null };
      } catch (e) {
        return { provider, data: null, error: (e as Error).message };
      }
    }));
  }

  #headerJson(): StatusData {
    const h = this.#header;
    return {
      version: h.version,
      ...(h.commit === undefined ? {} : { commit: h.commit }),
      ...(h.buildDate === undefined ? {} : { build_date: h.buildDate }),
      ...(h.agentVersion === undefined ? {} : { datadog_agent_version: h.agentVersion }),
      flavor: h.flavor,
      conf_file: h.confFile ?? "",
      pid: h.pid,
      runtime: h.runtime,
      runtime_version: h.runtimeVersion,
      build_arch: h.buildArch,
      agent_start_nano: h.startMs * 1e6,
      time_nano: this.#now() * 1e6,
      config: { log_file: h.logFile, log_level: h.logLevel },
    };
  }

  #headerText(style: Style): string {
    const h = this.#header;
    return [
      heading(`Outpost (v${h.version})`, style),
      lines([
        ["Status date", formatTime(this.#now())],
        ["Agent start", formatTime(h.startMs)],
        ["Pid", h.pid],
        ["Commit", h.commit],
        ["Build date", h.buildDate === "" ? "(from source)" : h.buildDate],
        ["Datadog Agent version sent", h.agentVersion],
        ["Runtime", `${h.runtime} ${h.runtimeVersion}`],
        ["Build arch", h.buildArch],
        ["Agent flavor", h.flavor],
        ["Log File", h.logFile || "(none: console only)"],
        ["Log Level", h.logLevel],
      ]),
      "",
      heading("Paths", style, "  "),
      h.confFile ? lines([["Config File", h.confFile]], "    ") : "    There is no config file",
    ].join("\n");
  }
}

/** `YYYY-MM-DD HH:MM:SS.mmm UTC (<unix ms>)`, as the Datadog Agent prints dates. */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().replace("T", " ").replace("Z", "")} UTC (${ms})`;
}

function titleCase(s: string): string {
  return s.replace(/(^|[\s_-])(\w)/g, (_m, sep, c) => `${sep === "" ? "" : " "}${c.toUpperCase()}`);
}
