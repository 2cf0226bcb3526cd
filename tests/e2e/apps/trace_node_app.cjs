// A small app traced by the real dd-trace: one known trace shape (a root web span, a child,
// an error span with a span event and a span link, custom tags), a custom metric through
// `tracer.dogstatsd`, then it prints what it made as one JSON line and exits once flushed.
// The agent's address, the protocol version and client stats come from DD_* variables.
"use strict";
const tracer = require("dd-trace").init({
  service: process.env.E2E_SERVICE ?? "e2e-node",
  env: "e2e",
  version: "1.2.3",
  plugins: false,
  startupLogs: false,
  flushInterval: 100,
});

const t0 = Date.now() - 1000; // ms; explicit times make the durations exact
const root = tracer.startSpan("web.request", {
  startTime: t0,
  tags: {
    "span.type": "web",
    "span.kind": "server",
    "resource.name": "GET /orders",
    "http.method": "GET",
    "http.status_code": "200",
    "customer.tier": "gold",
    "cart.items": 3,
  },
});
const child = tracer.startSpan("db.query", {
  childOf: root,
  startTime: t0 + 10,
  tags: { "span.type": "sql", "resource.name": "SELECT * FROM orders WHERE id = 42" },
});
child.finish(t0 + 30);
const failing = tracer.startSpan("payment.charge", {
  childOf: root,
  startTime: t0 + 40,
  tags: { "resource.name": "charge card" },
});
failing.setTag("error", new Error("card declined"));
failing.addEvent("retry", { attempt: 2, reason: "timeout" }, t0 + 45);
failing.addLink(child.context(), { "link.kind": "caused-by" });
failing.finish(t0 + 60);
root.finish(t0 + 100);

const repeat = Number(process.env.E2E_REPEAT ?? "1");
for (let i = 1; i < repeat; i++) {
  const s = tracer.startSpan("web.request", { tags: { "resource.name": "GET /more" } });
  s.finish();
}

tracer.dogstatsd.increment("e2e.node.hits", 5, { route: "orders" });
tracer.dogstatsd.increment("e2e.node.hits", 5, { route: "orders" });
tracer.dogstatsd.gauge("e2e.node.level", 42);
tracer.dogstatsd.flush();

const ids = (s) => ({
  trace_id: s.context().toTraceId(),
  trace_id_128: s.context().toTraceId(true),
  span_id: s.context().toSpanId(),
  // What dd-trace puts on the wire: its ms times scaled to ns, as doubles.
  start_ns: BigInt(Math.round(s._startTime * 1e6)).toString(),
  duration_ns: BigInt(Math.round(s._duration * 1e6)).toString(),
});
console.log(JSON.stringify({ root: ids(root), child: ids(child), failing: ids(failing) }));

// Long enough for the trace flush and, with E2E_LINGER_MS, for runtime metrics and stats.
setTimeout(() => {
  tracer.dogstatsd.flush();
}, Number(process.env.E2E_LINGER_MS ?? "1500"));
