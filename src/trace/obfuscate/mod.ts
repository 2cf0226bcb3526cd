/**
 * Obfuscation of span data, with the Datadog Agent 7.x defaults: SQL resources, Redis and
 * Memcached commands, HTTP URLs, MongoDB/Elasticsearch/OpenSearch JSON bodies and credit card
 * numbers in tags. The SQL obfuscator is also what `datadog_agent.obfuscate_sql` answers to
 * Python checks.
 *
 * @module
 */
import type { Span } from "../_span.ts";
import { obfuscateSql, type SqlOptions } from "./_sql.ts";
import { obfuscateRedis, quantizeRedis } from "./_redis.ts";
import { obfuscateMemcached } from "./_memcached.ts";
import { obfuscateUrl } from "./_http.ts";
import { obfuscateJson } from "./_json.ts";
import { CREDIT_CARD_ALLOWED_KEYS, isCardNumber } from "./_credit_cards.ts";

export {
  type ObfuscatedSql,
  obfuscateSql,
  type SqlMetadata,
  SqlObfuscationError,
  type SqlOptions,
} from "./_sql.ts";
export { obfuscateRedis, quantizeRedis } from "./_redis.ts";
export { obfuscateMemcached } from "./_memcached.ts";
export { obfuscateUrl } from "./_http.ts";
export { type JsonObfuscationOptions, obfuscateJson } from "./_json.ts";
export { isCardNumber } from "./_credit_cards.ts";
export { quantizePeerIpAddresses } from "./_ip.ts";
export {
  obfuscateMongodbForCheck,
  obfuscateSqlExecPlanForCheck,
  obfuscateSqlForCheck,
} from "./_agent_api.ts";

/** What a SQL resource becomes when it cannot be tokenized. */
export const NON_PARSABLE_SQL = "Non-parsable SQL query";

/** The switches of `apm_config.obfuscation`, as the config schema gives them. */
export interface ObfuscationSettings {
  credit_cards: { enabled: boolean; luhn: boolean; keep_values: string[] };
  http: { remove_query_string: boolean; remove_paths_with_digits: boolean };
  memcached: { enabled: boolean; keep_command: boolean };
  redis: { enabled: boolean; remove_all_args: boolean };
  valkey: { enabled: boolean; remove_all_args: boolean };
  mongodb: { enabled: boolean; keep_values: string[] };
  elasticsearch: { enabled: boolean; keep_values: string[] };
  opensearch: { enabled: boolean; keep_values: string[] };
}

/**
 * Obfuscates spans in place according to the settings.
 *
 * @example Obfuscate a SQL span
 * ```ts
 * import { configDefaults } from "../../config/mod.ts";
 * import { emptySpan } from "../_span.ts";
 * import { Obfuscator } from "./mod.ts";
 * const span = { ...emptySpan(), type: "sql", resource: "SELECT * FROM t WHERE id = 7" };
 * new Obfuscator(configDefaults().apm_config.obfuscation).span(span);
 * console.assert(span.resource === "SELECT * FROM t WHERE id = ?" && span.meta["sql.query"] === span.resource);
 * ```
 */
export class Obfuscator {
  readonly #s: ObfuscationSettings;
  readonly #keepCards: ReadonlySet<string>;
  readonly #sqlCache = new Map<string, string | null>();
  readonly #sqlOptions: SqlOptions;

  constructor(settings: ObfuscationSettings, sqlOptions: SqlOptions = {}) {
    this.#s = settings;
    this.#keepCards = new Set(settings.credit_cards.keep_values);
    this.#sqlOptions = sqlOptions;
  }

  /**
   * A SQL query obfuscated, or null when it cannot be tokenized. Results are cached: the same
   * few queries come back in nearly every trace.
   */
  sql(query: string): string | null {
    let out = this.#sqlCache.get(query);
    if (out !== undefined) return out;
    try {
      out = obfuscateSql(query, this.#sqlOptions).query;
    } catch {
      out = null;
    }
    // A crude bound: the cache is cleared rather than evicted, which keeps it O(1).
    if (this.#sqlCache.size >= 5000) this.#sqlCache.clear();
    this.#sqlCache.set(query, out);
    return out;
  }

  /** Obfuscates what the span's type says it holds, then credit cards in every tag. */
  span(span: Span): void {
    const s = this.#s;
    const meta = span.meta;
    switch (span.type) {
      case "sql":
      case "cassandra": {
        if (span.resource === "") break;
        const q = this.sql(span.resource) ?? NON_PARSABLE_SQL;
        span.resource = q;
        meta["sql.query"] = q;
        break;
      }
      case "redis":
      case "valkey": {
        const opts = span.type === "redis" ? s.redis : s.valkey;
        span.resource = quantizeRedis(span.resource);
        const raw = `${span.type}.raw_command`;
        if (opts.enabled && meta[raw] !== undefined) {
          meta[raw] = obfuscateRedis(meta[raw], { removeAllArgs: opts.remove_all_args });
        }
        break;
      }
      case "memcached":
        if (s.memcached.enabled && meta["memcached.command"] !== undefined) {
          meta["memcached.command"] = obfuscateMemcached(meta["memcached.command"], {
            keepCommand: s.memcached.keep_command,
          });
        }
        break;
      case "web":
      case "http": {
        const { remove_query_string, remove_paths_with_digits } = s.http;
        if ((remove_query_string || remove_paths_with_digits) && meta["http.url"] !== undefined) {
          meta["http.url"] = obfuscateUrl(meta["http.url"], {
            removeQueryString: remove_query_string,
            removePathDigits: remove_paths_with_digits,
          });
        }
        break;
      }
      case "mongodb":
        this.#json(meta, "mongodb.query", s.mongodb);
        break;
      case "elasticsearch":
        this.#json(meta, "elasticsearch.body", s.elasticsearch);
        break;
      case "opensearch":
        this.#json(meta, "opensearch.body", s.opensearch);
        break;
    }
    if (s.credit_cards.enabled) this.#cards(meta);
  }

  #json(
    meta: Record<string, string>,
    key: string,
    opts: { enabled: boolean; keep_values: string[] },
  ): void {
    if (opts.enabled && meta[key] !== undefined) {
      meta[key] = obfuscateJson(meta[key], { keep: new Set(opts.keep_values) });
    }
  }

  #cards(meta: Record<string, string>): void {
    const luhn = this.#s.credit_cards.luhn;
    for (const k in meta) {
      const v = meta[k];
      // Cheap tests first: most values are short or start with a letter.
      if (v.length < 12 || k.charCodeAt(0) === 0x5f) continue;
      const c = v.charCodeAt(0);
      if (c < 0x30 || c > 0x39) continue;
      if (CREDIT_CARD_ALLOWED_KEYS.has(k) || this.#keepCards.has(k)) continue;
      if (isCardNumber(v, { luhn })) meta[k] = "?";
    }
  }
}
