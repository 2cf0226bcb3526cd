import { readFileSync } from "node:fs";
import type { Command } from "./_command.ts";
import { CONFIG_FLAG, loadOrReport } from "./_context.ts";
import { runtime } from "../src/runtime/mod.ts";
import { readCapture } from "../src/dogstatsd/mod.ts";
import { OutpostError } from "../src/errors.ts";

export const dogstatsdReplay: Command = {
  name: "dogstatsd-replay",
  usage: [
    "outpost dogstatsd-replay -f CAPTURE [-c FILE] [--host H] [--port P] [--rate N] [--json]",
    "",
    "  Sends the datagrams of a capture file (see 'outpost dogstatsd-capture') over UDP to an",
    "  agent's DogStatsD, as they were received: with the recorded gaps, or N per second.",
    "",
    "  -f, --file CAPTURE    the capture file",
    "  -c, --config FILE     config file whose dogstatsd_port is the default target",
    "  --host H              target address (default: 127.0.0.1)",
    "  --port P              target UDP port (default: dogstatsd_port of the config)",
    "  --rate N              datagrams per second instead of the recorded timing",
    "  --json                print the datagram and byte counts and the seconds taken as JSON",
  ].join("\n"),
  flags: {
    ...CONFIG_FLAG,
    file: { type: "string", short: "f" },
    host: { type: "string" },
    port: { type: "string" },
    rate: { type: "string" },
    json: { type: "boolean" },
  },
  async main(values) {
    if (typeof values.file !== "string") {
      console.error("Missing -f CAPTURE: the capture file to replay");
      return 2;
    }
    const rate = values.rate === undefined ? null : Number(values.rate);
    if (rate !== null && (!Number.isFinite(rate) || rate <= 0)) {
      console.error(`Cannot use --rate ${values.rate}: expected datagrams per second, more than 0`);
      return 2;
    }
    let port = values.port === undefined ? null : Number(values.port);
    if (port !== null && (!Number.isInteger(port) || port < 1 || port > 65535)) {
      console.error(`Cannot use --port ${values.port}: expected a UDP port from 1 to 65535`);
      return 2;
    }
    if (port === null) {
      const loaded = await loadOrReport({ path: values.config as string | undefined });
      if (!loaded) return 1;
      port = loaded.config.dogstatsd_port;
      if (port === 0) {
        console.error("Cannot replay to dogstatsd_port 0 (UDP is off): give --port");
        return 2;
      }
    }
    const host = typeof values.host === "string" ? values.host : "127.0.0.1";
    let datagrams;
    try {
      datagrams = readCapture(readFileSync(values.file));
    } catch (e) {
      const why = e instanceof OutpostError
        ? e.message
        : (e as NodeJS.ErrnoException).code ?? String(e);
      console.error(`Cannot read capture file "${values.file}": ${why}`);
      return 1;
    }
    let sendError: Error | undefined;
    const socket = await runtime.listenUdp(host.includes(":") ? "::" : "0.0.0.0", 0, {
      onBatch: () => {},
      onError: (e) => (sendError = e),
    });
    const started = Date.now();
    const first = datagrams[0]?.at ?? 0;
    let bytes = 0;
    try {
      for (let i = 0; i < datagrams.length; i++) {
        const due = started + (rate === null ? datagrams[i].at - first : (i * 1000) / rate);
        const wait = due - Date.now();
        if (wait >= 1) await new Promise((r) => setTimeout(r, wait));
        socket.send(datagrams[i].data, host, port);
        bytes += datagrams[i].data.length;
        if (sendError) break;
      }
    } finally {
      socket.close();
    }
    if (sendError) {
      console.error(`Cannot send to ${host}:${port}: ${sendError.message}`);
      return 1;
    }
    const seconds = (Date.now() - started) / 1000;
    const summary = { datagrams: datagrams.length, bytes, seconds, target: `${host}:${port}` };
    if (values.json) console.log(JSON.stringify(summary, null, 2));
    else {
      console.log(
        `Replayed ${summary.datagrams} datagrams (${bytes} bytes) to ${summary.target} in ${
          seconds.toFixed(1)
        } s`,
      );
    }
    return 0;
  },
};
