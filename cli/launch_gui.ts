import { spawn } from "node:child_process";
import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { withAgent } from "./_agent.ts";

/** Opens `url` in the desktop's browser, where there is a desktop; never waits for it. */
function openBrowser(url: string): boolean {
  const env = process.env;
  const opener = process.platform === "darwin"
    ? "open"
    : env.DISPLAY || env.WAYLAND_DISPLAY
    ? "xdg-open"
    : null;
  if (!opener) return false;
  try {
    const child = spawn(opener, [url], { detached: true, stdio: "ignore" });
    child.on("error", () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}

export const launchGui: Command = {
  name: "launch-gui",
  usage: [
    "outpost launch-gui [-c FILE] [--no-open]",
    "",
    "  Prints a one-time login link to the running agent's web console (gui_port, 127.0.0.1",
    "  only) and opens it in the browser where there is a desktop. The link works once, for",
    "  five minutes; the console's login page also takes the auth token.",
    "",
    "  -c, --config FILE   config file (default: /etc/outpost/datadog.yaml, then ./datadog.yaml)",
    "  --no-open           print the link only",
  ].join("\n"),
  flags: { ...CONFIG_FLAG, "no-open": { type: "boolean" } },
  async main(values) {
    const loaded = await loadOrReport({ path: values.config as string | undefined });
    if (!loaded) return 1;
    const port = loaded.config.gui_port;
    if (port === -1) {
      console.error("The web console is off (gui_port: -1): set gui_port and restart the agent");
      return 1;
    }
    if (port === 0) {
      console.error(
        'gui_port 0 picks a free port: the agent\'s log names it ("Web console on …")',
      );
      return 1;
    }
    return await withAgent(loaded, async (client) => {
      const intent = await client.guiIntent();
      const url = `http://127.0.0.1:${port}/auth?intent=${encodeURIComponent(intent)}`;
      console.log(url);
      if (!values["no-open"] && openBrowser(url)) console.error("Opened in the browser");
      return 0;
    });
  },
};
