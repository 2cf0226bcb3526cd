/**
 * What invoked the function and the trace it continues, read from the invocation event.
 *
 * The event shapes are AWS's documented ones; where Datadog's headers travel in each is what
 * the Datadog tracers and the Lambda libraries put there: HTTP headers (API Gateway v1/v2, ALB,
 * function URLs), the `_datadog` message attribute (SQS, SNS, SNS inside SQS), `detail._datadog`
 * (EventBridge, also inside SQS) and `_datadog` in a Kinesis record's JSON data.
 */

/** A trace context carried by an event. */
export interface TraceContext {
  /** The low 64 bits of the trace id. */
  traceId: bigint;
  /** The caller's span id; 0 when the event only carried a trace id. */
  parentId: bigint;
  /** `x-datadog-sampling-priority`, or null when the caller did not decide. */
  samplingPriority: number | null;
  /** The `_dd.p.*` propagation tags (`_dd.p.tid`: the high 64 bits, hex). */
  tags: Record<string, string>;
}

/** The trigger of an invocation and the trace context found in its event. */
export interface Trigger {
  /** `function_trigger.event_source` (`api-gateway`, `sqs`…), or "" when not recognised. */
  eventSource: string;
  /** `function_trigger.event_source_arn`, when the event names it. */
  eventSourceArn: string;
  context: TraceContext | null;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const UINT64_MAX = (1n << 64n) - 1n;

/** A decimal uint64 id, or null when it is not one (or is 0). */
export function parseUint64(value: unknown): bigint | null {
  if (typeof value !== "string" || !/^\d{1,20}$/.test(value.trim())) return null;
  const id = BigInt(value.trim());
  return id > 0n && id <= UINT64_MAX ? id : null;
}

/** The `_dd.p.*` pairs of an `x-datadog-tags` value (`k=v,k2=v2`); others are not propagated. */
export function propagationTags(header: string | undefined): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const pair of (header ?? "").split(",")) {
    const eq = pair.indexOf("=");
    const key = pair.slice(0, eq).trim();
    if (eq > 0 && key.startsWith("_dd.p.")) tags[key] = pair.slice(eq + 1).trim();
  }
  // The high bits must be 16 hex digits, else they would make a wrong 128-bit id.
  if (tags["_dd.p.tid"] !== undefined && !/^[0-9a-f]{16}$/.test(tags["_dd.p.tid"])) {
    delete tags["_dd.p.tid"];
  }
  return tags;
}

/**
 * The Datadog context in a header map (names compared without case), or null when it has no
 * valid `x-datadog-trace-id`.
 */
export function contextFromHeaders(headers: unknown): TraceContext | null {
  if (!isObject(headers)) return null;
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    // ALB multi-value headers and some carriers give lists: the first value counts.
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value === "string") h[k.toLowerCase()] = value;
    else if (typeof value === "number") h[k.toLowerCase()] = String(value);
  }
  const traceId = parseUint64(h["x-datadog-trace-id"]);
  if (traceId === null) return null;
  const priority = Number.parseInt(h["x-datadog-sampling-priority"] ?? "", 10);
  return {
    traceId,
    parentId: parseUint64(h["x-datadog-parent-id"]) ?? 0n,
    samplingPriority: Number.isFinite(priority) ? priority : null,
    tags: propagationTags(h["x-datadog-tags"]),
  };
}

function parseJson(text: unknown): unknown {
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function base64Json(text: unknown): unknown {
  if (typeof text !== "string") return undefined;
  try {
    return parseJson(new TextDecoder().decode(Uint8Array.from(atob(text), (c) => c.charCodeAt(0))));
  } catch {
    return undefined;
  }
}

/** SQS `messageAttributes._datadog`: a JSON string, or base64 JSON as a binary attribute. */
function sqsCarrier(record: Json): unknown {
  const attr = isObject(record.messageAttributes) ? record.messageAttributes._datadog : undefined;
  if (!isObject(attr)) return undefined;
  return String(attr.dataType ?? "").startsWith("Binary")
    ? base64Json(attr.binaryValue)
    : parseJson(attr.stringValue);
}

/** SNS `MessageAttributes._datadog`: `{Type: "String"|"Binary", Value}`. */
function snsCarrier(sns: Json): unknown {
  const attr = isObject(sns.MessageAttributes) ? sns.MessageAttributes._datadog : undefined;
  if (!isObject(attr)) return undefined;
  return attr.Type === "Binary" ? base64Json(attr.Value) : parseJson(attr.Value);
}

const arnOf = (v: unknown) => (typeof v === "string" ? v : "");

/** The context of one SQS record: its own attribute, else an SNS or EventBridge body inside. */
function sqsContext(record: Json): TraceContext | null {
  const own = contextFromHeaders(sqsCarrier(record));
  if (own) return own;
  const body = parseJson(record.body);
  if (!isObject(body)) return null;
  if (body.Type === "Notification") return contextFromHeaders(snsCarrier(body));
  if (isObject(body.detail)) return contextFromHeaders(body.detail._datadog);
  return null;
}

/**
 * The trigger of `event` and its trace context. Never throws: an event of no known shape is
 * an unknown trigger without context.
 */
export function readTrigger(event: unknown): Trigger {
  const none = (eventSource = "", eventSourceArn = ""): Trigger => ({
    eventSource,
    eventSourceArn,
    context: null,
  });
  if (!isObject(event)) return none();
  const records = Array.isArray(event.Records) ? event.Records : null;
  const first = records && isObject(records[0]) ? records[0] : null;
  if (first) {
    if (first.eventSource === "aws:sqs") {
      return {
        eventSource: "sqs",
        eventSourceArn: arnOf(first.eventSourceARN),
        context: sqsContext(first),
      };
    }
    if (isObject(first.Sns)) {
      return {
        eventSource: "sns",
        eventSourceArn: arnOf(first.Sns.TopicArn),
        context: contextFromHeaders(snsCarrier(first.Sns)),
      };
    }
    if (isObject(first.kinesis)) {
      const data = base64Json(first.kinesis.data);
      return {
        eventSource: "kinesis",
        eventSourceArn: arnOf(first.eventSourceARN),
        context: isObject(data) ? contextFromHeaders(data._datadog) : null,
      };
    }
    return none();
  }
  const request = isObject(event.requestContext) ? event.requestContext : {};
  let eventSource = "";
  let eventSourceArn = "";
  if (isObject(request.elb)) {
    eventSource = "application-load-balancer";
    eventSourceArn = arnOf(request.elb.targetGroupArn);
  } else if (String(request.domainName ?? "").includes("lambda-url")) {
    eventSource = "lambda-function-url";
  } else if (request.stage !== undefined && (event.httpMethod || event.version === "2.0")) {
    eventSource = "api-gateway";
  } else if (event["detail-type"] !== undefined && typeof event.source === "string") {
    return {
      eventSource: "eventbridge",
      eventSourceArn: "",
      context: isObject(event.detail) ? contextFromHeaders(event.detail._datadog) : null,
    };
  }
  const context = contextFromHeaders(event.headers) ??
    contextFromHeaders(event.multiValueHeaders) ??
    (isObject(event.request) ? contextFromHeaders(event.request.headers) : null);
  return { eventSource, eventSourceArn, context };
}
