/** How text status is decorated: ANSI colours on a terminal, nothing otherwise. */
export interface Style {
  title(s: string): string;
  ok(s: string): string;
  warn(s: string): string;
  error(s: string): string;
}

const id = (s: string) => s;
const ansi = (code: number) => (s: string) => `\x1b[${code}m${s}\x1b[0m`;

/** No decoration: files, pipes and the API's default. */
export const PLAIN: Style = { title: id, ok: id, warn: id, error: id };
/** ANSI colours for a terminal. */
export const COLOR: Style = { title: ansi(1), ok: ansi(32), warn: ansi(33), error: ansi(31) };

/** A title between two lines of `=` of its length; with an indent, underlined only (a sub-title). */
export function heading(title: string, style: Style, indent = ""): string {
  const bar = indent + "=".repeat(title.length);
  return indent
    ? `${indent}${style.title(title)}\n${bar}`
    : `${bar}\n${style.title(title)}\n${bar}`;
}

/** `key: value` lines indented under a heading; undefined values are left out. */
export function lines(pairs: Array<[string, unknown]>, indent = "  "): string {
  return pairs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) =>
      `${indent}${k}: ${typeof v === "object" && v !== null ? JSON.stringify(v) : v}`
    )
    .join("\n");
}
