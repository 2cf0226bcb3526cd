/** The `memcached.command` tag: only the command line, never the stored value. */

/**
 * Obfuscates a memcached command: "" unless `keepCommand`, else the text before the first
 * `\r\n`, trimmed.
 *
 * @example
 * ```ts
 * import { obfuscateMemcached } from "./_memcached.ts";
 * console.assert(obfuscateMemcached("set k 0 60 5\r\nvalue", { keepCommand: true }) === "set k 0 60 5");
 * console.assert(obfuscateMemcached("set k 0 60 5\r\nvalue") === "");
 * ```
 */
export function obfuscateMemcached(command: string, { keepCommand = false } = {}): string {
  if (!keepCommand) return "";
  const end = command.indexOf("\r\n");
  return (end < 0 ? command : command.slice(0, end)).trim();
}
