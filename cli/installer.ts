import { readFileSync } from "node:fs";
import { type Command, UsageError } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import { createLogger } from "../src/log/mod.ts";
import { type InstallerStatus, socketPath, startDaemon } from "../src/fleet/mod.ts";

const USAGE = [
  "outpost installer SUBCOMMAND [-c FILE] [--socket PATH] [--json]",
  "",
  "  status                           show packages, experiments and the last task",
  "  install PACKAGE [VERSION]        install a catalog version as stable (default: the latest)",
  "  remove PACKAGE                   remove a package",
  "  experiment start PACKAGE VERSION start VERSION as an experiment",
  "  experiment stop PACKAGE          stop the experiment, back to stable",
  "  experiment promote PACKAGE       make the experiment stable",
  "  catalog FILE                     set the catalog (JSON, plain or signed; - reads stdin)",
  "  daemon                           run the fleet daemon: local API, agent supervisor, pull mode",
  "",
  "  -c, --config FILE   config file (run_path locates the socket)",
  "  --socket PATH       the local API socket (default: <run_path>/installer.sock)",
  "  --json              print the API's JSON answer",
].join("\n");

export const installer: Command = {
  name: "installer",
  usage: USAGE,
  flags: { ...CONFIG_FLAG, socket: { type: "string" }, json: { type: "boolean" } },
  positionals: true,
  async main(values, positionals) {
    const [sub, ...args] = positionals;
    if (sub === undefined) throw new UsageError("Missing subcommand");
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    if (sub === "daemon") return await daemon(loaded.config, loaded.file);

    const socket = (values.socket as string | undefined) ?? socketPath(loaded.config.run_path);
    const json = values.json === true;
    const need = (n: number, what: string) => {
      if (args.length !== n) throw new UsageError(`"installer ${sub}" expects ${what}`);
    };
    let route: { method: string; path: string; body?: unknown; done: string };
    switch (sub) {
      case "status":
        need(0, "no arguments");
        route = { method: "GET", path: "/status", done: "" };
        break;
      case "install":
        if (args.length < 1 || args.length > 2) {
          throw new UsageError(`"installer install" expects PACKAGE [VERSION]`);
        }
        route = {
          method: "POST",
          path: `/${enc(args[0])}/install`,
          body: args[1] ? { version: args[1] } : {},
          done: `Installed ${args[0]}${args[1] ? ` ${args[1]}` : ""}`,
        };
        break;
      case "remove":
        need(1, "PACKAGE");
        route = {
          method: "POST",
          path: `/${enc(args[0])}/remove`,
          body: {},
          done: `Removed ${args[0]}`,
        };
        break;
      case "experiment": {
        const [action, pkg, version] = args;
        if (action === "start") {
          if (!pkg || !version || args.length !== 3) {
            throw new UsageError(`"installer experiment start" expects PACKAGE VERSION`);
          }
          route = {
            method: "POST",
            path: `/${enc(pkg)}/experiment/start`,
            body: { version },
            done: `Started the experiment ${pkg} ${version}`,
          };
        } else if (action === "stop" || action === "promote") {
          if (!pkg || args.length !== 2) {
            throw new UsageError(`"installer experiment ${action}" expects PACKAGE`);
          }
          route = {
            method: "POST",
            path: `/${enc(pkg)}/experiment/${action}`,
            body: {},
            done: action === "stop"
              ? `Stopped the experiment of ${pkg}`
              : `Promoted the experiment of ${pkg}`,
          };
        } else throw new UsageError(`"installer experiment" expects start, stop or promote`);
        break;
      }
      case "catalog": {
        need(1, "FILE");
        const text = readFileSync(args[0] === "-" ? 0 : args[0], "utf8");
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (e) {
          console.error(`Cannot parse ${args[0]}: ${(e as Error).message}`);
          return 1;
        }
        route = { method: "POST", path: "/catalog", body, done: "Catalog set" };
        break;
      }
      default:
        throw new UsageError(`Unknown subcommand "${sub}"`);
    }

    let res: Response;
    try {
      res = await runtime.fetchUnix(
        socket,
        new Request(`http://fleet${route.path}`, {
          method: route.method,
          headers: { "Content-Type": "application/json" },
          body: route.body === undefined ? undefined : JSON.stringify(route.body),
        }),
      );
    } catch (e) {
      console.error(
        `Cannot reach the fleet daemon on ${socket}: ${
          (e as Error).message
        } (is "outpost installer daemon" running?)`,
      );
      return 1;
    }
    const answer = await res.json().catch(() => ({})) as Record<string, any>;
    if (json) console.log(JSON.stringify(answer, null, 2));
    if (!res.ok) {
      if (!json) console.error(`Error (${res.status}): ${answer.error?.message ?? res.statusText}`);
      return 1;
    }
    if (!json) console.log(sub === "status" ? renderStatus(answer as InstallerStatus) : route.done);
    return 0;
  },
};

function enc(s: string): string {
  return encodeURIComponent(s);
}

/** `/status` as text. */
export function renderStatus(s: InstallerStatus): string {
  const free = s.available_disk_space === null
    ? "unknown"
    : `${(s.available_disk_space / 1024 ** 3).toFixed(1)} GiB`;
  const lines = [
    `Fleet installer — catalog ${s.catalog_version ?? "none"}, ${s.platform}, ${free} free`,
  ];
  // Older daemons answer without the field.
  const refused = Object.entries(s.refused ?? {}).map(([code, n]) => `${code} ${n}`);
  if (refused.length > 0) lines.push(`Refused since start: ${refused.join(", ")}`);
  const names = Object.keys(s.packages);
  if (names.length === 0) lines.push("", "No packages installed.");
  for (const name of names) {
    const p = s.packages[name];
    lines.push("", name);
    lines.push(`  stable:      ${p.stable_version ?? "(not installed)"}`);
    if (p.experiment_version) {
      lines.push(
        `  experiment:  ${p.experiment_version} (since ${p.experiment_started_at ?? "?"}, ${
          p.watch?.state ?? "starting"
        })`,
      );
    } else lines.push("  experiment:  none");
    const t = p.task;
    if ("method" in t) {
      lines.push(
        `  last task:   ${t.method}${t.version ? ` ${t.version}` : ""}: ${t.state}${
          t.error ? ` (${t.error.message})` : ""
        }`,
      );
    } else lines.push("  last task:   idle");
    if (p.rollback) {
      lines.push(`  rollback:    ${p.rollback.version} at ${p.rollback.at}: ${p.rollback.reason}`);
    }
  }
  return lines.join("\n");
}

async function daemon(
  config: import("../src/config/mod.ts").Config,
  file: string | null,
): Promise<number> {
  const logger = createLogger({
    level: config.log_level,
    file: config.log_file,
    maxSize: config.log_file_max_size,
    maxRolls: config.log_file_max_rolls,
    console: config.log_to_console,
  });
  const log = logger.for("installer");
  const tty = process.stderr.isTTY === true;
  const progress = tty
    ? (done: number, total: number) => {
      const mb = (n: number) => (n / 1024 ** 2).toFixed(1);
      const pct = total > 0 ? ` ${Math.floor((100 * done) / total)}%` : "";
      process.stderr.write(
        `\rDownloading${pct} ${mb(done)}${total > 0 ? `/${mb(total)}` : ""} MiB`,
      );
      if (total > 0 && done >= total) process.stderr.write("\n");
    }
    : undefined;
  let d;
  try {
    d = await startDaemon({ runtime, config, configFile: file, logger, progress });
  } catch (e) {
    log.error(`Cannot start the fleet daemon: ${(e as Error).message}`);
    return 1;
  }
  const { promise: stopped, resolve } = Promise.withResolvers<void>();
  const offs = (["SIGTERM", "SIGINT"] as const).map((s) =>
    runtime.onSignal(s, () => {
      log.info(`Received ${s}, stopping`);
      resolve();
    })
  );
  await stopped;
  await d.stop();
  for (const off of offs) off();
  return 0;
}
