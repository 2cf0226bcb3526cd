/**
 * The trace context and trigger read from each event shape. The events are written here after
 * AWS's documented shapes (trimmed to the fields that matter, plus a few that do not), with the
 * Datadog headers where the Datadog tracers and libraries put them.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { contextFromHeaders, readTrigger } from "../../../src/serverless/mod.ts";

const DD = {
  "x-datadog-trace-id": "1234567890123456789",
  "x-datadog-parent-id": "987654321",
  "x-datadog-sampling-priority": "2",
  "x-datadog-tags": "_dd.p.tid=66f1a2b300000000,_dd.p.dm=-4,other=x",
};
const EXPECTED = {
  traceId: 1234567890123456789n,
  parentId: 987654321n,
  samplingPriority: 2,
  tags: { "_dd.p.tid": "66f1a2b300000000", "_dd.p.dm": "-4" },
};
const b64 = (s: string) => btoa(s);

const apiGatewayV1 = {
  resource: "/hello",
  path: "/hello",
  httpMethod: "GET",
  // API Gateway v1 keeps the caller's header case.
  headers: {
    Host: "abc.execute-api.us-east-1.amazonaws.com",
    "X-Datadog-Trace-Id": DD["x-datadog-trace-id"],
    "X-Datadog-Parent-Id": DD["x-datadog-parent-id"],
    "X-Datadog-Sampling-Priority": DD["x-datadog-sampling-priority"],
    "X-Datadog-Tags": DD["x-datadog-tags"],
  },
  multiValueHeaders: {},
  queryStringParameters: null,
  requestContext: { stage: "prod", requestId: "c6af9ac6", apiId: "abc", httpMethod: "GET" },
  body: null,
  isBase64Encoded: false,
};
const apiGatewayV2 = {
  version: "2.0",
  routeKey: "GET /hello",
  rawPath: "/hello",
  rawQueryString: "",
  headers: { "content-type": "application/json", ...DD },
  requestContext: {
    apiId: "abc",
    domainName: "abc.execute-api.us-east-1.amazonaws.com",
    http: { method: "GET", path: "/hello" },
    stage: "$default",
  },
  isBase64Encoded: false,
};
const alb = {
  requestContext: {
    elb: {
      targetGroupArn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/1a2b",
    },
  },
  httpMethod: "GET",
  path: "/",
  multiValueHeaders: Object.fromEntries(Object.entries(DD).map(([k, v]) => [k, [v]])),
  body: "",
};
const functionUrl = {
  version: "2.0",
  rawPath: "/",
  rawQueryString: "",
  headers: DD,
  requestContext: { domainName: "xyz.lambda-url.us-east-1.on.aws", stage: "$default" },
};
const sqsRecord = (attributes: Record<string, unknown>, body = "hello") => ({
  messageId: "059f36b4",
  receiptHandle: "AQEB",
  body,
  attributes: { ApproximateReceiveCount: "1", SentTimestamp: "1545082649183" },
  messageAttributes: attributes,
  md5OfBody: "e4e68fb7",
  eventSource: "aws:sqs",
  eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:queue",
  awsRegion: "us-east-1",
});
const sqs = {
  Records: [sqsRecord({
    _datadog: { stringValue: JSON.stringify(DD), dataType: "String", stringListValues: [] },
  })],
};
const sqsBinary = {
  Records: [sqsRecord({ _datadog: { binaryValue: b64(JSON.stringify(DD)), dataType: "Binary" } })],
};
const snsMessage = (attr: { Type: string; Value: string }) => ({
  Type: "Notification",
  MessageId: "95df01b4",
  TopicArn: "arn:aws:sns:us-east-1:123456789012:topic",
  Message: "hello",
  Timestamp: "2026-01-01T00:00:00.000Z",
  MessageAttributes: { _datadog: attr },
});
const sns = {
  Records: [{
    EventVersion: "1.0",
    EventSubscriptionArn: "arn:aws:sns:us-east-1:123456789012:topic:2bcfbf39",
    EventSource: "aws:sns",
    Sns: snsMessage({ Type: "String", Value: JSON.stringify(DD) }),
  }],
};
const snsBinary = {
  Records: [{
    EventSource: "aws:sns",
    Sns: snsMessage({ Type: "Binary", Value: b64(JSON.stringify(DD)) }),
  }],
};
const snsInSqs = {
  Records: [sqsRecord(
    {},
    JSON.stringify(snsMessage({ Type: "String", Value: JSON.stringify(DD) })),
  )],
};
const eventBridge = {
  version: "0",
  id: "fd0ba3c4",
  "detail-type": "OrderPlaced",
  source: "my.app",
  account: "123456789012",
  time: "2026-01-01T00:00:00Z",
  region: "us-east-1",
  resources: [],
  detail: { order: 1, _datadog: DD },
};
const eventBridgeInSqs = { Records: [sqsRecord({}, JSON.stringify(eventBridge))] };
const kinesis = {
  Records: [{
    kinesis: {
      partitionKey: "1",
      sequenceNumber: "4959",
      data: b64(JSON.stringify({ value: 1, _datadog: DD })),
      approximateArrivalTimestamp: 1545084650.987,
    },
    eventSource: "aws:kinesis",
    eventSourceARN: "arn:aws:kinesis:us-east-1:123456789012:stream/s",
  }],
};

describe("readTrigger", () => {
  const cases: Array<[string, unknown, string, string]> = [
    ["API Gateway v1 (REST)", apiGatewayV1, "api-gateway", ""],
    ["API Gateway v2 (HTTP)", apiGatewayV2, "api-gateway", ""],
    [
      "ALB (multi-value headers)",
      alb,
      "application-load-balancer",
      alb.requestContext.elb.targetGroupArn,
    ],
    ["function URL", functionUrl, "lambda-function-url", ""],
    ["SQS, string attribute", sqs, "sqs", "arn:aws:sqs:us-east-1:123456789012:queue"],
    ["SQS, binary attribute", sqsBinary, "sqs", "arn:aws:sqs:us-east-1:123456789012:queue"],
    ["SNS, string attribute", sns, "sns", "arn:aws:sns:us-east-1:123456789012:topic"],
    ["SNS, binary attribute", snsBinary, "sns", "arn:aws:sns:us-east-1:123456789012:topic"],
    ["SNS inside SQS", snsInSqs, "sqs", "arn:aws:sqs:us-east-1:123456789012:queue"],
    ["EventBridge detail._datadog", eventBridge, "eventbridge", ""],
    ["EventBridge inside SQS", eventBridgeInSqs, "sqs", "arn:aws:sqs:us-east-1:123456789012:queue"],
    ["Kinesis record data", kinesis, "kinesis", "arn:aws:kinesis:us-east-1:123456789012:stream/s"],
  ];
  for (const [name, event, source, arn] of cases) {
    it(`reads the context of ${name}`, () => {
      const t = readTrigger(event);
      assert.equal(t.eventSource, source);
      assert.equal(t.eventSourceArn, arn);
      assert.deepEqual(t.context, EXPECTED);
    });
  }

  it("knows the trigger but finds no context when the event carries none", () => {
    const plain = { ...apiGatewayV1, headers: { Host: "h" } };
    assert.deepEqual(readTrigger(plain), {
      eventSource: "api-gateway",
      eventSourceArn: "",
      context: null,
    });
    const bare = { Records: [sqsRecord({})] };
    assert.equal(readTrigger(bare).context, null);
    assert.equal(readTrigger(bare).eventSource, "sqs");
  });

  it("never throws on events of unknown or broken shapes", () => {
    for (
      const event of [
        null,
        42,
        "text",
        [],
        {},
        { Records: [] },
        { Records: [null] },
        { Records: [sqsRecord({ _datadog: { stringValue: "{not json", dataType: "String" } })] },
        { Records: [sqsRecord({ _datadog: { binaryValue: "%%%", dataType: "Binary" } })] },
        { Records: [{ kinesis: { data: "not base64!" } }] },
        { headers: "x" },
        { "detail-type": "x", source: "s", detail: "string" },
      ]
    ) {
      assert.equal(readTrigger(event).context, null, JSON.stringify(event));
    }
  });
});

describe("contextFromHeaders", () => {
  it("refuses trace ids that are not a uint64 and keeps only valid _dd.p.tid", () => {
    for (const id of ["0", "-1", "abc", "18446744073709551616", "1e5", ""]) {
      assert.equal(contextFromHeaders({ "x-datadog-trace-id": id }), null, id);
    }
    const max = contextFromHeaders({
      "x-datadog-trace-id": "18446744073709551615",
      "x-datadog-tags": "_dd.p.tid=XYZ",
    });
    assert.deepEqual(max, {
      traceId: 18446744073709551615n,
      parentId: 0n,
      samplingPriority: null,
      tags: {},
    });
  });
});
