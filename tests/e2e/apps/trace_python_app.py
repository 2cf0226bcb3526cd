"""A small app traced by the real ddtrace: the same trace shape as trace_node_app.cjs (a root
web span, a child, an error span with a span event and a span link, custom tags), flushed,
then what it made printed as one JSON line. The agent's address comes from DD_* variables."""
import json

from ddtrace.trace import tracer


def ids(span):
    return {
        "trace_id": str(span.trace_id & 0xFFFFFFFFFFFFFFFF),
        "trace_id_128": "%032x" % span.trace_id,
        "span_id": str(span.span_id),
        "start_ns": str(span.start_ns),
        "duration_ns": str(span.duration_ns),
    }


root = tracer.trace("web.request", service="e2e-py", resource="GET /orders", span_type="web")
root.set_tag("span.kind", "server")
root.set_tag("http.method", "GET")
root.set_tag("http.status_code", "200")
root.set_tag("customer.tier", "gold")
root.set_metric("cart.items", 3)
child = tracer.trace("db.query", resource="SELECT * FROM orders WHERE id = 42", span_type="sql")
child.finish()
failing = tracer.trace("payment.charge", resource="charge card")
failing._add_event("retry", {"attempt": 2, "reason": "timeout"})
failing.link_span(child.context, {"link.kind": "caused-by"})
try:
    raise ValueError("card declined")
except ValueError as e:
    failing.set_exc_info(type(e), e, e.__traceback__)
failing.finish()
root.finish()
tracer.flush()
print(json.dumps({"root": ids(root), "child": ids(child), "failing": ids(failing)}), flush=True)
tracer.shutdown()
