import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { configDefaults } from "../../../src/config/mod.ts";
import {
  isCardNumber,
  obfuscateJson,
  obfuscateMemcached,
  obfuscateRedis,
  obfuscateUrl,
  Obfuscator,
  quantizePeerIpAddresses,
  quantizeRedis,
} from "../../../src/trace/obfuscate/mod.ts";
import { span } from "./_helpers.ts";

const DEFAULTS = configDefaults().apm_config.obfuscation;

describe("quantizeRedis()", () => {
  // Vectors of the spec (logs-apmstats B.5) and the Agent's redis tests.
  for (
    const [input, out] of [
      ["SET k v", "SET"],
      ["SET a b\nEXPIRE a 15", "SET EXPIRE"],
      ["GET k1\nGET k2\nDEL k3\nGET k...", "GET GET DEL ..."],
      ["get\n  set  ", "GET SET"],
      ["CLIENT LIST", "CLIENT LIST"],
      ["GET k\nSE...", "GET ..."],
      ["", ""],
    ]
  ) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(out)}`, () =>
      assert.equal(quantizeRedis(input), out));
  }
});

describe("obfuscateRedis()", () => {
  for (
    const [input, out] of [
      ["AUTH secret", "AUTH ?"],
      ["SET key value", "SET key ?"],
      ["MIGRATE host 6379 key 0 5000 AUTH pw", "MIGRATE ?"],
      ["HSET h f1 v1 f2 v2", "HSET h f1 ? f2 ?"],
      ["MSET a 1 b 2", "MSET a ? b ?"],
      ["SADD set a b c", "SADD set ?"],
      ["GET key", "GET key"],
      ["SET k v\nAUTH p", "SET k ?\nAUTH ?"],
    ]
  ) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(out)}`, () =>
      assert.equal(obfuscateRedis(input), out));
  }
  it("removes every argument with remove_all_args", () => {
    assert.equal(obfuscateRedis("SET key value", { removeAllArgs: true }), "SET ?");
  });
});

describe("other obfuscators", () => {
  it("memcached keeps nothing by default, the command line with keep_command", () => {
    assert.equal(obfuscateMemcached("set k 0 60 5\r\nvalue"), "");
    assert.equal(
      obfuscateMemcached("set k 0 60 5\r\nvalue", { keepCommand: true }),
      "set k 0 60 5",
    );
  });

  it("http.url: userinfo goes, query and digit segments when asked", () => {
    assert.equal(
      obfuscateUrl("http://user:password@foo.com/1/2/3?q=james", { removeQueryString: true }),
      "http://foo.com/1/2/3?",
    );
    assert.equal(
      obfuscateUrl("http://foo.com/users/42/x?q=1#frag", { removePathDigits: true }),
      "http://foo.com/users/?/x?q=1#frag",
    );
    assert.equal(
      obfuscateUrl("/a/b1?x=y", { removeQueryString: true, removePathDigits: true }),
      "/a/??",
    );
  });

  it("JSON bodies keep keys and lose values", () => {
    assert.equal(
      obfuscateJson('{"a":{"b":[1,"x",true]},"k":"keep"}', { keep: new Set(["k"]) }),
      '{"a":{"b":["?","?","?"]},"k":"keep"}',
    );
    assert.equal(obfuscateJson("{ not json"), "?");
  });

  it("isCardNumber() knows issuers, separators and Luhn", () => {
    assert.equal(isCardNumber("4111111111111111"), true);
    assert.equal(isCardNumber("4111-1111-1111-1111"), true);
    assert.equal(isCardNumber("378282246310005"), true); // Amex
    assert.equal(isCardNumber("1234567890123456"), false); // no issuer
    assert.equal(isCardNumber("4111 1111 1111 111a"), false);
    assert.equal(isCardNumber("4111111111111112", { luhn: true }), false);
    assert.equal(isCardNumber("4111111111111111", { luhn: true }), true);
  });
});

describe("Obfuscator.span()", () => {
  it("obfuscates SQL, marks unparsable SQL, and quantizes Redis with the Agent defaults", () => {
    const o = new Obfuscator(DEFAULTS);
    const sql = span({
      type: "sql",
      resource: "SELECT * FROM users WHERE id = 42 AND name = 'bob'",
    });
    o.span(sql);
    assert.equal(sql.resource, "SELECT * FROM users WHERE id = ? AND name = ?");
    assert.equal(sql.meta["sql.query"], sql.resource);
    const bad = span({ type: "sql", resource: "SELECT 'oops" });
    o.span(bad);
    assert.equal(bad.resource, "Non-parsable SQL query");
    assert.equal(bad.meta["sql.query"], "Non-parsable SQL query");
    const redis = span({
      type: "redis",
      resource: "SET k v",
      meta: { "redis.raw_command": "SET k v" },
    });
    o.span(redis);
    assert.equal(redis.resource, "SET");
    assert.equal(redis.meta["redis.raw_command"], "SET k ?");
  });

  it("replaces card numbers in tags except allowed and underscore keys; leaves URLs alone by default", () => {
    const o = new Obfuscator(DEFAULTS);
    const s = span({
      type: "web",
      meta: {
        "card": "4111 1111 1111 1111",
        "_private": "4111111111111111",
        "http.status_code": "4111111111111111",
        "http.url": "http://u:p@h/1?q=1",
        "note": "not a card",
      },
    });
    o.span(s);
    assert.equal(s.meta.card, "?");
    assert.equal(s.meta._private, "4111111111111111");
    assert.equal(s.meta["http.status_code"], "4111111111111111");
    assert.equal(s.meta["http.url"], "http://u:p@h/1?q=1");
    assert.equal(s.meta.note, "not a card");
  });
});

describe("quantizePeerIpAddresses()", () => {
  for (
    const [input, out] of [
      ["10.0.0.1", "blocked-ip-address"],
      ["10.0.0.1:5432", "blocked-ip-address:5432"],
      ["10.0.0.1:9092,10.0.0.2:9092,kafka-1", "blocked-ip-address:9092,kafka-1"],
      ["ip-10-1-2-3.ec2.internal", "ip-blocked-ip-address.ec2.internal"],
      ["http://192.168.1.1/path", "http://blocked-ip-address/path"],
      ["[2001:db8::1]:443", "blocked-ip-address:443"],
      ["127.0.0.1", "127.0.0.1"],
      ["169.254.169.254", "169.254.169.254"],
      ["db.internal", "db.internal"],
      ["1.2.3", "1.2.3"],
      ["256.1.1.1", "256.1.1.1"],
    ]
  ) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(out)}`, () =>
      assert.equal(quantizePeerIpAddresses(input), out));
  }
});
