import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { agentRequest, makeIntake } from "./_support.ts";

const ZIP = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 1, 2, 3, 4, 5]);

function flareForm(fields: Record<string, string>, withFile = true): FormData {
  const form = new FormData();
  const order = ["case_id", "email", "source", "flare_file", "agent_version", "hostname"];
  for (const name of order) {
    if (name === "flare_file") {
      if (withFile) {
        form.append(name, new Blob([ZIP], { type: "application/zip" }), "outpost-flare-h.zip");
      }
    } else if (fields[name] !== undefined) form.append(name, fields[name]);
  }
  return form;
}

describe("createIntakeApp() flares", () => {
  it("answers HEAD on the flare route with 200, with and without a case id", async () => {
    const { app } = makeIntake();
    assert.equal((await app.request("/support/flare", { method: "HEAD" })).status, 200);
    assert.equal((await app.request("/support/flare/12345", { method: "HEAD" })).status, 200);
  });

  it("stores the zip and every form field in order, and answers with the case id", async () => {
    const { app } = makeIntake();
    const res = await app.request("/support/flare/12345", {
      method: "POST",
      body: flareForm({
        case_id: "12345",
        email: "ops@example.com",
        source: "local",
        agent_version: "0.1.0",
        hostname: "edge-1",
      }),
      headers: { "DD-API-KEY": "0123456789abcdef0123456789abcdef" },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assert.deepEqual(await res.json(), { case_id: 12345 });

    const list = await (await app.request("/outpost/intake/flares")).json();
    assert.equal(list.count, 1);
    const f = list.flares[0];
    assert.equal(f.case_id, "12345");
    assert.equal(f.email, "ops@example.com");
    assert.equal(f.source, "local");
    assert.equal(f.agent_version, "0.1.0");
    assert.equal(f.hostname, "edge-1");
    assert.deepEqual(f.field_order, [
      "case_id",
      "email",
      "source",
      "flare_file",
      "agent_version",
      "hostname",
    ]);
    assert.equal(f.file.name, "outpost-flare-h.zip");
    assert.equal(f.file.size, ZIP.length);
    assert.equal(f.file.sha256, createHash("sha256").update(ZIP).digest("hex"));
    assert.equal(f.file_present, true);
    assert.ok(f.api_key_masked.endsWith("cdef") && !f.api_key_masked.includes("0123"));

    const zip = await app.request(`/outpost/intake/flares/${f.seq}/file`);
    assert.equal(zip.status, 200);
    assert.deepEqual(new Uint8Array(await zip.arrayBuffer()), ZIP);
  });

  it("gives a new case id when the upload has none", async () => {
    const { app } = makeIntake();
    const post = () =>
      agentRequest(app, "/support/flare", { method: "POST", body: flareForm({ source: "local" }) });
    const first = await (await post()).json();
    const second = await (await post()).json();
    assert.equal(typeof first.case_id, "number");
    assert.equal(second.case_id, first.case_id + 1);
  });

  it("answers 400 with a JSON error without the flare_file part or a multipart body", async () => {
    const { app } = makeIntake();
    const noFile = await agentRequest(app, "/support/flare/1", {
      method: "POST",
      body: flareForm({ case_id: "1" }, false),
    });
    assert.equal(noFile.status, 400);
    assert.match((await noFile.json()).errors[0], /flare_file/);
    const notMultipart = await agentRequest(app, "/support/flare/1", { method: "POST", body: "x" });
    assert.equal(notMultipart.status, 400);
  });

  it("answers 404 for the archive of an unknown flare", async () => {
    const { app } = makeIntake();
    assert.equal((await app.request("/outpost/intake/flares/99/file")).status, 404);
  });
});
