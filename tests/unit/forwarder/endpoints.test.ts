import { test } from "node:test";
import assert from "node:assert/strict";
import {
  mainUrl,
  resolveDomains,
  transactionHeaders,
  validationUrl,
  versionedDomain,
} from "../../../src/forwarder/_endpoints.ts";
import { testConfig } from "./_helpers.ts";
import { forwarderSettings } from "../../../src/forwarder/_settings.ts";
import { BUILD, DATADOG_AGENT_VERSION } from "../../../src/version.ts";

test("versionedDomain() prefixes Datadog intake hosts with the agent version only", () => {
  const v = "7.56.0";
  assert.equal(
    versionedDomain("https://app.datadoghq.com", v),
    "https://7-56-0-app.agent.datadoghq.com",
  );
  assert.equal(
    versionedDomain("https://app.datadoghq.com.", v),
    "https://7-56-0-app.agent.datadoghq.com.",
  );
  assert.equal(
    versionedDomain("https://app.us3.datadoghq.com", v),
    "https://7-56-0-app.agent.us3.datadoghq.com",
  );
  assert.equal(
    versionedDomain("https://app.datadoghq.eu/", v),
    "https://7-56-0-app.agent.datadoghq.eu",
  );
  assert.equal(
    versionedDomain("https://app.ddog-gov.com", v),
    "https://7-56-0-app.agent.ddog-gov.com",
  );
  assert.equal(
    versionedDomain("https://app.mrf.datadoghq.com", v),
    "https://7-56-0-app.agent.mrf.datadoghq.com",
  );
  assert.equal(versionedDomain("https://intake.example.com", v), "https://intake.example.com");
  assert.equal(versionedDomain("http://127.0.0.1:8080/", v), "http://127.0.0.1:8080");
  assert.equal(
    versionedDomain("https://app.datadoghq.com.evil.io", v),
    "https://app.datadoghq.com.evil.io",
  );
});

test("mainUrl() prefers dd_url, else app.<site> with a trailing dot for known sites", () => {
  assert.equal(mainUrl(testConfig()), "https://app.datadoghq.com.");
  assert.equal(mainUrl(testConfig({ site: "datadoghq.eu" })), "https://app.datadoghq.eu.");
  assert.equal(mainUrl(testConfig({ site: "example.com" })), "https://app.example.com");
  assert.equal(
    mainUrl(testConfig({ site: "us5.datadoghq.com", convert_dd_site_fqdn: { enabled: false } })),
    "https://app.us5.datadoghq.com",
  );
  assert.equal(
    mainUrl(testConfig({ dd_url: "http://127.0.0.1:9/", site: "datadoghq.eu" })),
    "http://127.0.0.1:9",
  );
});

test("resolveDomains() merges additional_endpoints, trims and dedupes keys, drops keyless domains", () => {
  const domains = resolveDomains(
    testConfig({
      api_key: "main",
      additional_endpoints: {
        "https://app.datadoghq.com": [" main ", "second", "second", ""],
        "https://other.example.com": ["k3"],
        "https://empty.example.com": [" "],
      },
    }),
    "7.56.0",
  );
  assert.deepEqual(domains, [
    { url: "https://7-56-0-app.agent.datadoghq.com.", apiKeys: ["main", "second"] },
    { url: "https://other.example.com", apiKeys: ["k3"] },
  ]);
  assert.deepEqual(resolveDomains(testConfig({ api_key: "" }), "1.0.0"), []);
});

test("transactionHeaders() adds the agent's headers and keeps the serializer's Content-Type", () => {
  const h = transactionHeaders({
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "zstd",
  }, { apiKey: "k", version: "7.56.0" });
  assert.deepEqual(h, {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "zstd",
    "DD-Api-Key": "k",
    "DD-Agent-Version": "7.56.0",
    "User-Agent": "datadog-agent/7.56.0",
  });
  const intake = transactionHeaders({ "Content-Type": "application/json" }, {
    apiKey: "k",
    version: "1.0.0",
    allowArbitraryTags: true,
  });
  assert.equal(intake["Content-Type"], "application/json");
  assert.equal(intake["Allow-Arbitrary-Tag-Value"], "true");
});

test("validationUrl() rewrites Datadog domains to api.<site> and keeps others", () => {
  assert.equal(
    validationUrl("https://7-56-0-app.agent.datadoghq.com.", "k"),
    "https://api.datadoghq.com/api/v1/validate?api_key=k",
  );
  assert.equal(
    validationUrl("https://app.us3.datadoghq.com", "k"),
    "https://api.us3.datadoghq.com/api/v1/validate?api_key=k",
  );
  assert.equal(
    validationUrl("http://127.0.0.1:9", "a b"),
    "http://127.0.0.1:9/api/v1/validate?api_key=a%20b",
  );
});

test("forwarderSettings() sends the Datadog Agent version, not outpost's own, in headers and the domain", () => {
  const s = forwarderSettings(testConfig({ site: "datadoghq.eu", api_key: "k" }));
  const [major, minor, patch] = DATADOG_AGENT_VERSION.split(".");
  assert.equal(s.version, DATADOG_AGENT_VERSION);
  assert.equal(s.domains[0].url, `https://${major}-${minor}-${patch}-app.agent.datadoghq.eu.`);
  const h = transactionHeaders({}, { apiKey: "k", version: s.version });
  assert.equal(h["DD-Agent-Version"], DATADOG_AGENT_VERSION);
  assert.equal(h["User-Agent"], `datadog-agent/${DATADOG_AGENT_VERSION}`);
  // Outpost's own version stays for the user and the fleet; it is not a 7.x release.
  assert.notEqual(BUILD.version, DATADOG_AGENT_VERSION);
  assert.equal(BUILD.agentVersion, DATADOG_AGENT_VERSION);
});
