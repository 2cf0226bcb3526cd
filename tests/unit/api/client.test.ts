/**
 * `agentApiClient()` against the real API component on 127.0.0.1 (status and flare areas
 * mounted), and against servers that are not the agent: closed ports, silence, HTML, floods.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { runtime } from "../../../src/runtime/mod.ts";
import { loadConfig } from "../../../src/config/mod.ts";
import { agentApiClient, AgentApiError, buildApi } from "../../../src/api/mod.ts";
import { type AgentApiErrorCode } from "../../../src/api/_client.ts";
import { MAX_ANSWER_BYTES } from "../../../src/api/_client.ts";
import { statusApiArea, StatusCollector } from "../../../src/status/mod.ts";
import { flareApiArea } from "../../../src/flare/mod.ts";

const TOKEN = "ab".repeat(32);
const dir = mkdtempSync(join(tmpdir(), "outpost-api-client-"));
const health = { Healthy: ["api", "dogstatsd"], Unhealthy: ["forwarder"] };
let api: Awaited<ReturnType<typeof startApi>>;

async function startApi() {
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: { DD_HOSTNAME: "client-host" },
  });
  const status = new StatusCollector({
    header: {
      version: "1.2.3",
      flavor: "agent",
      runtime: "bun",
      runtimeVersion: "1",
      buildArch: "amd64",
      pid: 1,
      startMs: 0,
      confFile: null,
      logFile: "",
      logLevel: "info",
    },
  });
  status.register({
    name: "DogStatsD",
    section: "dogstatsd",
    data: () => ({ dogstatsdStats: { packets: 7 } }),
    text: () => "  Packets: 7",
  });
  const { component } = buildApi({ host: "127.0.0.1", port: 0 }, {
    runtime,
    token: TOKEN,
    agent: { health: () => health, requestStop() {} },
    areas: [
      statusApiArea(status, config),
      flareApiArea({
        runtime,
        config,
        configFile: null,
        env: {},
        sources: { healthYaml: () => health },
        outDir: dir,
      }),
    ],
  });
  await component.start();
  return component;
}

/** Another program on a port: answers every request with `handler`. */
async function otherServer(handler: (req: Request) => Response) {
  return await runtime.serve({ hostname: "127.0.0.1", port: 0 }, handler);
}

/** A port where nothing listens. */
async function closedPort(): Promise<number> {
  const s = await runtime.serve({ hostname: "127.0.0.1", port: 0 }, () => new Response());
  const { port } = s;
  await s.close();
  return port;
}

/** Asserts that `p` rejects with an AgentApiError of `code` whose message matches `message`. */
async function rejectsWith(p: Promise<unknown>, code: AgentApiErrorCode, message: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof AgentApiError, String(e));
    assert.equal(e.code, code);
    assert.match(e.message, message);
    return true;
  });
}

/**
 * The client speaks through fetch with no proxy variable, through node:http with one: every
 * case runs both ways. The variable names a live proxy that counts what reaches it (none may).
 */
let proxy: Awaited<ReturnType<typeof otherServer>>;
let proxied = 0;
const TRANSPORTS = [
  { name: "fetch", env: () => ({}) },
  {
    name: "node:http (HTTP_PROXY set)",
    env: () => ({ HTTP_PROXY: `http://127.0.0.1:${proxy.port}` }),
  },
];
let transport = TRANSPORTS[0];

const client = (options: { token?: string; timeoutMs?: number; port?: number } = {}) =>
  agentApiClient({
    host: "127.0.0.1",
    port: options.port ?? api.port,
    token: options.token ?? TOKEN,
    timeoutMs: options.timeoutMs,
    env: transport.env(),
  });

before(async () => {
  api = await startApi();
  proxy = await otherServer(() => {
    proxied++;
    return new Response("proxy", { status: 502 });
  });
});
after(async () => {
  await api?.stop();
  await proxy?.close();
  rmSync(dir, { recursive: true, force: true });
  assert.equal(proxied, 0, "a request went to the proxy");
});

for (const t of TRANSPORTS) {
  describe(`agentApiClient() over ${t.name} against the agent's API`, () => {
    before(() => {
      transport = t;
    });
    it("health() gives the health report", async () => {
      assert.deepEqual(await client().health(), health);
    });

    it("statusSections() lists the sections", async () => {
      assert.deepEqual(await client().statusSections(), ["dogstatsd"]);
    });

    it("statusJson() gives the whole status, or one section's", async () => {
      const all = await client().statusJson();
      assert.equal(all.version, "1.2.3");
      assert.deepEqual(all.dogstatsdStats, { packets: 7 });
      const one = await client().statusJson({ section: "dogstatsd" });
      assert.deepEqual(one.dogstatsdStats, { packets: 7 });
      assert.equal(one.version, undefined);
    });

    it("statusText() gives the page, plain unless color is asked for", async () => {
      const plain = await client().statusText();
      assert.match(plain, /Outpost \(v1\.2\.3\)/);
      assert.match(plain, /Packets: 7/);
      assert.ok(!plain.includes("\x1b["));
      assert.ok((await client().statusText({ color: true })).includes("\x1b["));
      const section = await client().statusText({ section: "dogstatsd" });
      assert.match(section, /^=+\nDogStatsD\n/);
      assert.ok(!section.includes("Outpost (v"));
    });

    it("statusText() of an unknown section is a 404 error carrying the agent's message", async () => {
      const p = client().statusText({ section: "nope" });
      await rejectsWith(
        p,
        "agent_http",
        new RegExp(
          `^The agent at 127\\.0\\.0\\.1:${api.port} answered 404: Unknown status section "nope": ` +
            "expected one of dogstatsd$",
        ),
      );
      await p.catch((e) => assert.equal(e.status, 404));
    });

    it("a wrong token is an agent_unauthorized error that says the token is wrong", async () => {
      const p = client({ token: "cd".repeat(32) }).health();
      await rejectsWith(
        p,
        "agent_unauthorized",
        /^The agent at 127\.0\.0\.1:\d+ refused the auth token \(invalid bearer token\): the token file is not the running agent's$/,
      );
      await p.catch((e) => assert.equal(e.status, 401));
    });

    it("flare() has the agent build a flare and gives the zip's path", async () => {
      const path = await client().flare({ timeoutMs: 60_000 });
      assert.ok(path.startsWith(dir), path);
      const files = unzipSync(readFileSync(path));
      assert.match(new TextDecoder().decode(files["client-host/health.yaml"]), /forwarder/);
    });

    it("flare() with a bad profile gives the agent's 400 message", async () => {
      await rejectsWith(
        client().flare({ profile: 99_999 }),
        "agent_http",
        /answered 400: Cannot parse the flare request: "profile" /,
      );
    });
  });

  describe(`agentApiClient() over ${t.name} when the agent is not there`, () => {
    before(() => {
      transport = t;
    });
    it("a closed port is agent_unreachable: connection refused", async () => {
      const port = await closedPort();
      await rejectsWith(
        client({ port }).health(),
        "agent_unreachable",
        new RegExp(`^Cannot reach the agent at 127\\.0\\.0\\.1:${port}: connection refused$`),
      );
    });

    it("a server that accepts and never answers is agent_timeout after timeoutMs", async () => {
      const silent: Server = createServer(() => {});
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
      const port = (silent.address() as { port: number }).port;
      const t0 = performance.now();
      try {
        await rejectsWith(
          client({ port, timeoutMs: 200 }).health(),
          "agent_timeout",
          new RegExp(
            `^The agent at 127\\.0\\.0\\.1:${port} did not answer GET /agent/status/health within 0\\.2 s$`,
          ),
        );
      } finally {
        silent.close();
      }
      const took = performance.now() - t0;
      assert.ok(took >= 190 && took < 5000, `took ${took} ms`);
    });

    it("an answer that stops half-way is agent_timeout, not a hang", async () => {
      const server = createHttpServer((_req, res) => {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.write('{"Healthy": [');
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const port = (server.address() as { port: number }).port;
      try {
        await rejectsWith(
          client({ port, timeoutMs: 200 }).health(),
          "agent_timeout",
          /within 0\.2 s/,
        );
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });

    it("an HTML page on the port is agent_bad_answer naming what came", async () => {
      const html = await otherServer(() =>
        new Response("<!doctype html><p>Sign in</p>", { headers: { "content-type": "text/html" } })
      );
      try {
        await rejectsWith(
          client({ port: html.port }).health(),
          "agent_bad_answer",
          /answered GET \/agent\/status\/health with text that is not JSON \(text\/html, starts with "<!doctype html><p>Sign in<\/p>"\): is another program on that port\?$/,
        );
      } finally {
        await html.close();
      }
    });

    it("JSON that is not a health report is agent_bad_answer", async () => {
      const other = await otherServer(() => Response.json({ Healthy: "yes" }));
      try {
        await rejectsWith(
          client({ port: other.port }).health(),
          "agent_bad_answer",
          /with JSON that is not a health report \(application\/json/,
        );
        await rejectsWith(
          client({ port: other.port }).statusSections(),
          "agent_bad_answer",
          /with JSON that is not a list of names/,
        );
      } finally {
        await other.close();
      }
    });

    it("an answer past MAX_ANSWER_BYTES is agent_bad_answer and stops the read", async () => {
      const big = await otherServer(() => new Response("x".repeat(MAX_ANSWER_BYTES + 1)));
      try {
        await rejectsWith(
          client({ port: big.port }).statusText(),
          "agent_bad_answer",
          new RegExp(`sent more than ${MAX_ANSWER_BYTES} bytes to GET /agent/status`),
        );
      } finally {
        await big.close();
      }
    });
  });
}

describe("agentApiClient() options", () => {
  it("names an IPv6 host in brackets, given with or without them", () => {
    const bare = agentApiClient({ host: "::1", port: 5001, token: TOKEN });
    const bracketed = agentApiClient({ host: "[::1]", port: 5001, token: TOKEN });
    assert.equal(bare.address, "[::1]:5001");
    assert.equal(bracketed.address, "[::1]:5001");
  });

  it("refuses a port outside 1 to 65535 and a timeout that is not positive", () => {
    assert.throws(() => agentApiClient({ host: "127.0.0.1", port: 0, token: TOKEN }), RangeError);
    assert.throws(
      () => agentApiClient({ host: "127.0.0.1", port: 5001, token: TOKEN, timeoutMs: 0 }),
      RangeError,
    );
  });
});

// Bun's and Deno's fetch would send this request to the proxy: the client must see the
// variable in process.env by itself and take node:http.
describe("agentApiClient() with the process environment", () => {
  it("never goes through the proxy that HTTP_PROXY names", async () => {
    let seen = 0;
    const trap = await otherServer(() => {
      seen++;
      return new Response("proxy", { status: 502 });
    });
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy };
    process.env.HTTP_PROXY = process.env.http_proxy = `http://127.0.0.1:${trap.port}`;
    try {
      const direct = agentApiClient({ host: "127.0.0.1", port: api.port, token: TOKEN });
      assert.deepEqual(await direct.health(), health);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await trap.close();
    }
    assert.equal(seen, 0);
  });
});
