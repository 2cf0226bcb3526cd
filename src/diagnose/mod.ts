/**
 * Diagnosis of the agent's outbound path, as `outpost diagnose` runs it: intake connectivity
 * and API key validation per endpoint and pipeline, the proxy and TLS in use, clock skew, and
 * the free disk of `run_path`.
 *
 * @module
 */
export {
  diagnose,
  type Diagnosis,
  type DiskCheck,
  type EndpointCheck,
  MAX_CLOCK_SKEW_S,
  renderDiagnosis,
} from "./_diagnose.ts";
