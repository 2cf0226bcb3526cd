/**
 * The JS Check Loader: finds `checks.d/<name>.{ts,mts,js,mjs}`, imports it at run time and
 * wraps one instance of its default-exported class as a {@linkcode Check}.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  type Check,
  type CheckConfig,
  type CheckHost,
  DEFAULT_CHECK_INTERVAL_S,
  type InstanceConfig,
  type Loader,
} from "../_types.ts";
import * as api from "./agent_check.ts";
import { type AgentApi, AgentCheck, type CheckContext, HOST_BINDING } from "./agent_check.ts";
import { JsCheck } from "./_check.ts";

/** The extensions tried for `<name>`, in order. */
export const JS_CHECK_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"] as const;

/** The module specifier checks import the base class from. */
export const CHECKS_MODULE = "outpost:checks";

const LOADER_NAME = "JS Check Loader";

/** The JS loader, with what a reload needs to notice an edited check file. */
export interface JsLoader extends Loader {
  /**
   * Where the code of check `name` is and which version of it: `<path> <mtime ms>-<size>`, or
   * null when no checks.d directory has it. A collector that puts this in its "changed?" key
   * reloads a check whose file was edited even when its config was not.
   */
  codeStamp(name: string, host: CheckHost): string | null;
}

/**
 * The loader of JS/TS custom checks: key `js`, priority 10 (tried before Python and built-ins).
 *
 * @example Loading a check from a checks.d directory
 * ```ts ignore
 * const loader = createJsLoader();
 * const check = await loader.load(config, config.instances[0], host); // null: no such file
 * const result = await check?.run(new AbortController().signal);
 * ```
 */
export function createJsLoader(): JsLoader {
  return {
    name: LOADER_NAME,
    key: "js",
    priority: 10,
    load,
    codeStamp(name, host) {
      const path = findCheckFile(name, host.checksdPaths);
      return path ? `${path} ${stampOf(path)}` : null;
    },
  };
}

/** mtime and size: an edit changes one of them even on file systems with coarse mtimes. */
function stampOf(path: string): string {
  const { mtimeMs, size } = statSync(path);
  return `${Math.trunc(mtimeMs)}-${size}`;
}

async function load(
  config: CheckConfig,
  instance: InstanceConfig,
  host: CheckHost,
): Promise<Check | null> {
  const path = findCheckFile(config.name, host.checksdPaths);
  if (!path) return null;
  provideBaseClass(host);
  const mod = await importCheck(config.name, path);
  const Class = mod.default as (new (ctx: CheckContext) => AgentCheck) | undefined;
  if (typeof Class !== "function" || typeof Class.prototype?.check !== "function") {
    throw new Error(
      `Cannot load JS check "${config.name}" from ${path}: its default export must be a class extending AgentCheck`,
    );
  }
  const version = typeof mod.version === "string" ? mod.version : "unversioned";
  const check = new JsCheck({
    name: config.name,
    id: instance.id,
    version,
    source: config.source,
    intervalS: instance.minCollectionInterval ?? DEFAULT_CHECK_INTERVAL_S,
    loader: LOADER_NAME,
    host,
  });
  const ctx: CheckContext = {
    name: config.name,
    initConfig: deepFreeze(structuredClone(config.initConfig)),
    instance: deepFreeze(structuredClone(instance.raw)),
    checkId: instance.id,
    agent: agentApi(config.name, host, () => check.signal),
  };
  Object.defineProperty(ctx, HOST_BINDING, { value: check.binding, enumerable: false });
  let object: AgentCheck;
  try {
    object = new Class(ctx);
  } catch (err) {
    throw new Error(
      `Cannot load JS check "${config.name}": its constructor failed: ${messageOf(err)}`,
      { cause: err },
    );
  }
  check.attach(object, ctx.instance);
  return check;
}

/** The first `<dir>/<name><ext>` that exists, directories and extensions in order. */
export function findCheckFile(name: string, dirs: readonly string[]): string | null {
  for (const dir of dirs) {
    for (const ext of JS_CHECK_EXTENSIONS) {
      const path = join(dir, name + ext);
      if (existsSync(path)) return path;
    }
  }
  return null;
}

/** Undefined until the first load; then whether `outpost:checks` resolves on this runtime. */
let virtualModule: boolean | undefined;

/** Makes `outpost:checks` (where the runtime can) and the global `AgentCheck` resolve to ours. */
function provideBaseClass(host: CheckHost): void {
  if (virtualModule !== undefined) return;
  virtualModule = host.runtime.registerVirtualModule(CHECKS_MODULE, { ...api });
  const g = globalThis as Record<string, unknown>;
  g.AgentCheck ??= AgentCheck;
}

/**
 * Imports the file. Both runtimes key their module cache by the full specifier, query
 * included, when it is a plain path (Bun ignores the query of a `file:` URL), so the file's
 * mtime and size in a query make an edited file evaluate again and an unchanged one hit the
 * cache. Modules the check imports itself are not reloaded.
 */
async function importCheck(name: string, path: string): Promise<Record<string, unknown>> {
  try {
    return await import(`${path}?mtime=${stampOf(path)}`);
  } catch (err) {
    const message = messageOf(err);
    const hint = !virtualModule && message.includes(CHECKS_MODULE)
      ? ` (this runtime cannot provide "${CHECKS_MODULE}": use the global AgentCheck instead)`
      : "";
    throw new Error(`Cannot import JS check "${name}" from ${path}: ${message}${hint}`, {
      cause: err,
    });
  }
}

const LEVELS = new Set(["trace", "debug", "info", "warn", "error", "critical"]);

function agentApi(name: string, host: CheckHost, signal: () => AbortSignal): AgentApi {
  const log = host.log(name);
  const userAgent = `Datadog Agent/${host.agentVersion}`;
  return Object.freeze({
    version: host.agentVersion,
    hostname: host.hostname,
    getConfig(key: string): unknown {
      const value = (host.config as Record<string, unknown>)[key];
      return value === undefined ? undefined : structuredClone(value);
    },
    log(level: string, message: string): void {
      const l = level === "warning" ? "warn" : LEVELS.has(level) ? level : "info";
      log[l as "info"](String(message));
    },
    http(url: string | URL, init: RequestInit = {}): Promise<Response> {
      const headers = new Headers(init.headers);
      if (!headers.has("user-agent")) headers.set("User-Agent", userAgent);
      return host.http.fetch(url, { ...init, headers, signal: init.signal ?? signal() });
    },
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Bun reports a file that does not parse as an AggregateError of build messages.
  const parts = err instanceof AggregateError ? err.errors.map(buildMessage) : [];
  return parts.length ? `${err.message}: ${parts.join("; ")}` : err.message;
}

function buildMessage(e: { message?: string; position?: { line?: number; column?: number } }) {
  const at = e.position?.line ? ` (line ${e.position.line}, column ${e.position.column})` : "";
  return `${e.message ?? String(e)}${at}`;
}
