import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime } from "../../../src/runtime/mod.ts";
import type { Runtime } from "../../../src/runtime/mod.ts";
import { hostnameWarnings, resolveHostname } from "../../../src/metadata/mod.ts";
import { hostnameProblem } from "../../../src/metadata/_hostname.ts";

const dir = mkdtempSync(join(tmpdir(), "outpost-hostname-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The real runtime with the OS hostname and `hostname -f` answer pinned. */
function host(os: string, fqdn: string | null): Runtime {
  return {
    ...runtime,
    hostname: () => os,
    spawn: async () => ({
      code: fqdn === null ? 1 : 0,
      stdout: new TextEncoder().encode(fqdn ?? ""),
      stderr: new Uint8Array(),
      timedOut: false,
    }),
  };
}
const none = { hostname: "", hostname_file: "", hostname_fqdn: false };

describe("resolveHostname()", () => {
  it("takes the hostname key first", async () => {
    const info = await resolveHostname(host("os-box", "os-box.lan"), {
      ...none,
      hostname: "edge-7",
    });
    // The FQDN is read in the background; the payload waits for it.
    await info.fqdnRead;
    delete info.fqdnRead;
    assert.deepEqual(info, {
      hostname: "edge-7",
      provider: "configuration",
      osHostname: "os-box",
      fqdn: "os-box.lan",
      errors: {},
    });
  });

  it("falls back to hostname_file when the configured name is invalid, recording why", async () => {
    const file = join(dir, "name");
    writeFileSync(file, "from-file\n");
    const info = await resolveHostname(host("os-box", null), {
      ...none,
      hostname: "localhost",
      hostname_file: file,
    });
    assert.equal(info.hostname, "from-file");
    assert.equal(info.provider, "hostnameFile");
    assert.deepEqual(info.errors, { configuration: '"localhost" is a local name' });
  });

  it("uses the FQDN only when hostname_fqdn is set", async () => {
    const rt = host("os-box", "os-box.example.com");
    assert.equal((await resolveHostname(rt, none)).provider, "os");
    const info = await resolveHostname(rt, { ...none, hostname_fqdn: true });
    assert.equal(info.hostname, "os-box.example.com");
    assert.equal(info.provider, "fqdn");
  });

  it("records an unreadable hostname_file and goes on to the OS", async () => {
    const info = await resolveHostname(host("os-box", null), {
      ...none,
      hostname_file: join(dir, "missing"),
    });
    assert.equal(info.hostname, "os-box");
    assert.equal(info.provider, "os");
    assert.match(info.errors.hostnameFile!, /ENOENT|No such file/);
    assert.equal(info.fqdn, "os-box");
  });

  it("answers unknown from the provider unknown when every source fails, as the Go agent", async () => {
    const info = await resolveHostname(host("localhost", null), none);
    assert.equal(info.hostname, "unknown");
    assert.equal(info.provider, "unknown");
    assert.deepEqual(hostnameWarnings(info), [
      'Cannot use the hostname from the operating system: "localhost" is a local name; using "unknown"',
    ]);
  });
});

describe("hostnameProblem()", () => {
  it("accepts RFC 1123 names and rejects the rest", () => {
    assert.equal(hostnameProblem("edge-01.example.com"), null);
    assert.match(hostnameProblem("bad_name")!, /not a valid RFC 1123/);
    assert.match(hostnameProblem("-x")!, /not a valid/);
    assert.match(hostnameProblem("a".repeat(256))!, /not a valid/);
    assert.equal(hostnameProblem(""), "empty");
  });
});

describe("hostnameWarnings()", () => {
  it("names each refused source, why, and the name used instead", async () => {
    const info = await resolveHostname(host("os-box", null), {
      hostname: "",
      hostname_file: join(tmpdir(), "outpost-no-such-hostname-file"),
      hostname_fqdn: false,
    });
    const [line, ...rest] = hostnameWarnings(info);
    assert.equal(rest.length, 0);
    assert.match(
      line,
      /^Cannot use the hostname from the file of "hostname_file": .*ENOENT.*; using "os-box" from the operating system$/,
    );
    assert.deepEqual(hostnameWarnings({ ...info, errors: {} }), []);
  });
});
