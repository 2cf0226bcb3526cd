import type { ConfigCheckAnswer } from "./_collector.ts";

/** Colours of the configcheck text (identity when not a terminal). */
export interface ConfigCheckStyle {
  name(s: string): string;
  key(s: string): string;
  value(s: string): string;
  error(s: string): string;
}

const PLAIN_STYLE: ConfigCheckStyle = {
  name: (s) => s,
  key: (s) => s,
  value: (s) => s,
  error: (s) => s,
};

/** A YAML block ending with one newline. */
function block(yaml: string): string {
  return yaml.endsWith("\n") ? yaml : `${yaml}\n`;
}

/**
 * The `outpost configcheck` text: config errors first, then each config with its instances
 * (IDs from the agent, never recomputed here), init config and log config.
 *
 * @example
 * ```ts
 * import { renderConfigCheck } from "./_configcheck.ts";
 * renderConfigCheck({ configs: [], config_errors: { x: "bad" }, resolve_warnings: {}, unresolved: {} });
 * // "=== Configuration errors ===\n\nx: bad\n\n"
 * ```
 */
export function renderConfigCheck(
  answer: ConfigCheckAnswer,
  { verbose = false, style = PLAIN_STYLE }: { verbose?: boolean; style?: ConfigCheckStyle } = {},
): string {
  let out = "";
  const errors = Object.keys(answer.config_errors).sort();
  if (errors.length > 0) {
    out += "=== Configuration errors ===\n\n";
    for (const name of errors) out += style.error(`${name}: ${answer.config_errors[name]}`) + "\n";
    out += "\n";
  }
  for (const c of answer.configs) {
    out += `=== ${style.name(c.name)} check ===\n`;
    out += `${style.key("Configuration provider")}: ${style.value(c.provider)}\n`;
    out += `${style.key("Configuration source")}: ${style.value(c.source)}\n`;
    for (const i of c.instances) {
      out += `${style.key("Config for instance ID")}: ${style.value(i.id)}\n`;
      out += block(i.yaml);
      out += "~\n";
    }
    if (c.init_config !== "") out += `${style.key("Init Config")}:\n${block(c.init_config)}`;
    if (c.logs !== null) {
      out += `${style.key("Log Config")}:\n${block(JSON.stringify(c.logs, null, 2))}`;
    }
    out += "===\n\n";
  }
  if (verbose) {
    const warnings = Object.keys(answer.resolve_warnings).sort();
    if (warnings.length > 0) {
      out += "=== Resolve warnings ===\n\n";
      for (const n of warnings) {
        for (const w of answer.resolve_warnings[n]) out += `${n}: ${w}\n`;
      }
      out += "\n";
    }
    const unresolved = Object.keys(answer.unresolved).sort();
    if (unresolved.length > 0) {
      out += "=== Unresolved Configs ===\n\n";
      for (const n of unresolved) out += `${n}: ${JSON.stringify(answer.unresolved[n])}\n`;
      out += "\n";
    }
  }
  return out;
}
