/**
 * Shared by the intake tests: payloads built with protobufjs from the intake's definitions (the way
 * any protobuf producer would), and an intake app on a temp directory.
 */
import protobuf from "protobufjs";
import { runtime } from "../../../src/runtime/mod.ts";
import { createIntakeApp } from "../../../src/intake/_app.ts";
import { FaultQueue } from "../../../src/intake/_faults.ts";
import { IntakeStore } from "../../../src/intake/_store.ts";
import type { IntakeAppOptions } from "../../../src/intake/_app.ts";
import { tempDir as makeTempDir } from "../../_temp.ts";

export { MetricPayload, SketchPayload } from "../../_agent_payload.ts";

/** Encodes `value` as `type` with protobufjs, after checking it against the definition. */
export function encode(type: protobuf.Type, value: Record<string, unknown>): Uint8Array {
  const err = type.verify(value);
  if (err) throw new Error(`test payload does not match ${type.name}: ${err}`);
  return type.encode(type.fromObject(value)).finish();
}

export { runtime };

/** A fresh temp directory. */
export const tempDir = () => makeTempDir("outpost-intake-test-");

/** An intake app on a fresh store, with a sleep that records instead of waiting. */
export function makeIntake(options: Partial<IntakeAppOptions> & { maxBytes?: number } = {}) {
  const dir = tempDir();
  const store = options.store ?? new IntakeStore({ dir, runtime, maxBytes: options.maxBytes });
  const slept: number[] = [];
  const faults = options.faults ?? new FaultQueue();
  const app = createIntakeApp({
    runtime,
    store,
    faults,
    sleep: async (ms) => void slept.push(ms),
    ...options,
  });
  return { app, store, dir: store.dir, slept, faults };
}

/** The API key the agent-route requests of these tests carry (the intake refuses none). */
export const TEST_API_KEY = "0123456789abcdef0123456789abcdef";

type App = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };

/** Requests `path` as the agent does: with an API key unless `init` names one. */
export function agentRequest(app: App, path: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  if (!headers.has("dd-api-key")) headers.set("DD-API-KEY", TEST_API_KEY);
  return app.request(path, { ...init, headers });
}

/** POSTs `body` to the app with an API key (unless `headers` names one) and returns the response. */
export function post(app: App, path: string, body: BodyInit, headers: Record<string, string> = {}) {
  return agentRequest(app, path, { method: "POST", body, headers });
}
