/**
 * Go `filepath.Glob` semantics on the local file system: `*`, `?` and `[...]` match within one
 * path segment, there is no `**`, and a directory that cannot be read matches nothing.
 *
 * @module
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const META = /[*?[]/;

/** True when `pattern` has a wildcard. */
export function hasWildcard(pattern: string): boolean {
  return META.test(pattern);
}

/** A segment pattern as an anchored regex. */
function segmentRegex(seg: string): RegExp {
  let re = "";
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i];
    if (ch === "*") re += "[^/]*";
    else if (ch === "?") re += "[^/]";
    else if (ch === "[") {
      const end = seg.indexOf("]", i + 2);
      if (end < 0) {
        re += "\\[";
        continue;
      }
      let body = seg.slice(i + 1, end);
      if (body[0] === "^" || body[0] === "!") body = "^" + body.slice(1);
      re += `[${body.replace(/\\(?!.)/g, "\\\\")}]`;
      i = end;
    } else if (ch === "\\" && i + 1 < seg.length) re += "\\" + seg[++i];
    else re += ch.replace(/[.+^${}()|\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** The paths matching `pattern` (absolute), sorted as Go sorts them (per directory, by name). */
export function glob(pattern: string): string[] {
  if (!hasWildcard(pattern)) {
    try {
      statSync(pattern);
      return [pattern];
    } catch {
      return [];
    }
  }
  const segs = pattern.split("/").filter((s, i) => s !== "" || i === 0);
  let bases = [segs[0] === "" ? "/" : segs[0]];
  for (const seg of segs.slice(1)) {
    const next: string[] = [];
    if (!hasWildcard(seg)) {
      for (const b of bases) next.push(join(b, seg));
    } else {
      const re = segmentRegex(seg);
      for (const b of bases) {
        let names: string[];
        try {
          names = readdirSync(b).sort();
        } catch {
          continue;
        }
        for (const n of names) if (re.test(n)) next.push(join(b, n));
      }
    }
    bases = next;
  }
  return bases.filter((p) => {
    try {
      statSync(p);
      return true;
    } catch {
      return false;
    }
  });
}

/** True when `path` matches `pattern` segment by segment. */
export function matches(pattern: string, path: string): boolean {
  const ps = pattern.split("/");
  const xs = path.split("/");
  return ps.length === xs.length && ps.every((p, i) => segmentRegex(p).test(xs[i]));
}
