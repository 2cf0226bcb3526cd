/**
 * The pyrunner protocol's framing on both sides: the agent's line splitting and number decoding,
 * and what the runner's own encoder (the real pyrunner.py, run by python3) puts on the wire for
 * NaN, infinities, non-string tags and bytes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  decodeNumber,
  encodeLine,
  LineSplitter,
  parseLine,
} from "../../../../src/checks/python/_protocol.ts";
import { exitMessage } from "../../../../src/checks/python/_runner.ts";
import { PYRUNNER_SOURCE } from "../../../../src/checks/python/_pyrunner_source.ts";
import { runtime } from "../../../../src/runtime/mod.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("pyrunner protocol framing", () => {
  it("LineSplitter.push() gives whole lines across chunk boundaries, end() the unterminated rest", () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(enc('{"t":"a"}\n{"t":')), ['{"t":"a"}']);
    assert.deepEqual(s.push(enc('"b"}\n\n{"t":"c"}\n')), ['{"t":"b"}', "", '{"t":"c"}']);
    assert.deepEqual(s.push(enc('{"t":"d"')), []);
    assert.equal(s.end(), '{"t":"d"');
  });

  it("LineSplitter.push() keeps a UTF-8 character split between two chunks whole", () => {
    const bytes = enc('{"t":"log","msg":"é€😀"}\n');
    const s = new LineSplitter();
    const lines: string[] = [];
    // Cut inside every multi-byte character.
    for (let i = 0; i < bytes.length; i += 3) lines.push(...s.push(bytes.slice(i, i + 3)));
    assert.deepEqual(lines, ['{"t":"log","msg":"é€😀"}']);
  });

  it("encodeLine() writes one compact JSON line; parseLine() takes only objects with a string t", () => {
    const line = new TextDecoder().decode(encodeLine({ t: "run", rid: 3, check_id: "a:1" }));
    assert.equal(line, '{"t":"run","rid":3,"check_id":"a:1"}\n');
    assert.deepEqual(parseLine(line.trimEnd()), { t: "run", rid: 3, check_id: "a:1" });
    for (const bad of ["", "x", "[]", "null", '"t"', '{"t":1}', '{"rid":1}']) {
      assert.equal(parseLine(bad), null, bad);
    }
  });

  it("decodeNumber() reads NaN and the infinities from their strings, anything else not a number as NaN", () => {
    assert.equal(decodeNumber(1.5), 1.5);
    assert.equal(decodeNumber(-0), -0);
    assert.ok(Number.isNaN(decodeNumber("NaN")));
    assert.equal(decodeNumber("Infinity"), Infinity);
    assert.equal(decodeNumber("-Infinity"), -Infinity);
    assert.ok(Number.isNaN(decodeNumber("12")));
    assert.ok(Number.isNaN(decodeNumber(null)));
  });

  it("exitMessage() names the exit code and the signal", () => {
    assert.equal(exitMessage(1), "python runner exited (code 1, signal none)");
    assert.equal(exitMessage(137), "python runner exited (code 137, signal SIGKILL)");
    assert.equal(exitMessage(143), "python runner exited (code 143, signal SIGTERM)");
  });

  it("the runner's encoder sends NaN and infinities as strings, skips non-string tags, base64s bytes", async () => {
    // pyrunner.py loaded as a module (not as __main__, so it does not read stdin for messages)
    // with its agent modules installed; what the calls write goes to the protocol fd, stdout.
    const script = `
import sys
ns = {'__name__': 'pyrunner_under_test'}
exec(compile(sys.stdin.read(), 'pyrunner.py', 'exec'), ns)
ns['install_modules']()
import aggregator
print('on stderr, not the protocol')
aggregator.submit_metric(None, 'c:1', aggregator.GAUGE, 'm.nan', float('nan'), ['a:1', 7, b'b:2', None], None)
aggregator.submit_metric(None, 'c:1', aggregator.MONOTONIC_COUNT, 'm.inf', float('inf'), [], 'h', True)
aggregator.submit_histogram_bucket(None, 'c:1', 'b', 3, 0.0, float('-inf'), 1, '', ['x'], False)
aggregator.submit_event_platform_event(None, 'c:1', b'\\xff\\x00raw', 'dbm-samples')
aggregator.submit_event(None, 'c:1', {'msg_title': 't', 'timestamp': 'soon', 'tags': ['e', 3]})
`;
    const out = await runtime.spawn(["python3", "-X", "utf8", "-u", "-c", script], {
      stdin: enc(PYRUNNER_SOURCE),
    });
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.equal(stderr, "on stderr, not the protocol\n");
    const lines = new TextDecoder().decode(out.stdout).trimEnd().split("\n").map(parseLine);
    assert.deepEqual(lines, [
      { t: "m", id: "c:1", mt: 0, n: "m.nan", v: "NaN", tags: ["a:1", "b:2"], h: "", ffv: false },
      { t: "m", id: "c:1", mt: 3, n: "m.inf", v: "Infinity", tags: [], h: "h", ffv: true },
      {
        t: "hb",
        id: "c:1",
        n: "b",
        v: 3,
        lo: 0,
        hi: "-Infinity",
        mono: true,
        h: "",
        tags: ["x"],
        ffv: false,
      },
      { t: "ep", id: "c:1", et: "dbm-samples", raw: "/wByYXc=", b64: true },
      { t: "ev", id: "c:1", e: { msg_title: "t", timestamp: 0, tags: ["e"] } },
    ]);
    assert.ok(Number.isNaN(decodeNumber(lines[0]!.v)));
    assert.equal(decodeNumber(lines[2]!.hi), -Infinity);
  });
});
