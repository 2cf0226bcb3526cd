/**
 * What this build is. `scripts/build.ts` bakes the values into the compiled binary with
 * `--define`; running from source, they come from package.json and the host.
 *
 * @module
 */
import { arch, platform } from "node:os";
import pkg from "../package.json" with { type: "json" };

declare const OUTPOST_VERSION: string | undefined;
declare const OUTPOST_COMMIT: string | undefined;
declare const OUTPOST_TARGET: string | undefined;
declare const OUTPOST_BROKEN: string | undefined;

/** Version, commit and target of the running build. */
export const BUILD = {
  version: typeof OUTPOST_VERSION === "string" ? OUTPOST_VERSION : pkg.version,
  commit: typeof OUTPOST_COMMIT === "string" ? OUTPOST_COMMIT : "none",
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
