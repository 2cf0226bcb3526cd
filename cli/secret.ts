import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse as parseYaml } from "yaml";
import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";

/** `ENC[handle]`, as the config loader matches it. */
const ENC = /^\s*ENC\[(.+)\]\s*$/;

/** One resolved handle and where it is used: dotted config keys or `DD_*` variables. */
interface HandleUse {
  handle: string;
  usedIn: string[];
}

export const secret: Command = {
  name: "secret",
  usage: [
    "outpost secret [-c FILE] [--json]",
    "",
    "  Resolves every ENC[handle] of the config through secret_backend_command, as the agent",
    "  does at start, and prints which handles resolved and where each is used; never the",
    "  values. Exits 1 when a handle does not resolve.",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  --json              print the backend command and the handles as JSON",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, json: { type: "boolean" } },
  async main(values) {
    // Loading resolves every handle, or fails with a line naming the one that did not.
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    const { config, file } = loaded;
    const uses = new Map<string, string[]>();
    const note = (handle: string, where: string) =>
      uses.set(handle, [...(uses.get(handle) ?? []), where]);
    if (file) walk(parseYaml(readFileSync(file, "utf8")), "", note);
    for (const [name, value] of Object.entries(process.env)) {
      const m = name.startsWith("DD_") && value !== undefined ? ENC.exec(value) : null;
      if (m) note(m[1], `$${name}`);
    }
    const handles: HandleUse[] = [...uses].map(([handle, usedIn]) => ({ handle, usedIn }))
      .sort((a, b) => a.handle.localeCompare(b.handle));
    const command = config.secret_backend_command;
    if (values.json) {
      console.log(JSON.stringify({ command, handles }, null, 2));
      return 0;
    }
    console.log(
      [
        "=== Secret backend ===",
        `Command: ${command || "(secret_backend_command is not set)"}`,
        `Config file: ${file ? basename(file) : "(none)"}`,
        "",
        "=== Secrets stats ===",
        `Number of secrets resolved: ${handles.length}`,
        ...(handles.length > 0 ? ["Secrets handle resolved:"] : []),
        ...handles.map((h) =>
          `- '${h.handle}': used in ${h.usedIn.map((u) => `'${u}'`).join(", ")}`
        ),
      ].join("\n"),
    );
    return 0;
  },
};

/** Calls `note` for every `ENC[…]` string under `value`, with its dotted key path. */
function walk(value: unknown, path: string, note: (handle: string, where: string) => void): void {
  if (typeof value === "string") {
    const m = ENC.exec(value);
    if (m) note(m[1], path);
  } else if (Array.isArray(value)) {
    value.forEach((x, i) => walk(x, `${path}[${i}]`, note));
  } else if (value && typeof value === "object") {
    for (const [k, x] of Object.entries(value)) walk(x, path ? `${path}.${k}` : k, note);
  }
}
