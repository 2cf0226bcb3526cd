/** Test fixtures: a serializer over the default config, and sample inputs. */
import { runtime } from "../../../src/runtime/mod.ts";
import {
  type EncodedPayload,
  Serializer,
  serializerSettings,
} from "../../../src/serializer/mod.ts";
import type { SerializerSettings } from "../../../src/serializer/mod.ts";
import { Registry } from "../../../src/telemetry/mod.ts";
import type { Serie } from "../../../src/metrics/model.ts";
import { config } from "./_decode.ts";

/** Fixed clock: Unix seconds for events and checks without a timestamp. */
export const NOW = 1_700_000_123;

/** A serializer over the config `overrides`, with what it sent and its registry. */
/** The ack of a payload the test intake took at once. */
const DELIVERED = { done: Promise.resolve({ status: "delivered", reason: "delivered" } as const) };

export function makeSerializer(
  overrides: Record<string, unknown> = {},
  adjust: (s: SerializerSettings) => SerializerSettings = (s) => s,
) {
  const sent: EncodedPayload[] = [];
  const registry = new Registry();
  const serializer = new Serializer(adjust(serializerSettings(config(overrides))), {
    runtime,
    registry,
    hostname: "agent-host",
    now: () => NOW,
    send: (p) => p.map((payload) => (sent.push(payload), DELIVERED)),
  });
  return { serializer, sent, registry };
}

/** A gauge serie with one point. */
export function serie(name: string, extra: Partial<Serie> = {}): Serie {
  return {
    name,
    points: [[1_700_000_000, 1]],
    tags: [],
    host: "h1",
    type: "gauge",
    interval: 10,
    sourceTypeName: "",
    ...extra,
  };
}
