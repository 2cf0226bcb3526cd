/**
 * Fleet: the package repository with stable and experiment slots, catalogs (optionally
 * signed), verified downloads from OCI registries, OCI layouts and HTTP, safe unpacking, the
 * local API on a unix socket, the supervisor that runs and rolls back the agent, and pull mode.
 *
 * @module
 */
export { type Daemon, type DaemonContext, socketPath, startDaemon } from "./_daemon.ts";
export { createFleetApi } from "./_api.ts";
export {
  type ChangeEvent,
  Installer,
  type InstallerOptions,
  type InstallerStatus,
} from "./_installer.ts";
export { checkPackageName, checkVersionName, Repository, type Slots } from "./_repository.ts";
export {
  type Catalog,
  type CatalogEntry,
  catalogSchema,
  parseCatalog,
  verifySignature,
} from "./_catalog.ts";
export { checkDiskSpace, type DownloadOptions, fetchPackage } from "./_download.ts";
export { unpackTarSafely } from "./_unpack.ts";
export { Supervisor, type SupervisorOptions } from "./_supervisor.ts";
export { SystemdSupervisor, type SystemdSupervisorOptions, UNITS } from "./_systemd.ts";
export { applyDesired, startPuller } from "./_pull.ts";
export { FLEET_ERROR_STATUS, FleetError, type FleetErrorCode } from "./_errors.ts";
export { STATE_FORMAT_VERSION } from "./_state.ts";
