// The fixture definition (used where shared/ is absent) must agree with the intake's own.
import { test } from "node:test";
import assert from "node:assert/strict";
import type protobuf from "protobufjs";
import { fixtureProto, parseProto, upstreamProto } from "../../_agent_payload.ts";

/** Every field of `type` and its nested types as `path: id type repeated`, enums as `path: name=value`. */
function describe(type: protobuf.Type, path = type.name): string[] {
  const out = Object.values(type.fields).map((f) =>
    `${path}.${f.name}: ${f.id} ${f.type} ${f.repeated ? "repeated" : "single"}`
  );
  for (const nested of type.nestedArray) {
    if ("fields" in nested) {
      out.push(...describe(nested as protobuf.Type, `${path}.${nested.name}`));
    } else if ("values" in nested) {
      for (const [k, v] of Object.entries((nested as protobuf.Enum).values)) {
        out.push(`${path}.${nested.name}: ${k}=${v}`);
      }
    }
  }
  return out;
}

const upstream = upstreamProto();

test("tests/fixtures/agent_payload.proto agrees field by field with the intake's definition", {
  skip: upstream === null ? "no shared/spec/proto beside the repository" : false,
}, () => {
  const mine = parseProto(fixtureProto);
  const theirs = parseProto(upstream!);
  for (const name of ["MetricPayload", "SketchPayload"]) {
    const own = describe(mine.lookupType(`datadog.agentpayload.${name}`));
    const ref = new Set(describe(theirs.lookupType(`datadog.agentpayload.${name}`)));
    assert.ok(own.length > 10, `${name} has its fields`);
    for (const line of own) assert.ok(ref.has(line), `${line} is not in the intake's definition`);
  }
});
