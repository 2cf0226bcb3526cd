/**
 * Fleet: the package repository with stable and experiment slots, catalogs (optionally
 * signed), verified downloads from OCI registries, OCI layouts and HTTP, safe unpacking, the
 * local API on a unix socket, the supervisor that runs and rolls back the agent, and pull mode.
 *
 * @module
 */
export { socketPath, startDaemon } from "./_daemon.ts";

export { type InstallerStatus } from "./_installer.ts";
