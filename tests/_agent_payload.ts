/**
 * The metrics intake's protobuf definitions, loaded with protobufjs (a real protobuf library,
 * not our encoder) for the tests that decode or build series and sketch payloads.
 *
 * The intake's own `agent_payload.proto` is read from `shared/spec/proto` beside the repository
 * when it is there (CI; a worktree sits deeper, so parents are searched too). A clone without it
 * uses `tests/fixtures/agent_payload.proto`, the same messages written down from the spec.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import protobuf from "protobufjs";

const ROOT = resolve(import.meta.dirname, "..");
const UPSTREAM = join("shared", "spec", "proto", "agent-payload", "metrics", "agent_payload.proto");
const FIXTURE = join(ROOT, "tests", "fixtures", "agent_payload.proto");

/** The intake's own definition beside the repository, or null. */
export function upstreamProto(): string | null {
  for (let dir = dirname(ROOT);; dir = dirname(dir)) {
    if (existsSync(join(dir, UPSTREAM))) return join(dir, UPSTREAM);
    if (dirname(dir) === dir) return null;
  }
}

/** Parses a .proto file; the gogo import only carries Go code-generation options. */
export function parseProto(file: string): protobuf.Root {
  const text = readFileSync(file, "utf8").replace(/^import .*gogo\.proto.*$/m, "");
  return protobuf.parse(text, { keepCase: true }).root;
}

/** The fixture's own definition. */
export const fixtureProto = FIXTURE;

/** The definitions the tests use: upstream when available, else the fixture. */
export const agentPayload: protobuf.Root = parseProto(upstreamProto() ?? FIXTURE);
export const MetricPayload = agentPayload.lookupType("datadog.agentpayload.MetricPayload");
export const SketchPayload = agentPayload.lookupType("datadog.agentpayload.SketchPayload");
