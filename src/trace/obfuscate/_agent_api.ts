/**
 * The obfuscation calls the Datadog Agent offers Python checks (`datadog_agent.obfuscate_sql`,
 * `obfuscate_mongodb_string`), with its JSON options and answers.
 */
import { obfuscateSql, type SqlOptions } from "./_sql.ts";
import { obfuscateJson } from "./_json.ts";

/** The JSON option names of `obfuscate_sql`, as the Agent's `SQLConfig` reads them. */
const BOOLEAN_OPTIONS: Record<string, keyof SqlOptions> = {
  table_names: "tableNames",
  collect_commands: "collectCommands",
  collect_comments: "collectComments",
  replace_digits: "replaceDigits",
  keep_sql_alias: "keepSqlAlias",
  dollar_quoted_func: "dollarQuotedFunc",
};

/**
 * `datadog_agent.obfuscate_sql(query, options)`: the obfuscated query, or with
 * `return_json_metadata` the JSON `{query, metadata: {size, tables_csv, commands, comments,
 * procedures}}` (empty lists as null, as Go marshals them). Throws on bad options or a query
 * that cannot be tokenized; the check sees a RuntimeError.
 *
 * @example
 * ```ts
 * import { obfuscateSqlForCheck } from "./_agent_api.ts";
 * console.assert(obfuscateSqlForCheck("SELECT 1", "") === "SELECT ?");
 * const json = JSON.parse(obfuscateSqlForCheck("SELECT * FROM t", '{"table_names": true, "return_json_metadata": true}'));
 * console.assert(json.metadata.tables_csv === "t");
 * ```
 */
export function obfuscateSqlForCheck(query: string, options: string): string {
  let raw: unknown;
  try {
    raw = JSON.parse(options.trim() === "" ? "{}" : options);
  } catch (e) {
    throw new Error(`failed to unmarshal obfuscation options: ${(e as Error).message}`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new Error("failed to unmarshal obfuscation options: expected a JSON object");
  }
  const o = raw as Record<string, unknown>;
  const opts: SqlOptions = {};
  if (o.dbms !== undefined) opts.dbms = String(o.dbms);
  for (const [name, key] of Object.entries(BOOLEAN_OPTIONS)) {
    if (o[name] === undefined) continue;
    if (typeof o[name] !== "boolean") {
      throw new Error(`failed to unmarshal obfuscation options: "${name}" must be a boolean`);
    }
    (opts as Record<string, unknown>)[key] = o[name];
  }
  const out = obfuscateSql(query, opts);
  if (o.return_json_metadata !== true) return out.query;
  const list = (xs: string[]) => (xs.length === 0 ? null : xs);
  return JSON.stringify({
    query: out.query,
    metadata: {
      size: out.metadata.size,
      tables_csv: out.metadata.tablesCSV,
      commands: list(out.metadata.commands),
      comments: list(out.metadata.comments),
      procedures: list(out.metadata.procedures),
    },
  });
}

/**
 * `datadog_agent.obfuscate_mongodb_string(command)`: every value of the JSON command becomes
 * `"?"`.
 */
export function obfuscateMongodbForCheck(command: string): string {
  return obfuscateJson(command);
}

/** Plan keys whose values hold SQL (MySQL `attached_condition`, PostgreSQL conditions). */
const PLAN_SQL_KEYS = new Set([
  "attached_condition",
  "Cache Key",
  "Conflict Arbiter Indexes",
  "Conflict Resolution",
  "Filter",
  "Hash Cond",
  "Index Cond",
  "Join Filter",
  "Merge Cond",
  "Recheck Cond",
  "Sampling Parameters",
  "TID Cond",
]);

/** Plan keys whose values say how the query ran, not what it read: kept (the Agent's list). */
const PLAN_KEEP_NORMALIZED = [
  "Actual Loops",
  "Actual Rows",
  "Actual Startup Time",
  "Actual Total Time",
  "Alias",
  "Async Capable",
  "Average Sort Space Used",
  "Cache Evictions",
  "Cache Hits",
  "Cache Misses",
  "Cache Overflows",
  "Command",
  "Conflicting Tuples",
  "Constraint Name",
  "CTE Name",
  "Custom Plan Provider",
  "Deforming",
  "Emission",
  "Exact Heap Blocks",
  "Execution Time",
  "Expressions",
  "Foreign Delete",
  "Foreign Insert",
  "Foreign Update",
  "Function Call",
  "Function Name",
  "Generation",
  "Group Count",
  "Grouping Sets",
  "Group Key",
  "HashAgg Batches",
  "Hash Buckets",
  "Hash Key",
  "Hash Keys",
  "Heap Fetches",
  "I/O Read Time",
  "I/O Write Time",
  "Incremental Sort Groups",
  "Index Name",
  "Inlining",
  "Join Type",
  "Local Dirtied Blocks",
  "Local Hit Blocks",
  "Local Read Blocks",
  "Local Written Blocks",
  "Lossy Heap Blocks",
  "Node Type",
  "Optimization",
  "Options",
  "Original Hash Batches",
  "Original Hash Buckets",
  "Parallel Aware",
  "Parent Relationship",
  "Partial Mode",
  "Peak Memory Usage",
  "Peak Sort Space Used",
  "Planned Partitions",
  "Planning Time",
  "Presorted Key",
  "Query Identifier",
  "Relation Name",
  "Repeatable Seed",
  "Rows Removed by Conflict Filter",
  "Rows Removed by Filter",
  "Rows Removed by Index Recheck",
  "Rows Removed by Join Filter",
  "Sampling Method",
  "Scan Direction",
  "Schema",
  "Settings",
  "Shared Dirtied Blocks",
  "Shared Hit Blocks",
  "Shared Read Blocks",
  "Shared Written Blocks",
  "Single Copy",
  "Sort Key",
  "Sort Method",
  "Sort Methods Used",
  "Sort Space",
  "Sort Space Type",
  "Sort Space Used",
  "Strategy",
  "Subplan Name",
  "Subplans Removed",
  "Target Tables",
  "Temp Read Blocks",
  "Temp Written Blocks",
  "Time",
  "Timing",
  "Total",
  "Trigger",
  "Trigger Name",
  "Triggers",
  "Tuples Inserted",
  "Tuplestore Name",
  "WAL Bytes",
  "WAL FPI",
  "WAL Records",
  "Worker",
  "Worker Number",
  "Workers",
  "Workers Launched",
  "Workers Planned",
];
/** Without `normalize`, cost and row estimates are kept too. */
const PLAN_KEEP = new Set([
  "cost_info",
  "filtered",
  "rows_examined_per_join",
  "rows_examined_per_scan",
  "rows_produced_per_join",
  "Plan Rows",
  "Plan Width",
  "Startup Cost",
  "Total Cost",
  ...PLAN_KEEP_NORMALIZED,
]);
const PLAN_KEEP_NORMALIZE = new Set(PLAN_KEEP_NORMALIZED);

function planSql(query: string): string | null {
  try {
    return obfuscateSql(query).query;
  } catch {
    return null;
  }
}

/**
 * `datadog_agent.obfuscate_sql_exec_plan(plan, normalize)`: a JSON execution plan with the
 * values that could hold data replaced by `"?"`, conditions SQL-obfuscated, and with
 * `normalize` the cost and row estimates replaced too. Throws when the plan is not JSON.
 *
 * @example
 * ```ts
 * import { obfuscateSqlExecPlanForCheck } from "./_agent_api.ts";
 * const plan = '{"Plan": {"Node Type": "Seq Scan", "Filter": "(id = 42)", "Plan Rows": 3, "Output": ["x"]}}';
 * const out = JSON.parse(obfuscateSqlExecPlanForCheck(plan, false));
 * console.assert(out.Plan["Node Type"] === "Seq Scan" && out.Plan.Filter === "( id = ? )" && out.Plan["Plan Rows"] === 3);
 * ```
 */
export function obfuscateSqlExecPlanForCheck(plan: string, normalize: boolean): string {
  try {
    JSON.parse(plan);
  } catch (e) {
    throw new Error(`cannot obfuscate the execution plan: ${(e as Error).message}`);
  }
  return obfuscateJson(plan, {
    keep: normalize ? PLAN_KEEP_NORMALIZE : PLAN_KEEP,
    sql: PLAN_SQL_KEYS,
    obfuscateSql: planSql,
  });
}
