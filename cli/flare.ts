import { createInterface } from "node:readline/promises";
import type { Command } from "./_command.ts";
import { UsageError } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import type { Config } from "../src/config/mod.ts";
import { agentApiClient, clientAuthTokenPath, readAuthToken } from "../src/api/mod.ts";
import { cleanHostname, createFlare, flareBaseUrl, sendFlare } from "../src/flare/mod.ts";
import { createHttpClient, httpSettings } from "../src/http/mod.ts";
import { resolveHostname } from "../src/metadata/mod.ts";
import { BUILD } from "../src/version.ts";

export const flare: Command = {
  name: "flare",
  usage: [
    "outpost flare [CASE_ID] [-e EMAIL] [-s] [-l] [-p SECONDS] [-c FILE]",
    "",
    "Asks the running agent to build the flare; when it cannot be reached, builds it here",
    "(with a `local` marker saying why). Prints the archive's path, then uploads it.",
    "",
    "  -e, --email EMAIL     your email, sent with the flare",
    "  -s, --send            upload without asking for confirmation",
    "  -l, --local           build here without the agent, and do not upload",
    "  -p, --profile SECONDS add a CPU profile of SECONDS and heap snapshots (agent only)",
    "  -c, --config FILE     config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
  ].join("\n"),
  flags: {
    ...CONFIG_FLAG,
    email: { type: "string", short: "e" },
    send: { type: "boolean", short: "s" },
    local: { type: "boolean", short: "l" },
    profile: { type: "string", short: "p" },
  },
  positionals: true,
  async main(values, positionals) {
    if (positionals.length > 1) throw new UsageError("expected at most one CASE_ID");
    const caseId = positionals[0];
    const profile = values.profile === undefined ? 0 : Number(values.profile);
    if (!Number.isInteger(profile) || profile < 0) {
      throw new UsageError(`Cannot parse flag "--profile": expected a whole number of seconds`);
    }
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    const { config, file } = loaded;
    // The whole resolution chain, as the Go agent's flare: "unknown" when every source fails.
    const resolved = (await resolveHostname(runtime, config)).hostname;
    const progress = progressLine();

    let zip: string | null = null;
    let localReason = "local flare was requested";
    if (!values.local) {
      const asked = Date.now();
      const waiting = () =>
        progress(
          `the running agent is building the flare (${Math.round((Date.now() - asked) / 1000)} s)`,
        );
      waiting();
      const ticker = setInterval(waiting, 1000);
      try {
        zip = await askAgent(config, file, profile);
      } catch (e) {
        localReason = `unable to contact the agent to retrieve flare: ${(e as Error).message}`;
        progress.done();
        console.error(
          `Could not get the flare from the agent (${(e as Error).message}); building it here`,
        );
      } finally {
        clearInterval(ticker);
      }
    }
    if (zip === null) {
      try {
        zip = await createFlare({
          runtime,
          config,
          configFile: file,
          env: process.env,
          authToken: localAuthToken(config, file),
          sources: {},
          hostname: resolved,
          localReason,
          profileSeconds: profile,
          onProgress: progress,
        });
      } catch (e) {
        progress.done();
        console.error(`Cannot build the flare: ${(e as Error).message}`);
        return 1;
      }
    }
    progress.done();
    console.log(`Flare archive: ${zip}`);
    if (values.local) return 0;

    const email = (values.email as string | undefined) ??
      (process.stdin.isTTY ? await ask("Please enter your email: ") : "");
    if (!values.send) {
      const answer = await ask("Are you sure you want to upload a flare? [y/N] ");
      if (!/^y(es)?$/i.test(answer.trim())) {
        console.log(`Aborting. (You can still use ${zip})`);
        return 0;
      }
    }
    const hostname = cleanHostname(resolved);
    const result = await sendFlare(zip, flareBaseUrl(config, BUILD.agentVersion), {
      apiKey: config.api_key,
      caseId,
      email: email || undefined,
      hostname,
      agentVersion: BUILD.agentVersion,
      fetch: createHttpClient(runtime, httpSettings(config, process.env)).fetch,
    });
    if (result.ok) {
      console.log(result.message);
      return 0;
    }
    console.error(result.message);
    if (result.error && !result.message.includes(result.error)) console.error(`(${result.error})`);
    return 1;
  },
};

/** The agent's token, so that a local flare masks it too; none when it cannot be read. */
function localAuthToken(config: Config, configFile: string | null): string | undefined {
  try {
    return readAuthToken(clientAuthTokenPath(config, configFile));
  } catch {
    return undefined;
  }
}

/** `POST /agent/flare` on the running agent; returns the zip path it built. */
async function askAgent(
  config: Config,
  configFile: string | null,
  profile: number,
): Promise<string> {
  const client = agentApiClient({
    host: config.cmd_host,
    port: config.cmd_port,
    token: readAuthToken(clientAuthTokenPath(config, configFile)),
  });
  // Profiles take their seconds, then every provider may take its timeout.
  const timeoutMs = (profile * 2 + 30 + config.flare_provider_timeout * 20) * 1000;
  return client.flare({ profile, timeoutMs });
}

async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/** One updating line on stderr when it is a terminal; nothing otherwise. */
function progressLine(): ((msg: string) => void) & { done(): void } {
  const tty = process.stderr.isTTY === true;
  let shown = false;
  const show = (msg: string) => {
    if (!tty) return;
    process.stderr.write(`\r\x1b[K${msg}…`);
    shown = true;
  };
  return Object.assign(show, {
    done() {
      if (shown) process.stderr.write("\r\x1b[K");
      shown = false;
    },
  });
}
