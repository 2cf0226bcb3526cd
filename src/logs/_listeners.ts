/**
 * TCP and UDP listeners (A.4) on a source's `port`, on every interface as the Go agent listens.
 * TCP: each connection has its own decoder (partial lines are per connection, a last line
 * without a newline is sent when the peer closes) and is paused, not dropped, while the sender
 * refuses. UDP: each datagram is one or more lines, cut at `frame_size`; while the sender
 * refuses, datagrams are dropped and counted. Nothing here is recorded in the registry.
 *
 * @module
 */
import type { Runtime } from "../runtime/types.ts";
import { Decoder } from "./_decoder.ts";
import { createLineHandler } from "./_lines.ts";
import type { LogSource } from "./_message.ts";
import { createProcessor, truncatedTag } from "./_processor.ts";
import type { TailerContext } from "./_tailer.ts";

/** A running listener. */
export interface Listener {
  readonly port: number;
  stop(): Promise<void>;
}

/** What a listener needs besides the tailers' context. */
export interface ListenerContext extends TailerContext {
  runtime: Runtime;
  frameSize: number;
  useSourcehostTag: boolean;
}

const ANY = "0.0.0.0";
const PAUSE_MS = 50;

/** Starts the listener of a `tcp` or `udp` source; rejects when the port cannot be bound. */
export async function startListener(source: LogSource, ctx: ListenerContext): Promise<Listener> {
  const l = source.type === "tcp" ? await listenTcp(source, ctx) : await listenUdp(source, ctx);
  source.status = { state: "ok" };
  return l;
}

/** A decoder → line handler → processor chain for one stream of `source`. */
function chain(source: LogSource, ctx: ListenerContext, peer: string) {
  const c = source.config;
  const tags = [...c.tags];
  if (c.sourceCategory) tags.push(`sourcecategory:${c.sourceCategory}`);
  if (ctx.useSourcehostTag && peer) tags.push(`source_host:${peer}`);
  const process = createProcessor({
    source,
    hostname: ctx.hostname,
    hostTags: ctx.hostTags,
    tags,
    truncatedTag: ctx.tagTruncated ? truncatedTag(c) : undefined,
    identifier: () => "",
    fingerprint: () => "",
    tailingMode: c.startPosition,
    output: ctx.output,
    events: ctx.events,
  });
  const info = source.info;
  const handler = createLineHandler(c, {
    maxMessageSize: ctx.maxMessageSize,
    aggregationTimeoutMs: ctx.aggregationTimeoutMs,
    jsonDetection: ctx.jsonDetection,
    extraPatterns: ctx.autoMultiLinePatterns,
    onEvent: (e) => {
      info.lines++;
      process(e);
    },
    info,
  });
  const decoder = new Decoder({
    encoding: "utf-8",
    maxMessageSize: ctx.maxMessageSize,
    onLine: (line) => {
      if (line.truncated) info.truncated++, ctx.events.logsTruncated.inc();
      handler.add(line, 0);
    },
    onDecodingError: (n) => {
      info.decodingErrors += n;
      ctx.events.decodingErrors.inc(n);
    },
  });
  return { decoder, handler };
}

function countRead(source: LogSource, ctx: ListenerContext, n: number): void {
  source.info.bytesRead += n;
  ctx.events.bytesRead.inc(n);
}

async function listenTcp(source: LogSource, ctx: ListenerContext): Promise<Listener> {
  const info = source.info;
  const server = await ctx.runtime.listenTcp(ANY, source.config.port, {
    idleTimeoutMs: source.config.idleTimeoutMs,
    onConnection(conn) {
      const peer = conn.remoteAddress.replace(/^::ffff:/, "");
      const { decoder, handler } = chain(source, ctx, peer);
      info.inputs.push(peer);
      let paused: ReturnType<typeof setTimeout> | undefined;
      const waitForSender = () => {
        paused = setTimeout(() => {
          if (ctx.canAccept()) {
            paused = undefined;
            conn.resume();
          } else waitForSender();
        }, PAUSE_MS);
      };
      return {
        onData(chunk) {
          countRead(source, ctx, chunk.length);
          decoder.write(chunk);
          if (paused === undefined && !ctx.canAccept()) {
            conn.pause();
            waitForSender();
          }
        },
        onClose() {
          if (paused !== undefined) clearTimeout(paused);
          decoder.flush();
          handler.flush();
          const i = info.inputs.indexOf(peer);
          if (i >= 0) info.inputs.splice(i, 1);
        },
      };
    },
  });
  return { port: server.port, stop: () => server.close() };
}

async function listenUdp(source: LogSource, ctx: ListenerContext): Promise<Listener> {
  const max = ctx.frameSize;
  const chains = new Map<string, ReturnType<typeof chain>>();
  const socket = await ctx.runtime.listenUdp(ANY, source.config.port, {
    bufferSize: max + 1,
    onBatch(batch) {
      for (const d of batch) {
        countRead(source, ctx, d.data.length);
        if (!ctx.canAccept()) {
          ctx.events.listenerLogsDropped.inc();
          continue;
        }
        const peer = d.from.slice(0, d.from.lastIndexOf(":")).replace(/^\[|\]$/g, "");
        // One chain per peer address keeps the source_host tag right; bounded below.
        let c = chains.get(peer);
        if (!c) {
          if (chains.size >= 1024) chains.clear();
          chains.set(peer, c = chain(source, ctx, peer));
        }
        let data = d.data.length > max ? d.data.subarray(0, max) : d.data;
        if (data[data.length - 1] !== 10) {
          const framed = new Uint8Array(data.length + 1);
          framed.set(data);
          framed[data.length] = 10;
          data = framed;
        }
        c.decoder.write(data);
      }
    },
  });
  return {
    port: socket.port,
    stop() {
      socket.close();
      for (const c of chains.values()) c.handler.flush();
      return Promise.resolve();
    },
  };
}
