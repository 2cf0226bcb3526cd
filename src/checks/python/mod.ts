/**
 * Python checks: the loader (key `python`, priority 20) that runs unmodified
 * `datadog-checks-base` checks (`datadog_checks.<name>` wheels and `checks.d/<name>.py`) in one
 * long-lived `python3` child, the pyrunner, talking JSON Lines over its stdin and stdout.
 *
 * @example Wire the loader into the collector
 * ```ts ignore
 * import { createPythonLoader } from "./mod.ts";
 * const python = createPythonLoader({
 *   sysPath: [],
 *   onPy3Validated: (name) => console.log(`${name}: python3`),
 * });
 * // loaders: [createJsLoader(), python, createSystemLoader()]
 * ```
 *
 * @module
 */
export {
  createPythonLoader,
  PYTHON_LOADER_NAME,
  type PythonLoader,
  type PythonLoaderOptions,
} from "./_loader.ts";
