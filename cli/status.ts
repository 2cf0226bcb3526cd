import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import {
  type AgentApiClient,
  agentApiClient,
  AgentApiError,
  clientAuthTokenPath,
  readAuthToken,
} from "../src/api/mod.ts";
import { scrubText } from "../src/config/mod.ts";
import { OutpostError } from "../src/errors.ts";

export const status: Command = {
  name: "status",
  usage: [
    "outpost status [SECTION] [-c FILE] [-j | -p] [-l] [--expvar-url URL]",
    "",
    "  SECTION             only this section (see GET /agent/status/sections)",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  -j, --json          print JSON",
    "  -p, --pretty-json   print indented JSON",
    "  -l, --list          list the sections, one per line",
    "  --expvar-url URL    status from this process plus the expvars at URL (process-agent style)",
  ].join("\n"),
  flags: {
    ...CONFIG_FLAG,
    json: { type: "boolean", short: "j" },
    "pretty-json": { type: "boolean", short: "p" },
    list: { type: "boolean", short: "l" },
    "expvar-url": { type: "string" },
  },
  positionals: true,
  async main(values, positionals) {
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    const { config, file } = loaded;
    const asJson = values.json === true || values["pretty-json"] === true;
    const printJson = (x: unknown) =>
      console.log(values["pretty-json"] ? JSON.stringify(x, null, 2) : JSON.stringify(x));
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;

    if (typeof values["expvar-url"] === "string") {
      // Loaded for this flag only: asking the running agent needs neither.
      const [
        { HostMetadata, resolveHostname },
        { COLOR, PLAIN, remoteStatus, renderRemoteStatus },
      ] = await Promise.all([import("../src/metadata/mod.ts"), import("../src/status/mod.ts")]);
      const hostname = await resolveHostname(runtime, config);
      await hostname.fqdnRead;
      const metadata = new HostMetadata({ config, configFile: file, hostname });
      try {
        // The token when this host has one: a Go process-agent's expvar server may ask for it.
        let token: string | undefined;
        try {
          token = readAuthToken(clientAuthTokenPath(config, file));
        } catch { /* no token here: sent without */ }
        const s = await remoteStatus(values["expvar-url"], { runtime, config, metadata, token });
        if (asJson) printJson(s);
        else process.stdout.write(renderRemoteStatus(s, color ? COLOR : PLAIN));
        return 0;
      } catch (e) {
        if (!(e instanceof OutpostError)) throw e;
        console.error(e.message);
        return 1;
      }
    }

    if (positionals.length > 1) {
      console.error(
        `Expected at most one section, got ${positionals.length}: ${positionals.join(" ")}`,
      );
      return 2;
    }
    const base = `http://${config.cmd_host}:${config.cmd_port}`;
    let client: AgentApiClient;
    try {
      client = agentApiClient({
        host: config.cmd_host,
        port: config.cmd_port,
        token: readAuthToken(clientAuthTokenPath(config, file)),
        timeoutMs: config.server_timeout * 1000,
      });
    } catch (e) {
      console.error(
        `Could not reach the agent at ${base}: is it running? (${(e as Error).message})`,
      );
      return 1;
    }
    const section = positionals[0];
    try {
      if (values.list) {
        const sections = await client.statusSections();
        if (asJson) printJson(sections);
        else console.log(sections.join("\n"));
      } else if (asJson) printJson(await client.statusJson({ section }));
      else process.stdout.write(scrubText(await client.statusText({ section, color })));
    } catch (e) {
      if (!(e instanceof AgentApiError)) throw e;
      console.error(
        e.code === "agent_unreachable"
          ? `Could not reach the agent at ${base}: is it running?`
          : e.message,
      );
      return 1;
    }
    return 0;
  },
};
