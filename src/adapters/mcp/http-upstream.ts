import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike, Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import { isInitializedNotification } from "@modelcontextprotocol/sdk/types.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

// A Streamable HTTP upstream whose standalone stream is open before the session's first
// request goes out. The SDK's client transport opens that stream (a GET) without waiting for
// it once the server has accepted `notifications/initialized`, so the next POST can overtake
// it. A server that sends a request to the client related to no request of the client's (the
// MCP conformance reference server asks for sampling and elicitation that way, from inside a
// tool call) sends it on the standalone stream, and the SDK's server transport only stores a
// message for a standalone stream not open yet: it is never delivered, and the tool call
// waits for an answer that cannot come. So every message after `initialized` waits until the
// server has answered that GET (with a stream, a 405 for none, or an error), at most
// `standaloneWaitMs`. Messages keep their order; nothing else waits.

/** Longest wait for the server's answer to the standalone GET before messages go on without it. */
export const STANDALONE_WAIT_MS = 10_000;

export interface HttpUpstreamOptions {
  readonly headers?: Readonly<Record<string, string>>;
  readonly standaloneWaitMs?: number;
  /** The fetch the transport uses (default: the global one). */
  readonly fetch?: FetchLike;
}

export class HttpUpstreamTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly inner: StreamableHTTPClientTransport;
  private readonly waitMs: number;
  /** Every message goes out after this: once `initialized` has gone, the server's answer to the standalone GET. */
  private gate: Promise<void> = Promise.resolve();
  /** Ends the wait for that answer (set while it is awaited). */
  private standaloneAnswered?: () => void;

  constructor(url: URL, options: HttpUpstreamOptions = {}) {
    const base: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
    // The response's headers come once the server has registered the stream (or refused it).
    const tracked: FetchLike = async (input, init) => {
      try {
        return await base(input, init);
      } finally {
        if (init?.method === "GET") this.standaloneAnswered?.();
      }
    };
    this.inner = new StreamableHTTPClientTransport(url, { requestInit: { headers: { ...options.headers } }, fetch: tracked });
    this.waitMs = options.standaloneWaitMs ?? STANDALONE_WAIT_MS;
  }

  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion(version);
  }

  async start(): Promise<void> {
    this.inner.onmessage = (message) => this.onmessage?.(message);
    this.inner.onerror = (error) => this.onerror?.(error);
    this.inner.onclose = () => this.onclose?.();
    await this.inner.start();
  }

  async close(): Promise<void> {
    this.standaloneAnswered?.();
    await this.inner.close();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const sent = this.gate.then(() => this.inner.send(message, options));
    if (isInitializedNotification(message)) {
      let timer: NodeJS.Timeout | undefined;
      const answered = new Promise<void>((resolve) => {
        this.standaloneAnswered = resolve;
        timer = setTimeout(() => {
          this.onerror?.(new Error(`the server did not answer the standalone stream's GET within ${this.waitMs} ms; messages go on without it`));
          resolve();
        }, this.waitMs);
        timer.unref();
      }).finally(() => {
        clearTimeout(timer);
        this.standaloneAnswered = undefined;
      });
      // A notification the server refused opens no stream: nothing to wait for then.
      this.gate = sent.then(
        () => answered,
        () => this.standaloneAnswered?.(),
      );
    }
    return sent;
  }
}
