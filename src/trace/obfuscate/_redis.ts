/**
 * Redis commands in spans: the resource is quantized to the command names, and the raw
 * command tag has the values masked, command by command, as the Datadog Agent does.
 */

const MAX_COMMANDS = 3;
const TRUNCATED = "...";
/** Commands whose first argument is a sub-command that belongs to the name. */
const COMPOUND = new Set(["CLIENT", "CLUSTER", "COMMAND", "CONFIG", "DEBUG", "SCRIPT"]);

/**
 * The command names of a (possibly multi-line) Redis query: at most three, upper-cased,
 * with ` ...` when some were dropped or cut.
 *
 * @example
 * ```ts
 * import { quantizeRedis } from "./_redis.ts";
 * console.assert(quantizeRedis("SET a b\nEXPIRE a 15") === "SET EXPIRE");
 * ```
 */
export function quantizeRedis(query: string): string {
  const lines = query.replace(/[ \t\r]+/g, " ").split("\n");
  const out: string[] = [];
  let truncated = false;
  let i = 0;
  for (; i < lines.length && out.length < MAX_COMMANDS; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    const args = line.split(" ", 2);
    if (args[0].endsWith(TRUNCATED)) {
      truncated = true;
      continue;
    }
    let command = args[0].toUpperCase();
    if (COMPOUND.has(command) && args.length > 1) {
      if (args[1].endsWith(TRUNCATED)) {
        truncated = true;
        continue;
      }
      command += " " + args[1].toUpperCase();
    }
    out.push(command);
    truncated = false;
  }
  const more = lines.slice(i).some((l) => l.trim() !== "");
  if ((out.length === MAX_COMMANDS && more) || truncated) out.push(TRUNCATED);
  return out.join(" ");
}

/** Splits a command line into arguments, keeping quoted ones whole. */
function splitArgs(line: string): string[] {
  return line.match(/"(?:[^"\\]|\\.)*"?|'[^']*'?|\S+/g) ?? [];
}

const ALL_ARGS = new Set(["AUTH", "MIGRATE", "HELLO"]);
const FROM_FIRST = new Set([
  "GEOHASH",
  "GEOPOS",
  "GEODIST",
  "LPUSH",
  "RPUSH",
  "SREM",
  "ZREM",
  "SADD",
]);
const ARG_1 = new Set([
  "APPEND",
  "GETSET",
  "LPUSHX",
  "GEORADIUSBYMEMBER",
  "RPUSHX",
  "SET",
  "SETNX",
  "SISMEMBER",
  "ZRANK",
  "ZREVRANK",
  "ZSCORE",
]);
const ARG_2 = new Set([
  "HSETNX",
  "LREM",
  "LSET",
  "SETBIT",
  "SETEX",
  "PSETEX",
  "SETRANGE",
  "ZINCRBY",
  "SMOVE",
  "RESTORE",
]);
const PAIRS_AFTER_KEY = new Set(["HSET", "HMSET"]);
const PAIRS = new Set(["MSET", "MSETNX"]);

function maskCommand(args: string[], removeAll: boolean): string[] {
  if (args.length === 0) return args;
  const name = args[0].toUpperCase();
  const rest = args.slice(1);
  if (removeAll) return rest.length ? [args[0], "?"] : args;
  if (ALL_ARGS.has(name)) return rest.length ? [args[0], "?"] : args;
  if (FROM_FIRST.has(name)) return rest.length > 1 ? [args[0], rest[0], "?"] : args;
  if (ARG_1.has(name) && rest.length > 1) rest[1] = "?";
  else if (ARG_2.has(name) && rest.length > 2) rest[2] = "?";
  else if (name === "LINSERT" && rest.length > 3) rest[3] = "?";
  else if (PAIRS_AFTER_KEY.has(name)) { for (let i = 2; i < rest.length; i += 2) rest[i] = "?"; }
  else if (PAIRS.has(name)) { for (let i = 1; i < rest.length; i += 2) rest[i] = "?"; }
  else if (name === "CONFIG" && rest[0]?.toUpperCase() === "SET" && rest.length > 2) {
    return [args[0], rest[0], rest[1], "?"];
  }
  return [args[0], ...rest];
}

/**
 * Masks the values in a raw Redis command (the `redis.raw_command` tag), keeping command
 * names and keys.
 *
 * @example
 * ```ts
 * import { obfuscateRedis } from "./_redis.ts";
 * console.assert(obfuscateRedis("SET key value") === "SET key ?");
 * console.assert(obfuscateRedis("AUTH secret") === "AUTH ?");
 * ```
 */
export function obfuscateRedis(command: string, { removeAllArgs = false } = {}): string {
  return command.split("\n").map((line) => maskCommand(splitArgs(line), removeAllArgs).join(" "))
    .join("\n");
}
