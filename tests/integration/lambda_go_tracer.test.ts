/**
 * A real tracer library against the lifecycle routes: a Go function wrapped by
 * datadog-lambda-go (tests/fixtures/go_lambda, built with `go build` from the Go module proxy,
 * versions pinned in its go.sum) calls start-invocation and end-invocation for two
 * invocations, one from an event without a trace context and one whose handler fails under a
 * traced API Gateway event. The library only knows 127.0.0.1:8124 and
 * `/opt/extensions/datadog-agent`, so it runs in private network and mount namespaces and
 * relays that port over a unix socket to this test's daemon on a free port.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { connect, createServer } from "node:net";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as outpost from "../../mod.ts";
import { TestRuntimeApi } from "../_lambda_runtime_api.ts";
import { tempDir } from "../_temp.ts";
import { invoke, lambdaConfig, runLambda, withIntake } from "./_lambda.ts";
import type { FlatSpan } from "../../src/intake/_traces.ts";

const SOURCE = join(import.meta.dir, "..", "fixtures", "go_lambda");

/** Builds the Go function; the first build downloads its modules. */
function buildGoFunction(dir: string): string {
  const out = join(dir, "go_lambda");
  const r = spawnSync("go", ["build", "-buildvcs=false", "-o", out, "."], {
    cwd: SOURCE,
    encoding: "utf8",
    timeout: 540_000,
  });
  assert.equal(r.status, 0, `go build failed: ${r.stderr}`);
  return out;
}

describe("datadog-lambda-go against the lifecycle routes", () => {
  it("two invocations make two aws.lambda spans with the library's ids and error", {
    timeout: 600_000,
  }, async () => {
    const dir = tempDir("outpost-go-lambda-");
    const program = buildGoFunction(dir);
    await withIntake(async (intakeUrl) => {
      const api = new TestRuntimeApi();
      await api.start();
      const config = {
        ...outpost.pointAtIntake(await lambdaConfig("x"), intakeUrl),
        serverless_flush_strategy: "end",
      };
      // The unix socket end of the relay: each connection is piped to the daemon.
      const socket = join(dir, "relay.sock");
      const relay = createServer((conn) => {
        const up = connect(config.serverless_daemon_port, "127.0.0.1");
        conn.pipe(up).pipe(conn);
        up.on("error", () => conn.destroy());
        conn.on("error", () => up.destroy());
      });
      await new Promise<void>((resolve) => relay.listen(socket, resolve));
      try {
        const { run, stats } = runLambda(config, api, { execPath: "/x/o" });
        await api.waitFor("/event/next", 1);
        // Its end-invocation tells when it is done: the extension waits for it, not `next`.
        await invoke(api, stats, "go-req-1");
        const script = [
          "ip link set lo up || exit 9",
          "mount -t tmpfs none /opt || exit 9",
          "mkdir -p /opt/extensions && touch /opt/extensions/datadog-agent",
          `exec ${program}`,
        ].join("\n");
        const proc = Bun.spawn({
          cmd: [
            "unshare",
            ...(process.getuid?.() === 0 ? [] : ["-r"]),
            "-n",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
          ],
          env: {
            PATH: process.env.PATH ?? "",
            RELAY_SOCKET: socket,
            AWS_LAMBDA_FUNCTION_NAME: "outpost-test",
            AWS_REGION: "us-east-1",
            DD_API_KEY: "go-key",
          },
          stdout: "pipe",
          stderr: "pipe",
        });
        const code = await proc.exited;
        const stdout = await new Response(proc.stdout).text();
        const stderr = await new Response(proc.stderr).text();
        assert.equal(code, 0, `the Go function exited ${code}: ${stdout}\n${stderr}`);
        assert.match(stdout, /invocation 1: <nil>\ninvocation 2: order failed/);
        api.shutdown();
        assert.equal(await run, 0);

        const q = await (await fetch(`${intakeUrl}/outpost/intake/traces`)).json() as {
          spans: FlatSpan[];
        };
        const spans = q.spans.filter((s) => s.name === "aws.lambda");
        assert.equal(spans.length, 2, JSON.stringify(spans));
        const [s1, s2] = ["go-req-1", "go-req-2"].map((id) => {
          const s = spans.find((x) => x.meta.request_id === id);
          assert.ok(s, `a span for ${id}: ${JSON.stringify(spans.map((x) => x.meta))}`);
          return s;
        });
        assert.equal(s1.parent_id, "0", "a trace started by start-invocation is a root");
        assert.notEqual(s1.span_id, "0");
        assert.equal(s1.error, 0);
        assert.equal(s1.meta.cold_start, "true");
        assert.equal(s1.meta["http.status_code"], "200");

        assert.equal(s2.trace_id, "4110911582297405551");
        assert.equal(s2.parent_id, "797643193680388251");
        assert.equal(s2.error, 1);
        assert.equal(s2.meta["error.msg"], "order failed");
        assert.equal(s2.meta["error.type"], "*errors.errorString");
        assert.match(s2.meta["error.stack"], /\S/);
        assert.equal(s2.meta.cold_start, "false");
        assert.equal(s2.meta["function_trigger.event_source"], "api-gateway");
      } finally {
        relay.close();
        await api.close();
      }
    });
  });
});
