import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { arnRegion, endpointFor, signRequest } from "../../../src/serverless/aws/mod.ts";
import { resolveSecrets, secretRefs } from "../../../src/serverless/_apikey.ts";
import { runtime } from "../../../src/runtime/mod.ts";

// The SigV4 test suite's credentials, time, region and service.
const SUITE = {
  service: "service",
  region: "us-east-1",
  credentials: {
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  },
  now: new Date(Date.UTC(2015, 7, 30, 12, 36, 0)),
};

describe("signRequest (the SigV4 test suite)", () => {
  it("get-vanilla", () => {
    const h = signRequest({
      ...SUITE,
      method: "GET",
      url: "https://example.amazonaws.com/",
      headers: {},
      body: "",
    });
    assert.equal(h["x-amz-date"], "20150830T123600Z");
    assert.equal(
      h["authorization"],
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
        "SignedHeaders=host;x-amz-date, " +
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
  });

  it("post-vanilla", () => {
    const h = signRequest({
      ...SUITE,
      method: "POST",
      url: "https://example.amazonaws.com/",
      headers: {},
      body: "",
    });
    assert.match(
      h["authorization"]!,
      /Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b$/,
    );
  });

  it("signs the session token", () => {
    const h = signRequest({
      ...SUITE,
      credentials: { ...SUITE.credentials, sessionToken: "tok" },
      method: "POST",
      url: "https://example.amazonaws.com/",
      headers: {},
      body: "",
    });
    assert.equal(h["x-amz-security-token"], "tok");
    assert.match(h["authorization"]!, /SignedHeaders=host;x-amz-date;x-amz-security-token,/);
  });
});

describe("endpoints and regions", () => {
  it("prefers the service's env var, then AWS_ENDPOINT_URL, then the regional endpoint", () => {
    assert.equal(endpointFor("kms", "eu-west-1", {}), "https://kms.eu-west-1.amazonaws.com");
    assert.equal(endpointFor("kms", "eu-west-1", { AWS_ENDPOINT_URL: "http://a" }), "http://a");
    assert.equal(
      endpointFor("secretsmanager", "x", {
        AWS_ENDPOINT_URL: "http://a",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: "http://b",
      }),
      "http://b",
    );
    assert.equal(arnRegion("arn:aws:secretsmanager:ap-south-1:123:secret:k-AbC"), "ap-south-1");
    assert.equal(arnRegion("my-secret"), undefined);
  });
});

describe("secretRefs", () => {
  it("maps *_SECRET_ARN, *_KMS_ENCRYPTED and DD_KMS_API_KEY to the variable without the suffix", () => {
    const { refs, warnings } = secretRefs({
      DD_API_KEY_SECRET_ARN: "arn:1",
      DD_APP_KEY_KMS_ENCRYPTED: "Y2lwaGVy",
      DD_SITE: "datadoghq.eu",
      OTHER_SECRET_ARN: "arn:ignored",
    });
    assert.deepEqual(refs.map((r) => [r.target, r.source, r.from]), [
      ["DD_API_KEY", "secret", "DD_API_KEY_SECRET_ARN"],
      ["DD_APP_KEY", "kms", "DD_APP_KEY_KMS_ENCRYPTED"],
    ]);
    assert.deepEqual(warnings, []);
  });

  it("prefers KMS over Secrets Manager over plain, and warns", () => {
    const { refs, warnings } = secretRefs({
      DD_API_KEY: "plain",
      DD_API_KEY_SECRET_ARN: "arn:1",
      DD_KMS_API_KEY: "Y2lwaGVy",
    });
    assert.deepEqual(refs.map((r) => r.from), ["DD_KMS_API_KEY"]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /DD_API_KEY is set in more than one place; using DD_KMS_API_KEY/);
    assert.match(warnings[0]!, /DD_API_KEY_SECRET_ARN, DD_API_KEY$/);
  });
});

describe("resolveSecrets", () => {
  it("costs nothing without secret variables", async () => {
    assert.deepEqual(await resolveSecrets(runtime, { DD_API_KEY: "k" }), {
      targets: [],
      values: {},
      errors: [],
      warnings: [],
    });
  });

  it("gives up after its bound with a line naming the ARN, when the endpoint never answers", async () => {
    // Answers long after the bound (not never: Deno's server close waits for its handlers).
    const server = await runtime.serve(
      { hostname: "127.0.0.1", port: 0 },
      () => new Promise<Response>((r) => setTimeout(() => r(new Response("late")), 1_000)),
    );
    try {
      const started = Date.now();
      const arn = "arn:aws:secretsmanager:us-east-1:1:secret:k";
      const r = await resolveSecrets(runtime, {
        DD_API_KEY_SECRET_ARN: arn,
        AWS_ACCESS_KEY_ID: "a",
        AWS_SECRET_ACCESS_KEY: "b",
        AWS_ENDPOINT_URL: `http://127.0.0.1:${server.port}`,
      }, 300);
      assert.ok(Date.now() - started < 1_500);
      assert.deepEqual(r.values, {});
      assert.equal(r.errors.length, 1);
      assert.ok(r.errors[0]!.includes(arn), r.errors[0]);
      assert.match(r.errors[0]!, /timed out after 300 ms/);
    } finally {
      await server.close();
    }
  });

  it("says when the credentials are missing", async () => {
    const r = await resolveSecrets(runtime, { DD_KMS_API_KEY: "Y2lwaGVy" });
    assert.match(
      r.errors[0]!,
      /DD_KMS_API_KEY: KMS decryption failed for DD_API_KEY: no AWS credentials/,
    );
  });
});
