/**
 * The trace intake's protobuf definitions (`AgentPayload` and what it holds), loaded with
 * protobufjs (a real protobuf library, not our encoder) for the tests that decode what the
 * trace writer sent.
 *
 * Read from `shared/spec/proto/trace` beside the repository when it is there (a worktree sits
 * deeper, so parents are searched too); a clone without it uses the copy in
 * `tests/fixtures/proto/trace`.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import protobuf from "protobufjs";

const ROOT = resolve(import.meta.dirname, "..");
const UPSTREAM = join("shared", "spec", "proto", "trace");
const FIXTURE = join(ROOT, "tests", "fixtures", "proto", "trace");

/** The directory of the trace protos: upstream when available, else the fixture copy. */
export function traceProtoDir(): string {
  for (let dir = dirname(ROOT);; dir = dirname(dir)) {
    if (existsSync(join(dir, UPSTREAM, "agent_payload.proto"))) return join(dir, UPSTREAM);
    if (dirname(dir) === dir) return FIXTURE;
  }
}

/** Loads `agent_payload.proto` and its imports from `dir`. */
export function loadTraceProtos(dir = traceProtoDir()): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(dir, target);
  return root.loadSync("agent_payload.proto", { keepCase: true });
}

/** `pb.AgentPayload`, as the intake defines it. */
export const AgentPayload = loadTraceProtos().lookupType("pb.AgentPayload");
