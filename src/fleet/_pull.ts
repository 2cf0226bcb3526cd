/**
 * Pull mode: the daemon polls `fleet.catalog_url`, accepts the document only if it passes the
 * catalog checks (and the signature when `fleet.catalog_public_key` is set), then moves each
 * package listed under `desired` towards its desired state:
 *
 * - `{"version":"X"}` (stable X): nothing when X is stable; promote when X is the running
 *   experiment and its watch has passed; otherwise stop any experiment and install X.
 * - `{"version":"X","experiment":true}`: start X as the experiment unless it is already stable
 *   or running, or it was rolled back automatically before (a bad version is not retried until
 *   the document names another one).
 *
 * @module
 */
import { directFetch, type HttpClient } from "../http/mod.ts";
import type { Logger } from "../log/mod.ts";
import type { Catalog } from "./_catalog.ts";
import { catalogTooLarge, type Installer } from "./_installer.ts";
import { readCapped } from "./_fsutil.ts";
import { FleetError } from "./_errors.ts";

/** Options of {@linkcode startPuller}. */
export interface PullOptions {
  installer: Installer;
  url: string;
  intervalMs: number;
  logger: Logger;
  /** How the catalog is fetched: an `HttpClient`'s fetch (proxy, CA). @default a direct fetch */
  fetch?: HttpClient["fetch"];
}

/** Polls now and then every `intervalMs`; `stop()` ends it. */
export function startPuller(o: PullOptions): { stop(): void; poll(): Promise<void> } {
  const log = o.logger.for("fleet-pull");
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const poll = async () => {
    try {
      const res = await (o.fetch ?? directFetch)(o.url, {
        headers: { Accept: "application/json" },
      });
      if (!res.ok) {
        await res.body?.cancel();
        throw new Error(`GET ${o.url} answered ${res.status}`);
      }
      const max = o.installer.maxCatalogBytes;
      const text = new TextDecoder().decode(
        await readCapped(
          res.body,
          max,
          () => o.installer.refused(`Refused a catalog from ${o.url}`, catalogTooLarge(max)),
        ),
      );
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error("the body is not valid JSON");
      }
      const catalog = await o.installer.setCatalog(body, o.url);
      await applyDesired(o.installer, catalog, log);
    } catch (e) {
      // The installer has logged and counted its own refusals already.
      if (!(e instanceof FleetError)) {
        log.warn(`Cannot apply the catalog from ${o.url}: ${(e as Error).message}`);
      }
    }
  };
  const loop = async () => {
    await poll();
    if (!stopped) timer = setTimeout(loop, o.intervalMs);
  };
  void loop();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    poll,
  };
}

/** Takes one step per package towards the catalog's `desired` state. */
export async function applyDesired(
  installer: Installer,
  catalog: Catalog,
  log: ReturnType<Logger["for"]>,
): Promise<void> {
  for (const [pkg, want] of Object.entries(catalog.desired ?? {})) {
    try {
      const { stable, experiment } = installer.repository(pkg).slots();
      const st = installer.packageState(pkg);
      if (!want.experiment) {
        if (stable === want.version) {
          if (experiment !== null) await installer.stopExperiment(pkg);
        } else if (experiment === want.version) {
          if (st.watch?.state === "passed") await installer.promote(pkg);
        } else {
          if (experiment !== null) await installer.stopExperiment(pkg);
          await installer.install(pkg, want.version);
        }
        continue;
      }
      if (stable === null) {
        log.warn(
          `Cannot start the experiment ${pkg} ${want.version}: no stable version is installed`,
        );
      } else if (stable !== want.version && experiment !== want.version) {
        if (st.failed_versions?.includes(want.version)) {
          log.debug(`${pkg} ${want.version} was rolled back before; not retrying it`);
          continue;
        }
        if (experiment !== null) await installer.stopExperiment(pkg);
        await installer.startExperiment(pkg, want.version);
      }
    } catch (e) {
      if (!(e instanceof FleetError)) {
        log.warn(`Cannot move ${pkg} to ${want.version}: ${(e as Error).message}`);
      }
    }
  }
}
