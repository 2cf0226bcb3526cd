/** Shared by the forwarder's unit and integration tests: config, a quiet logger, a receiver. */
import { readFileSync, writeFileSync } from "node:fs";
import * as v from "valibot";
import { type Config, configSchema } from "../../../src/config/mod.ts";
import { createLogger } from "../../../src/log/mod.ts";
import type { HttpServer, Runtime } from "../../../src/runtime/types.ts";
import type { Built } from "../../../src/component.ts";
import {
  buildForwarder,
  type ForwarderDeps,
  forwarderSettings,
} from "../../../src/forwarder/mod.ts";
import { type Forwarder } from "../../../src/forwarder/_forwarder.ts";
import type { ForwarderSettings } from "../../../src/forwarder/_settings.ts";
import { createHttpClient, httpSettings } from "../../../src/http/mod.ts";

/** The validated config with `overrides` applied. */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return v.parse(configSchema, overrides);
}

/** A logger that writes nothing. */
export const quiet = () => createLogger({ level: "off" });

/** One request the receiver got. */
export interface Received {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** What the receiver answered. */
  status: number;
}

/**
 * A tiny intake on 127.0.0.1: records every request, answers `status` (200 by default), and
 * can go down (connection refused) and come back on the same port.
 */
export class Receiver {
  readonly requests: Received[] = [];
  status = 200;
  /** Keys that `/api/v1/validate` refuses with 403. */
  readonly invalidKeys = new Set<string>();
  /** Answer after this many ms. */
  delayMs = 0;
  /** Most requests seen in progress at once. */
  maxConcurrent = 0;
  #concurrent = 0;
  #server: HttpServer | undefined;
  #port = 0;
  readonly #runtime: Runtime;

  constructor(runtime: Runtime) {
    this.#runtime = runtime;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async up(): Promise<this> {
    this.#server = await this.#runtime.serve(
      { hostname: "127.0.0.1", port: this.#port },
      async (req) => {
        const u = new URL(req.url);
        if (u.pathname === "/api/v1/validate") {
          const key = u.searchParams.get("api_key") ?? "";
          return new Response("{}", { status: this.invalidKeys.has(key) ? 403 : 200 });
        }
        this.maxConcurrent = Math.max(this.maxConcurrent, ++this.#concurrent);
        const body = new Uint8Array(await req.arrayBuffer());
        if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
        this.#concurrent--;
        const status = this.status;
        this.requests.push({
          url: u.pathname + u.search,
          method: req.method,
          headers: Object.fromEntries(req.headers),
          body,
          status,
        });
        return new Response(status < 300 ? '{"status":"ok"}' : "no", { status });
      },
    );
    this.#port = this.#server.port;
    return this;
  }

  async down(): Promise<void> {
    await this.#server?.close();
    this.#server = undefined;
  }

  /** Payload ids (a JSON body `{"id": n}`) of the requests answered 2xx, with repeats. */
  ids(): number[] {
    return this.requests.filter((r) => r.status < 300).map((r) =>
      JSON.parse(new TextDecoder().decode(r.body)).id
    );
  }
}

/** A JSON payload carrying `id`, padded to about `size` bytes. */
export function idPayload(id: number, size = 100) {
  const body = new TextEncoder().encode(
    JSON.stringify({ id, pad: "x".repeat(Math.max(0, size - 20)) }),
  );
  return {
    route: "/api/v1/series",
    body,
    headers: { "Content-Type": "application/json" },
    storable: true,
    kind: "series",
  };
}

/** Polls `check` every 20 ms until it is true or `ms` pass; returns its last value. */
export async function until(check: () => boolean, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
}

/** A test CA and a certificate it signed for 127.0.0.1 (PEM), made with openssl in `dir`. */
export async function testCertificate(runtime: Runtime, dir: string) {
  const p = (name: string) => `${dir}/${name}`;
  writeFileSync(p("ext.cnf"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n");
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const steps = [
    ["openssl", "req", "-x509", ...ec, "-days", "1", "-subj", "/CN=outpost test CA"]
      .concat(["-keyout", p("ca.key"), "-out", p("ca.pem")]),
    ["openssl", "req", ...ec, "-subj", "/CN=127.0.0.1", "-keyout", p("key.pem")]
      .concat(["-out", p("leaf.csr")]),
    ["openssl", "x509", "-req", "-in", p("leaf.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key")]
      .concat(["-CAcreateserial", "-days", "1", "-extfile", p("ext.cnf"), "-out", p("cert.pem")]),
  ];
  for (const cmd of steps) {
    const r = await runtime.spawn(cmd);
    if (r.code !== 0) throw new Error(new TextDecoder().decode(r.stderr));
  }
  const read = (name: string) => readFileSync(p(name), "utf8");
  return { caPath: p("ca.pem"), ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") };
}

/** What {@linkcode testForwarder} takes: the whole config, and the environment for `*_PROXY`. */
export type TestForwarderOptions = Omit<ForwarderDeps, "runtime" | "http"> & {
  config: Config;
  /** @default process.env */
  env?: Record<string, string | undefined>;
  /** @default BUILD.agentVersion */
  version?: string;
  /** Other pipelines than metrics (`ForwarderSettings.pipelines`). */
  pipelines?: ForwarderSettings["pipelines"];
};

/** Builds a forwarder from a whole config, as the agent does. */
export function testForwarder(runtime: Runtime, options: TestForwarderOptions): Built<Forwarder> {
  const { config, env = process.env, version, pipelines, ...deps } = options;
  return buildForwarder({ ...forwarderSettings(config, version), pipelines }, {
    runtime,
    http: createHttpClient(runtime, httpSettings(config, env)),
    ...deps,
  });
}
