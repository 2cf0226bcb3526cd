/** Keys of the checks subsystem: where configs and custom checks live, the runner, Python. */
import { bool, DAY, int, path, seconds } from "../_kinds.ts";

export const checksKeys = {
  /** Integration configs (`<name>.d/conf.yaml`); `""` is `conf.d` beside the config file. */
  confd_path: path(""),
  /** Custom check code (`<name>.ts|.js|.py`); `""` is `checks.d` beside the config file. */
  additional_checksd: path(""),
  /** Checks that may run at once; 0 picks a number from how many checks are scheduled. */
  check_runners: int(4, 0, 100),
  /** A run longer than this is cancelled and counted as an error; 0 never (as the Datadog Agent). */
  check_run_timeout: seconds(0, 0, DAY),
  /** Send `datadog.agent.check_status` after each run. */
  integration_check_status_enabled: bool(false),
  /** `/proc` of the host the system checks read (a container mounts the host's elsewhere). */
  procfs_path: path("/proc", { optional: false }),
  /** The python3 that runs Python checks, with `datadog-checks-base` importable. */
  python_binary: path("python3", { optional: false }),
  /** Measure each Python check run's allocations (tracemalloc); forces one runner. */
  tracemalloc_debug: bool(false),
  /** Skip the load-time byte-compile of custom Python checks. */
  disable_py3_validation: bool(false),
};
