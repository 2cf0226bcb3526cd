import { test } from "node:test";
import assert from "node:assert/strict";
import { proxyFor, resolveProxy } from "../../../src/http/_proxy.ts";
import { testConfig } from "../forwarder/_helpers.ts";

const METADATA = ["169.254.169.254", "100.100.100.200"];

test("resolveProxy() takes proxy.* (and so DD_PROXY_*) over the standard variables", () => {
  const config = testConfig({ proxy: { https: "http://dd:3128", no_proxy: ["a.example"] } });
  const s = resolveProxy(config, { HTTPS_PROXY: "http://std:3128", NO_PROXY: "b.example" });
  assert.deepEqual(s, {
    http: undefined,
    https: "http://dd:3128",
    noProxy: ["a.example", ...METADATA],
    nonExact: false,
  });
});

test("resolveProxy() reads HTTP_PROXY, HTTPS_PROXY and NO_PROXY in either case, comma-separated", () => {
  const upper = resolveProxy(testConfig(), {
    HTTP_PROXY: "http://p:1",
    HTTPS_PROXY: "http://p:2",
    NO_PROXY: "a.example, b.example:8443",
  });
  assert.deepEqual([upper.http, upper.https], ["http://p:1", "http://p:2"]);
  assert.deepEqual(upper.noProxy, ["a.example", "b.example:8443", ...METADATA]);
  const lower = resolveProxy(testConfig({ use_proxy_for_cloud_metadata: true }), {
    http_proxy: "http://p:3",
    no_proxy: "c.example",
  });
  assert.deepEqual([lower.http, lower.https, lower.noProxy], ["http://p:3", undefined, [
    "c.example",
  ]]);
  assert.deepEqual(resolveProxy(testConfig(), {}).http, undefined);
});

test("proxyFor() picks the proxy by scheme and honours no_proxy exactly or by suffix", () => {
  const s = {
    http: "http://ph",
    https: "http://ps",
    noProxy: ["skip.example", "port.example:8080"],
    nonExact: false,
  };
  assert.equal(proxyFor("http://x.example/a", s), "http://ph");
  assert.equal(proxyFor("https://x.example/a", s), "http://ps");
  assert.equal(proxyFor("https://skip.example/a", s), undefined);
  assert.equal(proxyFor("https://sub.skip.example/a", s), "http://ps", "exact match only");
  assert.equal(proxyFor("http://port.example:8080/", s), undefined);
  assert.equal(proxyFor("http://port.example:9090/", s), "http://ph");
  const loose = { ...s, nonExact: true };
  assert.equal(proxyFor("https://sub.skip.example/a", loose), undefined);
  assert.equal(proxyFor("https://noskip.example/a", loose), "http://ps");
  assert.equal(proxyFor("https://any/", { ...loose, noProxy: ["*"] }), undefined);
  assert.equal(proxyFor("https://x/", { noProxy: [], nonExact: false }), undefined);
});

test("resolveProxy() gets DD_PROXY_* through the config's env bindings, space-separated no_proxy", async () => {
  const { loadConfig } = await import("../../../src/config/mod.ts");
  const { runtime } = await import("../../../src/runtime/mod.ts");
  const { config } = await loadConfig(runtime, {
    searchPaths: [],
    env: { DD_PROXY_HTTPS: "http://dd:3128", DD_PROXY_NO_PROXY: "a.example b.example" },
  });
  const s = resolveProxy(config, { HTTPS_PROXY: "http://std:3128" });
  assert.equal(s.https, "http://dd:3128");
  assert.deepEqual(s.noProxy, ["a.example", "b.example", ...METADATA]);
});
