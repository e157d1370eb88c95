import type { Context, MiddlewareHandler } from "hono";
import { HttpError } from "./http-app.js";
import type { DoorEnv } from "./http-app.js";

// A per-caller rate limit for the HTTP doors: a token bucket per key (the authenticated
// caller's name by default), `burst` requests at once and `perSecond` after that; 429 with
// Retry-After past it. Memory is capped: at most `maxKeys` buckets, the least recently used
// dropped first (a dropped key starts again with a full bucket, so keep maxKeys above the
// number of callers a door has).

export interface RateLimitOptions {
  /** Requests per second each key gets back, steadily. */
  readonly perSecond: number;
  /** Requests a key may make at once (the bucket's size); default max(1, perSecond). */
  readonly burst?: number;
  /** Most keys remembered (default 10,000). */
  readonly maxKeys?: number;
  /** The key of a request; default the caller requireAuth set, else the client's address. */
  readonly key?: (c: Context<DoorEnv>) => string;
  /** Milliseconds, monotonic (tests pass their own). */
  readonly now?: () => number;
}

/** Token buckets by key, at most `maxKeys` of them. */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly maxKeys: number,
  ) {
    if (!(perSecond > 0) || !(burst >= 1) || !(maxKeys >= 1)) throw new RangeError("rate limit: perSecond > 0, burst >= 1 and maxKeys >= 1");
  }

  /** Takes a token for `key` at time `nowMs`: 0 when it may go, else the seconds until it may. */
  take(key: string, nowMs: number): number {
    const b = this.buckets.get(key);
    const tokens = b ? Math.min(this.burst, b.tokens + ((nowMs - b.at) / 1000) * this.perSecond) : this.burst;
    // Re-inserted below, so the map's order is least recently used first.
    if (b) this.buckets.delete(key);
    else if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value as string);
    const allowed = tokens >= 1;
    this.buckets.set(key, { tokens: allowed ? tokens - 1 : tokens, at: nowMs });
    return allowed ? 0 : (1 - tokens) / this.perSecond;
  }

  get size(): number {
    return this.buckets.size;
  }
}

const callerOrAddress = (c: Context<DoorEnv>): string =>
  (c.get("caller") as { name: string } | undefined)?.name ?? `address:${c.env?.incoming?.socket?.remoteAddress ?? "unknown"}`;

/** The middleware: put it after requireAuth to limit per token. */
export function rateLimit(o: RateLimitOptions): MiddlewareHandler<DoorEnv> {
  const burst = o.burst ?? Math.max(1, o.perSecond);
  const buckets = new TokenBuckets(o.perSecond, burst, o.maxKeys ?? 10_000);
  const now = o.now ?? (() => performance.now());
  const key = o.key ?? callerOrAddress;
  return async (c, next) => {
    const wait = buckets.take(key(c), now());
    if (wait > 0) {
      const seconds = Math.max(1, Math.ceil(wait));
      throw new HttpError(429, `rate limited: ${o.perSecond} requests per second (bursts of ${burst}); retry in ${seconds} s`, {
        headers: { "retry-after": String(seconds) },
      });
    }
    await next();
  };
}
