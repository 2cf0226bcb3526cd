#!/usr/bin/env bun
/**
 * The `outpost` executable: picks the command and hands it its arguments. No business logic
 * lives here.
 *
 * @module
 */
import { type Command, parse, UsageError } from "./_command.ts";
import { runtime } from "../src/runtime/mod.ts";
// The detection alone: the Lambda mode is loaded only when chosen, like every command.
import { isLambdaExtension } from "../src/serverless/detect/mod.ts";

/**
 * Commands are loaded only when chosen: each pulls in its own part of the agent, and loading
 * all of them would put every command's start-up cost on every command.
 */
const COMMANDS: Array<{ name: string; summary: string; load: () => Promise<Command> }> = [
  { name: "run", summary: "Start the agent", load: async () => (await import("./run.ts")).run },
  {
    name: "status",
    summary: "Print the running agent's status, or one section of it",
    load: async () => (await import("./status.ts")).status,
  },
  {
    name: "flare",
    summary: "Build a scrubbed diagnostic archive and upload it to support",
    load: async () => (await import("./flare.ts")).flare,
  },
  {
    name: "intake",
    summary: "Run the local intake: receive, decode and store what an agent sends",
    load: async () => (await import("./intake.ts")).intake,
  },
  {
    name: "installer",
    summary: "Manage packages and experiments through the fleet daemon, or run the daemon",
    load: async () => (await import("./installer.ts")).installer,
  },
  {
    name: "check",
    summary: "Run one check in this process and print what it submits",
    load: async () => (await import("./check.ts")).check,
  },
  {
    name: "configcheck",
    summary: "Print the check configs the running agent loaded, with their instance IDs",
    load: async () => (await import("./configcheck.ts")).configcheck,
  },
  {
    name: "health",
    summary: "Print whether the running agent's components are healthy (exit 1 if not)",
    load: async () => (await import("./health.ts")).health,
  },
  {
    name: "hostname",
    summary: "Print the host name the agent reports under",
    load: async () => (await import("./hostname.ts")).hostname,
  },
  {
    name: "launch-gui",
    summary: "Print (and open) a one-time login link to the agent's web console",
    load: async () => (await import("./launch_gui.ts")).launchGui,
  },
  {
    name: "stop",
    summary: "Ask the running agent to stop",
    load: async () => (await import("./stop.ts")).stop,
  },
  {
    name: "secret",
    summary: "Resolve the config's ENC[] handles and print which resolved, without values",
    load: async () => (await import("./secret.ts")).secret,
  },
  {
    name: "diagnose",
    summary:
      "Check intake connectivity, API keys, proxy, TLS, clock skew and disk (exit 1 on failure)",
    load: async () => (await import("./diagnose.ts")).diagnose,
  },
  {
    name: "dogstatsd-stats",
    summary: "Print the samples DogStatsD received per metric and tag set",
    load: async () => (await import("./dogstatsd_stats.ts")).dogstatsdStats,
  },
  {
    name: "dogstatsd-capture",
    summary: "Have the running agent write the DogStatsD datagrams it receives to a file",
    load: async () => (await import("./dogstatsd_capture.ts")).dogstatsdCapture,
  },
  {
    name: "dogstatsd-replay",
    summary: "Send a capture file's datagrams to a DogStatsD, at the recorded or a given rate",
    load: async () => (await import("./dogstatsd_replay.ts")).dogstatsdReplay,
  },
  {
    name: "stream-logs",
    summary: "Print the running agent's processed log lines live",
    load: async () => (await import("./stream_logs.ts")).streamLogs,
  },
  {
    name: "lambda",
    summary: "Run as an AWS Lambda extension",
    load: async () => (await import("./lambda.ts")).lambda,
  },
  {
    name: "version",
    summary: "Print the version, commit, runtime and target platform",
    load: async () => (await import("./version.ts")).version,
  },
  {
    name: "config",
    summary: "Print the effective configuration, secrets scrubbed",
    load: async () => (await import("./config.ts")).config,
  },
];

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
  // Lambda starts extensions without arguments: from /opt/extensions/ (or under another name
  // with the Runtime API set) no command means the extension mode.
  if (argv.length === 0 && isLambdaExtension(process.execPath, process.env)) argv = ["lambda"];
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    if (name === undefined) {
      console.error(usage());
      return 2;
    }
    const entry = COMMANDS.find((c) => c.name === rest[0]);
    console.log(entry ? (await entry.load()).usage : usage());
    return 0;
  }
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) {
    console.error(`Unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const cmd = await entry.load();
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
