/**
 * `stream-logs` (logs-apmstats A.7): processed messages, after the rules (so masked), streamed
 * live to whoever asks through the agent API. Nobody listening costs one boolean test per
 * message; a slow viewer loses lines (counted in its stream), never blocks the pipeline.
 */
import { Hono } from "hono";
import * as v from "valibot";
import type { ApiArea } from "../api/mod.ts";
import type { LogMessage } from "./_message.ts";

/** What a viewer asks for; an empty field matches anything. */
export interface StreamFilter {
  name?: string;
  type?: string;
  source?: string;
  service?: string;
}

/** Lines buffered per viewer before new ones are dropped. */
const VIEWER_BUFFER_LINES = 10_000;

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/**
 * One message in the Datadog Agent's stream-logs layout.
 *
 * @example
 * ```ts
 * import { formatStreamLine } from "./_stream.ts";
 * const line = formatStreamLine({
 *   content: new TextEncoder().encode("hi"), status: "info", timestamp: 0, hostname: "h",
 *   service: "web", source: "nginx", tags: ["env:prod"], rawBytes: 3,
 *   origin: {
 *     source: { name: "web", type: "file" } as never, identifier: "", offset: "", tailingMode: "end", seq: 0,
 *   },
 * });
 * console.assert(line.startsWith("Integration Name: web | Type: file | Status: info"));
 * ```
 */
export function formatStreamLine(m: LogMessage): string {
  const src = m.origin.source;
  return `Integration Name: ${src?.name ?? ""} | Type: ${
    src?.type ?? ""
  } | Status: ${m.status} | ` +
    `Timestamp: ${new Date(m.timestamp).toUTCString()} | Hostname: ${m.hostname} | ` +
    `Service: ${m.service} | Source: ${m.source} | Tags: ${m.tags.join(",")} | ` +
    `Message: ${utf8.decode(m.content)}\n`;
}

function matches(f: StreamFilter, m: LogMessage): boolean {
  const src = m.origin.source;
  return (!f.name || src?.name === f.name) && (!f.type || src?.type === f.type) &&
    (!f.source || m.source === f.source) && (!f.service || m.service === f.service);
}

interface Viewer {
  filter: StreamFilter;
  push(line: string): void;
}

/**
 * Fans processed messages out to the viewers connected now.
 *
 * @example
 * ```ts
 * import { StreamHub } from "./_stream.ts";
 * const hub = new StreamHub();
 * console.assert(!hub.active); // the pipeline skips publish() while false
 * ```
 */
export class StreamHub {
  readonly #viewers = new Set<Viewer>();
  /** True while someone streams; the pipeline tests it before calling `publish`. */
  active = false;

  /** Hands `m` to every viewer whose filter matches. */
  publish(m: LogMessage): void {
    let line: string | undefined;
    for (const v of this.#viewers) {
      if (!matches(v.filter, m)) continue;
      v.push(line ??= formatStreamLine(m));
    }
  }

  /**
   * A byte stream of the matching lines, ending after `durationMs` (0: when the client goes)
   * or when the hub closes.
   */
  open(filter: StreamFilter, durationMs = 0): ReadableStream<Uint8Array> {
    let viewer: Viewer;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let dropped = 0;
    const remove = () => {
      clearTimeout(timer);
      this.#viewers.delete(viewer);
      this.active = this.#viewers.size > 0;
    };
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        viewer = {
          filter,
          push: (line) => {
            if ((controller.desiredSize ?? 0) <= 0) {
              dropped++;
              return;
            }
            if (dropped > 0) {
              controller.enqueue(
                encoder.encode(`(${dropped} lines dropped: the viewer is slow)\n`),
              );
              dropped = 0;
            }
            controller.enqueue(encoder.encode(line));
          },
        };
        this.#viewers.add(viewer);
        this.active = true;
        if (durationMs > 0) {
          timer = setTimeout(() => {
            remove();
            controller.close();
          }, durationMs);
        }
      },
      cancel: remove,
    }, new CountQueuingStrategy({ highWaterMark: VIEWER_BUFFER_LINES }));
  }

  /** Viewers connected now. */
  get viewers(): number {
    return this.#viewers.size;
  }
}

const filterSchema = v.object({
  name: v.optional(v.pipe(v.string(), v.maxLength(256)), ""),
  type: v.optional(v.pipe(v.string(), v.maxLength(16)), ""),
  source: v.optional(v.pipe(v.string(), v.maxLength(256)), ""),
  service: v.optional(v.pipe(v.string(), v.maxLength(256)), ""),
  /** outpost: seconds after which the stream ends; 0 = until the client goes. */
  duration: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(86_400)), 0),
});

/**
 * `POST /agent/stream-logs` with a JSON body `{name, type, source, service, duration}`: a
 * chunked `text/plain` answer of matching lines. Mounted under the API's auth.
 */
export function streamLogsApiArea(hub: StreamHub): ApiArea {
  const app = new Hono();
  app.post("/stream-logs", async (c) => {
    let body: unknown = {};
    const text = await c.req.text();
    if (text.trim() !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        return c.json({ error: "expected a JSON object of filters" }, 400);
      }
    }
    const parsed = v.safeParse(filterSchema, body);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const key = issue.path?.map((p) => p.key).join(".") ?? "";
      return c.json({ error: `Cannot parse stream-logs filter "${key}": ${issue.message}` }, 400);
    }
    const { duration, ...filter } = parsed.output;
    return new Response(hub.open(filter, duration * 1000), {
      headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    });
  });
  return { path: "/agent", app };
}
