/**
 * The AWS Lambda extension mode: the same binary registers with the Extensions API, flushes
 * per invocation and stops on SHUTDOWN.
 *
 * @module
 */
export { EXTENSIONS_DIR, isLambdaExtension, type LambdaEnv } from "./detect/mod.ts";
export {
  lambdaAgentConfig,
  type LambdaSettings,
  lambdaSettings,
  MANAGED_FLUSH_INTERVAL_MS,
  MANAGED_INSTANCES,
  MANAGED_TELEMETRY_SCHEMA,
} from "./_settings.ts";
export {
  EVENTS,
  type ExtensionEvent,
  ExtensionsClient,
  type InvokeEvent,
  MANAGED_INSTANCE_EVENTS,
  type Registration,
  type ShutdownEvent,
} from "./_extensions_api.ts";
export {
  boundedFlush,
  DEADLINE_MARGIN_MS,
  type Flush,
  FLUSH_TIMEOUT_MS,
  flushBudget,
  InvocationDone,
  type LoopOptions,
  type LoopStats,
  MISSED_ENDS_TOLERATED,
  newLoopStats,
  runInvocationLoop,
  runManagedLoop,
  STOP_RESERVE_MS,
} from "./_loop.ts";
export { type Daemon, MAX_LIFECYCLE_BODY, startDaemon } from "./_daemon.ts";
export {
  type ContextHeaders,
  Lifecycle,
  type LifecycleOptions,
  type SpanSink,
} from "./_lifecycle.ts";
export { contextFromHeaders, readTrigger, type TraceContext, type Trigger } from "./_trigger.ts";
export {
  ADAPTIVE_CONTINUOUS_SPAN_MS,
  ADAPTIVE_FREQUENT_MS,
  ADAPTIVE_MIN_INVOCATIONS,
  ADAPTIVE_PERIOD_MS,
  ADAPTIVE_RACE_MS,
  DEFAULT_PERIOD_MS,
  type FlushDecision,
  FlushPlanner,
  type FlushStrategy,
  MAX_BACKOFF_MS,
  parseFlushStrategy,
  strategyName,
} from "./_strategy.ts";
export { agentFlush } from "./_flush.ts";
export {
  type ExtensionContext,
  LAST_REPORT_WAIT_MS,
  runExtension,
  SHUTDOWN_BUDGET_MS,
} from "./_extension.ts";
export { type LambdaState, STATE_FILE_NAME, StateFile } from "./_state.ts";
export {
  RESOLVE_TIMEOUT_MS,
  type ResolvedSecrets,
  resolveSecrets,
  type SecretRef,
  secretRefs,
} from "./_apikey.ts";
