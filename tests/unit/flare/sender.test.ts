import { test } from "node:test";
import assert from "node:assert/strict";
import { flareBaseUrl } from "../../../src/flare/mod.ts";
import { analyzeResponse, flareUrl } from "../../../src/flare/_sender.ts";

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

test("flareBaseUrl() prefixes Datadog app hosts with the version and flare.agent", () => {
  assert.equal(
    flareBaseUrl({ dd_url: "", site: "datadoghq.com" }, "7.60.1"),
    "https://7-60-1-flare.agent.datadoghq.com",
  );
  assert.equal(
    flareBaseUrl({ dd_url: "", site: "us3.datadoghq.com" }, "0.1.0"),
    "https://0-1-0-flare.agent.us3.datadoghq.com",
  );
  assert.equal(
    flareBaseUrl({ dd_url: "https://app.datadoghq.eu/", site: "x" }, "1.2.3-rc.1"),
    "https://1-2-3-flare.agent.datadoghq.eu",
  );
  assert.equal(
    flareBaseUrl({ dd_url: "", site: "ddog-gov.com" }, "7.1.0"),
    "https://7-1-0-flare.agent.ddog-gov.com",
  );
});

test("flareBaseUrl() leaves custom URLs untouched", () => {
  assert.equal(
    flareBaseUrl({ dd_url: "http://127.0.0.1:8080/", site: "datadoghq.com" }, "7.1.0"),
    "http://127.0.0.1:8080",
  );
  assert.equal(
    flareBaseUrl({ dd_url: "https://proxy.corp.example", site: "x" }, "7.1.0"),
    "https://proxy.corp.example",
  );
});

test("flareUrl() adds the case id when there is one", () => {
  assert.equal(flareUrl("https://h", "12345"), "https://h/support/flare/12345");
  assert.equal(flareUrl("https://h"), "https://h/support/flare");
});

test("analyzeResponse() explains a 403 with the API key's last 5 characters, or its absence", async () => {
  assert.equal(
    (await analyzeResponse(new Response("no", { status: 403 }), "abcdef0123456789")).message,
    "HTTP 403 Forbidden: Make sure your API key is valid. API Key ending with: 56789",
  );
  assert.equal(
    (await analyzeResponse(new Response("no", { status: 403 }), "")).message,
    "HTTP 403 Forbidden: API key is missing",
  );
});

test("analyzeResponse() cannot deserialize a non-200, an HTML 200 or bad JSON, and keeps 150 characters", async () => {
  const msg = "Error: could not deserialize response body -- Please contact support by email.";
  const html = await analyzeResponse(
    new Response("<html>" + "x".repeat(300), { headers: { "content-type": "text/html" } }),
    "k",
  );
  assert.equal(html.message, msg);
  assert.equal(html.error, "unknown content-type text/html; HTTP 200: <html>" + "x".repeat(144));
  // As Go: the type must start with application/json, and a missing one is named.
  const odd = await analyzeResponse(
    new Response("{}", { headers: { "content-type": "text/x-application/json" } }),
    "k",
  );
  assert.equal(odd.message, msg);
  const none = await analyzeResponse(new Response(new TextEncoder().encode("{}")), "k");
  assert.equal(none.ok, false);
  assert.match(none.error!, /^no content-type header; /);
  // Go decodes case_id into an integer.
  const text = await analyzeResponse(json({ case_id: "123" }), "k");
  assert.equal(text.message, msg);
  assert.equal((await analyzeResponse(json({ case_id: 1 }, 500), "k")).message, msg);
  const bad = new Response("{nope", { headers: { "content-type": "application/json" } });
  assert.equal((await analyzeResponse(bad, "k")).message, msg);
});

test("analyzeResponse() reports a backend error with and without a request uuid", async () => {
  assert.equal(
    (await analyzeResponse(json({ error: "case closed", request_uuid: "r-1" }), "k")).message,
    "An error occurred while uploading the flare: case closed. Please contact support by email and facilitate the request uuid: `r-1`.",
  );
  assert.equal(
    (await analyzeResponse(json({ error: "case closed" }), "k")).message,
    "An error occurred while uploading the flare: case closed. Please contact support by email.",
  );
});

test("analyzeResponse() prints 0 for a missing case id, as the Go agent does", async () => {
  assert.equal(
    (await analyzeResponse(json({}), "k")).message,
    "Your logs were successfully uploaded. For future reference, your internal case id is 0",
  );
});

test("analyzeResponse() confirms an upload with the case id", async () => {
  const r = await analyzeResponse(json({ case_id: 12345, request_uuid: "u" }), "k");
  assert.equal(r.ok, true);
  assert.equal(
    r.message,
    "Your logs were successfully uploaded. For future reference, your internal case id is 12345",
  );
});
