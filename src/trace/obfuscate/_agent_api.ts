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
