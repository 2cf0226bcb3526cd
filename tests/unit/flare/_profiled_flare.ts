/**
 * Builds a flare with profiles in a fresh process and prints the zip's path.
 *
 * A heap snapshot holds the whole heap of the process it is taken in, and the flare scrubs every
 * string of it: in a test runner that has loaded the whole suite that took a minute or more per
 * test. Here the heap is the flare code and the seeded secrets alone, so the same profiles and
 * the same scrubbing take a second or two wherever the test runs.
 *
 *   <bun | deno run -A> _profiled_flare.ts api|leak OUT_DIR
 *
 * `api` answers `POST /agent/flare {"profile":1}` with the API tests' app; `leak` calls
 * `createFlare()` with one second of profile on the leak tests' seeded host, built in OUT_DIR.
 */
import { fileURLToPath } from "node:url";
import { createFlare } from "../../../src/flare/mod.ts";
import { runtime } from "../../../src/runtime/mod.ts";
import { postFlare } from "./_api_app.ts";
import { AUTH_TOKEN, seededHost, URL_PASSWORD } from "./_seeded_host.ts";

/** Runs this script under the current runtime and answers the zip's path. */
export async function profiledFlare(mode: "api" | "leak", dir: string): Promise<string> {
  const script = fileURLToPath(import.meta.url);
  const args = runtime.name === "deno" ? ["run", "-A", "--no-check", script] : [script];
  const r = await runtime.spawn([process.execPath, ...args, mode, dir], { timeoutMs: 60_000 });
  // The path is the last line: anything the flare code logs to stdout comes before it.
  const out = new TextDecoder().decode(r.stdout).trim().split("\n").at(-1) ?? "";
  if (r.code !== 0 || r.timedOut) {
    const why = r.timedOut ? "timed out" : `exited with ${r.code}`;
    throw new Error(`the profiled flare process ${why}: ${new TextDecoder().decode(r.stderr)}`);
  }
  return out;
}

async function build([mode, dir]: string[]): Promise<string> {
  if (mode === "api") {
    // Keep the CPU busy while profiling: an idle process gives a profile without samples.
    let spin = 0;
    const busy = setInterval(() => {
      const end = performance.now() + 15;
      while (performance.now() < end) spin += Math.sqrt(spin + 1);
    }, 20);
    const res = await postFlare(dir, JSON.stringify({ profile: 1 }))
      .finally(() => clearInterval(busy));
    const body = await res.text();
    if (res.status !== 200) throw new Error(`POST /agent/flare answered ${res.status}: ${body}`);
    return body.trim();
  }
  if (mode === "leak") {
    const { config, file, env } = await seededHost(dir);
    return await createFlare({
      runtime,
      config,
      configFile: file,
      env,
      authToken: AUTH_TOKEN,
      sources: { statusText: () => `api token ${AUTH_TOKEN}, proxy ${URL_PASSWORD}` },
      profileSeconds: 1,
      outDir: dir,
    });
  }
  throw new Error(`unknown mode ${JSON.stringify(mode)} (expected api or leak)`);
}

if (import.meta.main) console.log(await build(process.argv.slice(2)));
