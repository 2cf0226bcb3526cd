/**
 * The shape of a CLI command and the argument parsing every command shares: strict flags,
 * `--help`, and usage errors that exit 2.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Flags as `node:util` parseArgs declares them. */
export type Flags = NonNullable<ParseArgsConfig["options"]>;

/** One `outpost` command. */
export interface Command {
  name: string;
  /** Synopsis and flag lines shown by `--help`. */
  usage: string;
  flags: Flags;
  /** Whether positional arguments are accepted. */
  positionals?: boolean;
  /** Runs the command; the returned number is the exit code. */
  main(values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** A usage mistake: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** The flag every command takes. */
export const HELP_FLAG: Flags = { help: { type: "boolean", short: "h" } };

/** Parses `args` for `cmd`; throws {@linkcode UsageError} on an unknown flag or a bad value. */
export function parse(
  cmd: Command,
  args: string[],
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...HELP_FLAG, ...cmd.flags },
      allowPositionals: cmd.positionals ?? false,
      strict: true,
    });
    return { values, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
