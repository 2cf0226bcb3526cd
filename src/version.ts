/**
 * What this build is. `scripts/build.ts` bakes the values into the compiled binary with
 * `--define`; running from source, they come from package.json and the host.
 *
 * Two versions, on purpose:
 * - `version` is outpost's own (package.json): `outpost version`, the status page, the fleet's
 *   install and rollback decisions, the version history in `run_path`.
 * - `agentVersion` is the Datadog Agent release whose payload formats, headers and check APIs
 *   outpost implements. Everything Datadog's backend reads carries it: `DD-Agent-Version`,
 *   `User-Agent: datadog-agent/<v>`, the versioned intake domain
 *   (`<major>-<minor>-<patch>-app.agent.<site>`), the flare's upload domain and form, host
 *   metadata, `datadog.agent.running`'s `version:` tag, and the trace agent's `/info`. A
 *   backend that gates a feature on the Agent version then sees a version that has it.
 *
 * @module
 */
import { arch, platform } from "node:os";
import pkg from "../package.json" with { type: "json" };

declare const OUTPOST_VERSION: string | undefined;
declare const OUTPOST_COMMIT: string | undefined;
declare const OUTPOST_TARGET: string | undefined;
declare const OUTPOST_BROKEN: string | undefined;
declare const OUTPOST_BUILD_DATE: string | undefined;

/**
 * The Datadog Agent release outpost speaks for (see the module doc). Raise it when outpost
 * implements what a newer release sends.
 */
export const DATADOG_AGENT_VERSION = "7.64.0";

/** Version, commit and target of the running build. */
export const BUILD = {
  version: typeof OUTPOST_VERSION === "string" ? OUTPOST_VERSION : pkg.version,
  commit: typeof OUTPOST_COMMIT === "string" ? OUTPOST_COMMIT : "none",
  /** ISO 8601 time of the build; "" when running from source. */
  buildDate: typeof OUTPOST_BUILD_DATE === "string" ? OUTPOST_BUILD_DATE : "",
  /** The Datadog Agent version sent to Datadog: {@linkcode DATADOG_AGENT_VERSION}. */
  agentVersion: DATADOG_AGENT_VERSION,
  target: typeof OUTPOST_TARGET === "string" ? OUTPOST_TARGET : `${platform()}-${arch()}`,
  /** A build made with `scripts/build.ts --broken`: `run` exits 1 at once (fleet rollback tests). */
  broken: typeof OUTPOST_BROKEN === "string" && OUTPOST_BROKEN === "1",
};

/** The version in the shape of the Datadog Agent's `/agent/version` answer. */
export function versionObject(): Record<string, string | number> {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:-([^+]+))?(?:\+(.+))?$/.exec(BUILD.version);
  return {
    Major: Number(m?.[1] ?? 0),
    Minor: Number(m?.[2] ?? 0),
    Patch: Number(m?.[3] ?? 0),
    Pre: m?.[4] ?? "",
    Meta: m?.[5] ?? "",
    Commit: BUILD.commit,
  };
}
