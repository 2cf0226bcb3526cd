import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isLoopbackHost, isLoopbackHostHeader } from "../../../src/api/_app.ts";
import { cmdHostWarning } from "../../../src/agent.ts";

describe("isLoopbackHost()", () => {
  it("is true for localhost, 127.0.0.0/8 and ::1 in their spellings", () => {
    for (
      const h of [
        "localhost",
        "LOCALHOST",
        "localhost.",
        "127.0.0.1",
        "127.3.2.1",
        "::1",
        "[::1]",
        "0:0:0:0:0:0:0:1",
        "::ffff:127.0.0.1",
      ]
    ) {
      assert.equal(isLoopbackHost(h), true, h);
    }
  });

  it("is false for every-interface, private and public addresses and look-alike names", () => {
    for (
      const h of [
        "0.0.0.0",
        "::",
        "[::]",
        "",
        "10.0.0.1",
        "192.168.1.2",
        "8.8.8.8",
        "::2",
        "127.0.0.1.nip.io",
        "localhost.evil.example",
        "evil.localhost",
      ]
    ) {
      assert.equal(isLoopbackHost(h), false, h);
    }
  });
});

describe("isLoopbackHostHeader()", () => {
  it("accepts loopback Host headers with or without a port", () => {
    for (const h of ["localhost", "localhost:5000", "127.0.0.1:5000", "[::1]:5000", "[::1]"]) {
      assert.equal(isLoopbackHostHeader(h), true, h);
    }
  });

  it("refuses other names, a bare IPv6 with a port, and junk", () => {
    for (
      const h of [
        "evil.example:5000",
        "127.0.0.1.nip.io:5000",
        "::1:5000",
        "",
        "localhost:5000:1",
        "localhost:abc",
      ]
    ) {
      assert.equal(isLoopbackHostHeader(h), false, h);
    }
  });
});

describe("cmdHostWarning()", () => {
  it("says nothing for a loopback cmd_host", () => {
    assert.equal(cmdHostWarning("127.0.0.1", 5001), null);
    assert.equal(cmdHostWarning("localhost", 5001), null);
  });

  it("warns that 0.0.0.0 and :: listen on every interface", () => {
    for (const h of ["0.0.0.0", "::"]) {
      assert.equal(
        cmdHostWarning(h, 5001),
        `The API listens on ${h}:5001, every interface: other hosts can reach it (cmd_host: localhost keeps it on this machine)`,
      );
    }
  });

  it("warns for an explicit non-loopback address", () => {
    assert.match(
      cmdHostWarning("10.1.2.3", 6001)!,
      /^The API listens on 10\.1\.2\.3:6001, a non-loopback address: /,
    );
  });
});
