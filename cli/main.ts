#!/usr/bin/env bun
/**
 * The `outpost` executable: picks the command and hands it its arguments. No business logic
 * lives here.
 *
 * @module
 */
import { type Command, parse, UsageError } from "./_command.ts";
import { run } from "./run.ts";
import { version } from "./version.ts";
import { config } from "./config.ts";
import { flare } from "./flare.ts";
import { status } from "./status.ts";
import { intake } from "./intake.ts";
import { installer } from "./installer.ts";
import { runtime } from "../src/runtime/mod.ts";

const COMMANDS: Command[] = [run, status, flare, intake, installer, version, config];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 4);
  return [
    "Usage: outpost COMMAND [FLAGS]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    `  ${"help".padEnd(width)}  Show this help, or a command's help (outpost help COMMAND)`,
    "",
    "Run 'outpost COMMAND --help' for the flags of a command.",
  ].join("\n");
}

/** Runs the CLI with `argv` (without the executable) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    if (name === undefined) {
      console.error(usage());
      return 2;
    }
    const cmd = COMMANDS.find((c) => c.name === rest[0]);
    console.log(cmd ? cmd.usage : usage());
    return 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    console.error(`Unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const { values, positionals } = parse(cmd, rest);
    if (values.help) {
      console.log(cmd.usage);
      return 0;
    }
    return await cmd.main(values, positionals);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\nUsage: ${cmd.usage}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).then((code) => runtime.exit(code));
}
