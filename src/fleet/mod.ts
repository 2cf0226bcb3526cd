/**
 * Fleet: the package repository with stable and experiment slots, catalogs (optionally
 * signed), verified downloads from OCI registries, OCI layouts and HTTP, safe unpacking, the
 * local API on a unix socket, the supervisor that runs and rolls back the agent, and pull mode.
 *
 * @module
 */
export { type Daemon, type DaemonContext, socketPath, startDaemon } from "./daemon.ts";
export { createFleetApi } from "./api.ts";
export {
  type ChangeEvent,
  Installer,
  type InstallerOptions,
  type InstallerStatus,
} from "./installer.ts";
export { checkPackageName, checkVersionName, Repository, type Slots } from "./repository.ts";
export {
  type Catalog,
  type CatalogEntry,
  catalogSchema,
  parseCatalog,
  verifySignature,
} from "./catalog.ts";
export { checkDiskSpace, type DownloadOptions, fetchPackage } from "./download.ts";
export { unpackTarSafely } from "./unpack.ts";
export { Supervisor, type SupervisorOptions } from "./supervisor.ts";
export { SystemdSupervisor, type SystemdSupervisorOptions, UNITS } from "./systemd.ts";
export { applyDesired, startPuller } from "./pull.ts";
export { FLEET_ERROR_STATUS, FleetError, type FleetErrorCode } from "./errors.ts";
export { STATE_FORMAT_VERSION } from "./state.ts";
