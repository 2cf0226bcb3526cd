import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { makeIntake, post } from "./_support.ts";

const CHECK_RUN = "/api/v1/check_run";

async function addFault(app: ReturnType<typeof makeIntake>["app"], fault: unknown) {
  return await app.request("/outpost/intake/faults", {
    method: "POST",
    body: JSON.stringify(fault),
    headers: { "Content-Type": "application/json" },
  });
}

describe("createIntakeApp() faults", () => {
  it("answers the status for the next N requests, then accepts again, storing none of them", async () => {
    const { app } = makeIntake();
    assert.equal((await addFault(app, { status: 503, count: 2 })).status, 201);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(app, CHECK_RUN, "[]")).status);
    assert.deepEqual(statuses, [503, 503, 202]);
    const stats = await (await app.request("/outpost/intake/stats")).json();
    assert.equal(stats.routes[CHECK_RUN].faults_served, 2);
    assert.equal(stats.routes[CHECK_RUN].stored, 1);
  });

  it("waits delay_ms through the injected sleep, then answers normally and stores", async () => {
    const { app, slept } = makeIntake();
    await addFault(app, { delay_ms: 1500 });
    assert.equal((await post(app, CHECK_RUN, "[]")).status, 202);
    assert.deepEqual(slept, [1500]);
    const q = await (await app.request("/outpost/intake/payloads")).json();
    assert.equal(q.count, 1);
  });

  it("drop_connection answers with a response whose body fails, the runtime's dropped connection", async () => {
    const { app } = makeIntake();
    await addFault(app, { drop_connection: true });
    const res = await post(app, CHECK_RUN, "[]");
    await assert.rejects(res.arrayBuffer());
    assert.equal((await post(app, CHECK_RUN, "[]")).status, 202);
  });

  it("redirects with the given 3xx status or 302", async () => {
    const { app } = makeIntake();
    await addFault(app, { redirect: "/support/flare/2", status: 307 });
    await addFault(app, { redirect: "http://127.0.0.1:1/elsewhere" });
    const first = await app.request("/support/flare/1", { method: "HEAD" });
    assert.equal(first.status, 307);
    assert.equal(first.headers.get("location"), "/support/flare/2");
    const second = await app.request("/support/flare/2", { method: "HEAD" });
    assert.equal(second.status, 302);
    assert.equal(second.headers.get("location"), "http://127.0.0.1:1/elsewhere");
    assert.equal((await app.request("/support/flare/3", { method: "HEAD" })).status, 200);
  });

  it("answers a canned body with its content type and status", async () => {
    const { app } = makeIntake();
    await addFault(app, { body: "<html>maintenance</html>", content_type: "text/html" });
    await addFault(app, {
      status: 200,
      body: '{"error":"flare too big","request_uuid":"u-1"}',
      content_type: "application/json",
    });
    const html = await post(app, "/support/flare", "x");
    assert.equal(html.status, 200);
    assert.equal(html.headers.get("content-type"), "text/html");
    assert.equal(await html.text(), "<html>maintenance</html>");
    const json = await post(app, "/support/flare", "x");
    assert.deepEqual(await json.json(), { error: "flare too big", request_uuid: "u-1" });
  });

  it("applies a fault only to its route prefix and method", async () => {
    const { app } = makeIntake();
    await addFault(app, { status: 500, route: "/support/flare", method: "post" });
    assert.equal((await post(app, CHECK_RUN, "[]")).status, 202);
    assert.equal((await app.request("/support/flare", { method: "HEAD" })).status, 200);
    assert.equal((await post(app, "/support/flare/1", "x")).status, 500);
  });

  it("never applies to the intake's own routes", async () => {
    const { app } = makeIntake();
    await addFault(app, { status: 500, count: 5 });
    assert.equal((await app.request("/outpost/intake/stats")).status, 200);
    const pending = await (await app.request("/outpost/intake/faults")).json();
    assert.equal(pending.pending[0].remaining, 5);
  });

  it("DELETE clears pending faults", async () => {
    const { app } = makeIntake();
    await addFault(app, { status: 500, count: 10 });
    const res = await app.request("/outpost/intake/faults", { method: "DELETE" });
    assert.deepEqual(await res.json(), { cleared: 1 });
    assert.equal((await post(app, CHECK_RUN, "[]")).status, 202);
  });

  it("rejects a fault that does nothing or has a bad value, naming the key", async () => {
    const { app } = makeIntake();
    const empty = await addFault(app, { count: 2 });
    assert.equal(empty.status, 400);
    assert.match((await empty.json()).errors[0], /at least one of status/);
    const bad = await addFault(app, { status: 99 });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).errors[0], /Cannot parse fault key "status"/);
    const unknown = await addFault(app, { status: 500, sometimes: true });
    assert.equal(unknown.status, 400);
    const notJson = await app.request("/outpost/intake/faults", { method: "POST", body: "{" });
    assert.equal(notJson.status, 400);
  });
});
