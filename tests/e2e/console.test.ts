/**
 * The web console in real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * the compiled agent run with `--dev` (its embedded intake behind the metrics and traces
 * pages), a JS check in checks.d, and `outpost installer daemon` on the same run path with two
 * packages whose binary only sleeps (the fleet page starts and stops an experiment of it).
 * Screenshots go to OUTPOST_SCREENSHOTS when set (README's are made so), else to the temp dir.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { packTar } from "modern-tar";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { BIN, freePort, outpost } from "./_binary.ts";
import { tempDir } from "../_temp.ts";
import { waitFor } from "../../scripts/bench/_agent.ts";
import { runtime } from "../../src/runtime/mod.ts";
import { PAGES } from "../../src/console/_pages.ts";

const dir = tempDir("outpost-e2e-console-");
const shots = resolve(process.env.OUTPOST_SCREENSHOTS ?? join(dir, "screenshots"));
const config = join(dir, "datadog.yaml");
const socket = join(dir, "run", "installer.sock");
const appLog = join(dir, "app.log");
let gui = "";
let apmPort = 0;
let dsdPort = 0;
let agent: ReturnType<typeof Bun.spawn>;
let daemon: ReturnType<typeof Bun.spawn>;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let agentLog = "";

/** The Chromium of the machine: .ci/run installs Debian's. */
function chromiumPath(): string {
  const path = Bun.which("chromium") ?? Bun.which("chromium-browser");
  if (!path) throw new Error("chromium is not installed (apt-get install chromium; .ci/run does)");
  return path;
}

function sendUdp(port: number, lines: string[]): Promise<void> {
  const s = createSocket("udp4");
  return new Promise((done, fail) => {
    let left = lines.length;
    for (const line of lines) {
      s.send(line, port, "127.0.0.1", (e) => {
        if (e) fail(e);
        if (--left === 0) s.close(() => done());
      });
    }
  });
}

/** A package whose binary only sleeps: the fleet page needs versions, not a second agent. */
async function sleepingPackage(version: string) {
  const script = "#!/bin/sh\nexec sleep 3600\n";
  const tar = await packTar([
    {
      header: { name: "bin/outpost", size: script.length, type: "file", mode: 0o755 },
      body: script,
    },
  ]);
  const path = join(dir, `pkg-${version}.tar`);
  writeFileSync(path, tar);
  const sha256 = createHash("sha256").update(tar).digest("hex");
  return { package: "outpost", version, url: `file://${path}`, sha256 };
}

const fleetCall = async (method: string, path: string, body?: unknown) => {
  const res = await runtime.fetchUnix(
    socket,
    new Request(`http://fleet${path}`, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  return { status: res.status, json: await res.json() as any };
};

const shot = (name: string) => page.screenshot({ path: join(shots, `console-${name}.png`) });

/** The agent, the fleet daemon and Chromium: a test of its own, as a hook gets only 5 s in Bun. */
async function setup() {
  mkdirSync(join(dir, "conf.d", "hello.d"), { recursive: true });
  mkdirSync(join(dir, "checks.d"));
  mkdirSync(shots, { recursive: true });
  writeFileSync(
    join(dir, "conf.d", "hello.d", "conf.yaml"),
    "init_config:\ninstances:\n  - value: 7\n",
  );
  mkdirSync(join(dir, "conf.d", "app.d"));
  writeFileSync(appLog, "");
  writeFileSync(
    join(dir, "conf.d", "app.d", "conf.yaml"),
    `logs:\n  - type: file\n    path: ${appLog}\n    service: console-app\n    source: e2e\n`,
  );
  writeFileSync(
    join(dir, "checks.d", "hello.js"),
    `export default class extends AgentCheck {
  check(instance) {
    this.gauge("hello.value", Number(instance.value), { tags: ["from:console"] });
  }
}
`,
  );
  const guiPort = await freePort();
  apmPort = await freePort();
  dsdPort = await freePort();
  gui = `http://127.0.0.1:${guiPort}`;
  writeFileSync(
    config,
    [
      `run_path: ${join(dir, "run")}`,
      `cmd_port: ${await freePort()}`,
      `gui_port: ${guiPort}`,
      "expvar_port: 0",
      `dogstatsd_port: ${dsdPort}`,
      `apm_config:\n  receiver_port: ${apmPort}`,
      "hostname: console-e2e",
      "logs_enabled: true",
      `confd_path: ${join(dir, "conf.d")}`,
      `additional_checksd: ${join(dir, "checks.d")}`,
      `fleet:\n  root: ${
        join(dir, "fleet")
      }\n  file_roots: [${dir}]\n  experiment_health_timeout: 3600`,
      "",
    ].join("\n"),
  );
  const env = { PATH: process.env.PATH ?? "", TMPDIR: dir };
  agent = Bun.spawn({
    cmd: [BIN, "run", "--dev", "-c", config],
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  (async () => {
    for await (const chunk of agent.stderr as ReadableStream<Uint8Array>) {
      agentLog += new TextDecoder().decode(chunk);
    }
  })();
  await waitFor("the console to answer", async () => {
    if (agent.exitCode !== null) throw new Error(`outpost run exited: ${agentLog}`);
    return (await fetch(`${gui}/login`).catch(() => null))?.ok || undefined;
  }, 30_000);

  daemon = Bun.spawn({
    cmd: [BIN, "installer", "daemon", "-c", config],
    env,
    stdout: "ignore",
    stderr: "pipe",
  });
  await waitFor("the fleet daemon's socket", async () => {
    if (!existsSync(socket)) return undefined;
    return (await fleetCall("GET", "/status").catch(() => null))?.status === 200 || undefined;
  }, 30_000);
  const catalog = {
    version: 1,
    packages: [await sleepingPackage("1.0.0"), await sleepingPackage("2.0.0")],
  };
  assert.equal((await fleetCall("POST", "/catalog", catalog)).status, 200);
  assert.equal((await fleetCall("POST", "/outpost/install", { version: "1.0.0" })).status, 200);

  browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox"] });
  context = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
  });
  page = await context.newPage();
}

after(async () => {
  await browser?.close();
  daemon?.kill("SIGTERM");
  agent?.kill("SIGTERM");
  await Promise.all([daemon?.exited, agent?.exited]);
});

describe("web console in headless Chromium", () => {
  it("starts the agent with --dev, the fleet daemon and Chromium", { timeout: 90_000 }, setup);

  it(
    "refuses every page and JSON route without a session, and a wrong token",
    { timeout: 90_000 },
    async () => {
      for (const path of Object.keys(PAGES)) {
        const res = await fetch(`${gui}${path}`, { redirect: "manual" });
        assert.equal(res.status, 303, path);
        assert.equal(res.headers.get("location"), "/login");
      }
      for (
        const path of [
          "/api/agent/status",
          "/api/intake/metrics",
          "/api/fleet/status",
          "/api/flares",
        ]
      ) {
        assert.equal((await fetch(`${gui}${path}`)).status, 401, path);
      }
      await page.goto(`${gui}/`);
      assert.equal(new URL(page.url()).pathname, "/login");
      await page.fill("#token", "f".repeat(64));
      await page.click("button[type=submit]");
      assert.match(await page.textContent("[role=alert]") ?? "", /Wrong auth token/);
    },
  );

  it(
    "logs in with the auth token; the overview updates live without a reload",
    { timeout: 90_000 },
    async () => {
      await page.fill("#token", readFileSync(join(dir, "auth_token"), "utf8").trim());
      await page.click("button[type=submit]");
      await page.waitForSelector("[data-testid=health]");
      assert.equal(new URL(page.url()).pathname, "/");
      const cookie = (await context.cookies()).find((c) => c.name.startsWith("outpost_console_"))!;
      assert.equal(cookie.httpOnly, true);
      assert.equal(cookie.sameSite, "Strict");
      await page.evaluate(() => ((globalThis as any).stillHere = true));
      const packets = async () =>
        Number(
          (await page.locator("dt:text-is('Packets') + dd").textContent())?.split(" ")[0].replace(
            /,/g,
            "",
          ),
        );
      const before = await packets();
      await sendUdp(dsdPort, [
        "console.e2e.live:1|c",
        "console.e2e.live:1|c",
        "console.e2e.live:1|c",
      ]);
      await page.waitForFunction(
        (n) =>
          [...document.querySelectorAll("dt")].some((dt) =>
            dt.textContent === "Packets" &&
            Number(dt.nextElementSibling!.textContent!.split(" ")[0].replace(/,/g, "")) >= n + 3
          ),
        before,
      );
      assert.equal(await page.evaluate(() => (globalThis as any).stillHere), true);
      await page.waitForSelector("[data-testid=health]:text('Healthy')");
      await shot("overview");
    },
  );

  it("refuses a cross-site form POST", { timeout: 90_000 }, async () => {
    const evil = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response(
          `<form id="f" method="post" action="${gui}/api/flares"><input name="csrf" value="x"></form>` +
            `<script>document.getElementById("f").submit()</script>`,
          { headers: { "content-type": "text/html" } },
        ),
    });
    try {
      const evilPage = await context.newPage();
      const answer = evilPage.waitForResponse((r) => r.url() === `${gui}/api/flares`);
      await evilPage.goto(`http://127.0.0.1:${evil.port}/`);
      assert.equal((await answer).status(), 403);
      await evilPage.close();
    } finally {
      evil.stop(true);
    }
    const flares = await (await context.request.get(`${gui}/api/flares`)).json();
    assert.deepEqual(flares.flares, []);
  });

  it(
    "plots a DogStatsD gauge whose last point is the value sent",
    { timeout: 90_000 },
    async () => {
      // Earlier points with `|T` timestamps (not aggregated), then the value the plot must end on.
      const now = Math.floor(Date.now() / 1000);
      const earlier = [900, 720, 540, 360, 180].flatMap((ago, i) => [
        `console.e2e.gauge:${30 + i * 2}|g|#room:a|T${now - ago}`,
        `console.e2e.gauge:${20 + (i % 3) * 3}|g|#room:b|T${now - ago}`,
      ]);
      await sendUdp(dsdPort, [...earlier, "console.e2e.gauge:42.5|g|#room:a"]);
      await page.goto(`${gui}/metrics?metric=console.e2e.gauge`);
      await page.waitForFunction(
        () =>
          /room:a\s*42\.5\s*6/.test(
            document.querySelector("[data-testid=legend]")?.textContent ?? "",
          ),
        undefined,
        { timeout: 60_000 },
      );
      assert.ok(await page.locator("[data-testid=chart] canvas").count() > 0);
      await shot("metrics");
      await page.fill("input[name=filter]", "room:a");
      await page.click("form.controls button[type=submit]");
      await page.waitForFunction(() => {
        const chart = document.querySelector<HTMLElement>("[data-testid=chart]");
        return chart?.dataset.last === "42.5" && chart.dataset.points === "6";
      });
    },
  );

  it("runs a check from its page and shows its output", { timeout: 90_000 }, async () => {
    await page.click("nav a[href='/checks']");
    await page.click("button[data-check=hello]", { timeout: 30_000 });
    await page.waitForFunction(() =>
      document.querySelector("[data-testid=check-output]")?.textContent?.includes("exit code")
    );
    const output = await page.textContent("[data-testid=check-output]") ?? "";
    assert.match(output, /^hello: exit code 0/);
    assert.match(output, /hello\.value \[\[[\d.]+,7\]\] from:console/);
  });

  it("shows a trace as a waterfall", { timeout: 90_000 }, async () => {
    const start = Date.now() * 1e6;
    const trace = [[
      {
        trace_id: 4242,
        span_id: 1,
        parent_id: 0,
        name: "web.request",
        service: "console-web",
        resource: "GET /home",
        type: "web",
        start,
        duration: 8_000_000,
        metrics: { _sampling_priority_v1: 2 },
      },
      {
        trace_id: 4242,
        span_id: 2,
        parent_id: 1,
        name: "db.query",
        service: "console-db",
        resource: "SELECT 1",
        type: "sql",
        start: start + 2_000_000,
        duration: 3_000_000,
      },
    ]];
    const res = await fetch(`http://127.0.0.1:${apmPort}/v0.4/traces`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-datadog-trace-count": "1" },
      body: JSON.stringify(trace),
    });
    assert.equal(res.status, 200);
    await page.click("nav a[href='/traces']");
    await page.click("button[data-trace='4242']", { timeout: 60_000 });
    await page.waitForSelector("[data-testid=waterfall] [data-span='db.query']");
    const spans = await page.locator("[data-testid=waterfall] .span").allTextContents();
    assert.equal(spans.length, 2);
    assert.match(spans[0], /console-web web\.request/);
    assert.match(spans[1], /console-db db\.query\s*3\.00 ms/);
    await shot("trace");
  });

  it("tails the processed log lines live, filtered by service", { timeout: 90_000 }, async () => {
    await page.click("nav a[href='/logs']");
    await page.fill("input[name=service]", "console-app");
    await page.click("text=Tail");
    // Lines are written until one shows: the tailer may open the file after the first one.
    const tail = page.locator("[data-testid=log-tail]");
    await waitFor("a log line in the tail", async () => {
      appendFileSync(appLog, `console tail line ${Date.now()}\n`);
      return /console tail line \d+/.test(await tail.textContent() ?? "") || undefined;
    }, 30_000);
    assert.match(await tail.textContent() ?? "", /console-app/);
    await page.click("button:text-is('Stop')");
  });

  it("creates a flare, downloads it and sends it with a case id", { timeout: 90_000 }, async () => {
    await page.click("nav a[href='/flare']");
    await page.click("text=Create a flare");
    await page.waitForFunction(
      () => document.querySelector("[data-testid=flare-note]")?.textContent?.startsWith("Created"),
      undefined,
      { timeout: 60_000 },
    );
    const download = page.waitForEvent("download");
    await page.click("a[download]");
    const file = await (await download).path();
    const zip = readFileSync(file);
    assert.equal(zip.subarray(0, 2).toString(), "PK");
    await page.fill("input[aria-label='case id']", "4242");
    await page.fill("input[aria-label=email]", "ops@example.com");
    await page.click("form.inline button[type=submit]");
    await page.waitForFunction(() => {
      const t = document.querySelector("[data-testid=flare-note]")?.textContent ?? "";
      return t !== "" && !t.startsWith("Created");
    });
    const flares = await (await context.request.get(`${gui}/api/intake/flares`)).json();
    assert.equal(flares.flares.length, 1, JSON.stringify(flares));
    assert.equal(flares.flares[0].case_id, "4242");
  });

  it(
    "starts and stops an experiment through the running fleet daemon",
    { timeout: 90_000 },
    async () => {
      await page.click("nav a[href='/fleet']");
      const experiment = page.locator("[data-testid=experiment-outpost]");
      await experiment.waitFor();
      assert.equal(await experiment.textContent(), "–");
      await page.fill("input[name=version]", "2.0.0");
      await page.click("text=Start experiment");
      await page.waitForFunction(() =>
        document.querySelector("[data-testid=experiment-outpost]")?.textContent === "2.0.0"
      );
      assert.equal((await fleetCall("GET", "/status")).json.packages.outpost.experiment, "2.0.0");
      await page.click("button:text-is('Stop')");
      await page.waitForFunction(() =>
        document.querySelector("[data-testid=experiment-outpost]")?.textContent === "–"
      );
      const pkg = (await fleetCall("GET", "/status")).json.packages.outpost;
      assert.equal(pkg.experiment, "");
      assert.equal(pkg.stable, "1.0.0");
    },
  );

  it("outpost launch-gui prints a login link that works once", { timeout: 90_000 }, async () => {
    const { stdout, code, stderr } = await outpost(["launch-gui", "-c", config, "--no-open"]);
    assert.equal(code, 0, stderr);
    const url = stdout.trim();
    assert.match(url, new RegExp(`^${gui}/auth\\?intent=[\\w-]{43}$`));
    const fresh = await browser.newContext();
    const p = await fresh.newPage();
    await p.goto(url);
    await p.waitForSelector("[data-testid=health]");
    const again = await (await browser.newContext()).newPage();
    const res = await again.goto(url);
    assert.equal(res?.status(), 401);
    await fresh.close();
  });
});
