/**
 * What goes into a flare: one provider per file or group of files. Parts owned by other
 * components (status, expvars, metadata, health, forwarder queue, fleet state) arrive as
 * optional functions in {@linkcode FlareSources}; an absent one is recorded as a skip.
 *
 * @module
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { stringify as stringifyYaml } from "yaml";
import type { Config } from "../config/mod.ts";
import { scrubbedEnvLines, scrubObject } from "../config/scrub.ts";
import { type FlareProvider, FlareSkip, type FlareWriter } from "./_builder.ts";

type Maybe<T> = T | Promise<T>;

/**
 * The flare's inputs from other components. Each returns text (written as is, then scrubbed)
 * or a value (serialized as the file's format asks, then scrubbed).
 */
export interface FlareSources {
  /** The verbose status page → `status.log`. */
  statusText?: () => Maybe<string>;
  /** The status as JSON → `status.json`. */
  statusJson?: () => Maybe<unknown>;
  /** Every expvar variable by name → `expvar/<name>`. */
  expvars?: () => Maybe<Record<string, unknown>>;
  /** The host metadata (v5) payload → `metadata_v5.json`. */
  hostMetadata?: () => Maybe<unknown>;
  /** Component health → `health.yaml`. */
  healthYaml?: () => Maybe<unknown>;
  /** The verbose `outpost configcheck` text → `config-check.log`. */
  configCheck?: () => Maybe<string>;
  /** The forwarder's retry queue summary → `forwarder_queue.json`. */
  forwarderQueueSummary?: () => Maybe<unknown>;
  /** The fleet state, or null when this host is not fleet-managed → `fleet_state.json`. */
  fleetState?: () => Maybe<unknown | null>;
}

/** What the providers read from. */
export interface FlareContext {
  config: Config;
  /** The config file in use, or null. */
  configFile: string | null;
  /** Check configs. @default `confd_path`, else `conf.d` beside the config file */
  confdPath?: string;
  /** The process environment, for `envvars.log`; its secret values are masked everywhere. */
  env: Record<string, string | undefined>;
  /** The API's auth token, masked wherever it appears (a heap snapshot holds it). */
  authToken?: string;
  sources: FlareSources;
}

/** The providers in the order they run. */
export function flareProviders(ctx: FlareContext): FlareProvider[] {
  const { sources: s } = ctx;
  return [
    { name: "config", run: (w) => configFile(w, ctx) },
    { name: "confd", run: (w) => confd(w, ctx) },
    {
      name: "runtime_config_dump",
      run: (w) => w.add("runtime_config_dump.yaml", stringifyYaml(ctx.config)),
    },
    fromSource("status.log", s.statusText, text),
    fromSource("status.json", s.statusJson, json),
    {
      name: "expvar",
      async run(w) {
        if (!s.expvars) throw new FlareSkip("no expvar source in this process");
        const vars = Object.entries(await s.expvars());
        if (vars.length === 0) throw new FlareSkip("no expvar variable is published");
        for (const [k, v] of vars) {
          w.add(`expvar/${k.replace(/[^\w.-]/g, "_")}`, stringifyYaml(scrubObject(v)));
        }
      },
    },
    fromSource("metadata_v5.json", s.hostMetadata, json),
    fromSource("health.yaml", s.healthYaml, yaml),
    fromSource("config-check.log", s.configCheck, text),
    { name: "envvars", run: (w) => envvars(w, ctx.env) },
    {
      name: "version-history",
      run: (w) => hostFile(w, join(ctx.config.run_path, "version-history.json")),
    },
    {
      name: "install_info",
      run: (w) => {
        if (!ctx.configFile) throw new FlareSkip("no config file, so no install_info beside it");
        hostFile(w, join(dirname(ctx.configFile), "install_info"));
      },
    },
    fromSource("forwarder_queue.json", s.forwarderQueueSummary, json),
    {
      name: "fleet_state.json",
      async run(w) {
        if (!s.fleetState) throw new FlareSkip("no fleet source in this process");
        const state = await s.fleetState();
        if (state === null || state === undefined) {
          throw new FlareSkip("this host has no fleet state");
        }
        w.add("fleet_state.json", json(state));
      },
    },
    { name: "logs", run: (w) => logs(w, ctx.config) },
  ];
}

const text = (x: unknown) => String(x);
const json = (x: unknown) => typeof x === "string" ? x : JSON.stringify(x, null, 2);
const yaml = (x: unknown) => typeof x === "string" ? x : stringifyYaml(x);

function fromSource(
  file: string,
  source: (() => Maybe<unknown>) | undefined,
  format: (x: unknown) => string,
): FlareProvider {
  return {
    name: file,
    async run(w) {
      if (!source) throw new FlareSkip(`no source for ${file} in this process`);
      w.add(file, format(await source()));
    },
  };
}

function configFile(w: FlareWriter, ctx: FlareContext): void {
  if (!ctx.configFile) throw new FlareSkip("no config file in use");
  w.copy(ctx.configFile, "etc/datadog.yaml");
}

function confd(w: FlareWriter, ctx: FlareContext): void {
  const dir = ctx.confdPath ??
    (ctx.config.confd_path || (ctx.configFile ? join(dirname(ctx.configFile), "conf.d") : null));
  if (!dir || !existsSync(dir)) {
    throw new FlareSkip(`no conf.d directory${dir ? ` at ${dir}` : ""}`);
  }
  let n = 0;
  for (const file of readdirSync(dir, { recursive: true }) as string[]) {
    const full = join(dir, file);
    // `.example` files are templates, not config in use.
    if (!/\.ya?ml$/i.test(file) || !statSync(full).isFile()) continue;
    w.copy(full, join("etc/confd", relative(dir, full)));
    n++;
  }
  w.log(`confd: ${n} file(s) from ${dir}`);
}

function envvars(w: FlareWriter, env: Record<string, string | undefined>): void {
  const lines = scrubbedEnvLines(env);
  if (lines.length === 0) throw new FlareSkip("no DD_* or proxy variables set");
  w.add("envvars.log", lines.join("\n") + "\n");
}

function hostFile(w: FlareWriter, path: string): void {
  if (!existsSync(path)) throw new FlareSkip(`${path} does not exist`);
  w.copy(path, basename(path));
}

/** `x.log` → 0, `x.log.3` → 3: the logger's rolls grow older with their number. */
function rollNumber(name: string): number {
  const m = /\.(\d+)$/.exec(name);
  return m ? Number(m[1]) : 0;
}

/** The log file and its rolls, newest first, within `flare_logs_max_size` bytes in total. */
function logs(w: FlareWriter, config: Config): void {
  if (!config.log_file) throw new FlareSkip("no log_file configured");
  const dir = dirname(config.log_file);
  const base = basename(config.log_file);
  const roll = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\.\\d+)?$`);
  const files = existsSync(dir)
    ? readdirSync(dir).filter((f) => roll.test(f)).map((f) => {
      const path = join(dir, f);
      return { name: f, path, stat: statSync(path) };
    }).sort((a, b) => rollNumber(a.name) - rollNumber(b.name))
    : [];
  if (files.length === 0) throw new FlareSkip(`no log file at ${config.log_file}`);
  let budget = config.flare_logs_max_size;
  w.log(`logs: ${files.length} file(s), size cap ${budget} bytes (flare_logs_max_size)`);
  for (const f of files) {
    if (budget <= 0) {
      w.log(`logs: left out ${f.path} (${f.stat.size} bytes): size cap reached`);
      continue;
    }
    const take = Math.min(budget, f.stat.size);
    if (take < f.stat.size) {
      w.log(`logs: kept the last ${take} of ${f.stat.size} bytes of ${f.path}: size cap reached`);
    }
    w.copy(f.path, `logs/${f.name}`, readTail(f.path, take));
    budget -= take;
  }
}

/**
 * The last `bytes` of the file, from the first whole line: a line cut at its start can have
 * lost the key that tells the scrubber its value is a secret.
 */
function readTail(path: string, bytes: number): string {
  const fd = openSync(path, "r");
  try {
    const size = statSync(path).size;
    const buf = new Uint8Array(Math.min(bytes, size));
    readSync(fd, buf, 0, buf.length, size - buf.length);
    const text = new TextDecoder().decode(buf);
    return buf.length === size ? text : text.slice(text.indexOf("\n") + 1);
  } finally {
    closeSync(fd);
  }
}
