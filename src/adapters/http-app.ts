import type { HttpBindings } from "@hono/node-server";
import { Hono } from "hono";
import type { Context, Handler, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { routePath } from "hono/route";
import type { ContentfulStatusCode } from "hono/utils/http-status";

// The processor's one HTTP layer (hono on @hono/node-server, served by http-server.ts): every
// door — health and metrics, the review API and page, SSF, and whatever comes next — is a
// sub-app made with door() and mounted on the one app made with httpApp(). What they share is
// here, so each door only says what is its own:
//   - one error type (HttpError) and one JSON error shape, {"error": "<one line>", "code":
//     "<snake_case>"} (the `error` string is what these endpoints always answered; the code is
//     for programs), with content-type application/json and cache-control no-store;
//   - the HTTP limits: the body cap and the slow-body timeout (bodyCap), and the server's
//     header and request timeouts (HTTP_LIMITS, applied by startHttp);
//   - routing helpers that answer 405 with Allow, and path parameters decoded strictly.
// Authentication (requireAuth) is in http-auth.ts, the rate limiter in http-rate-limit.ts.

/** The timeouts of every door, in one place (http-server.ts applies the server's). */
export const HTTP_LIMITS = {
  /** A request body must arrive whole within this long once a door reads it (408 otherwise). */
  bodyTimeoutMs: 10_000,
  /** The request line and headers must arrive within this long (Node answers 408 and closes). */
  headersTimeoutMs: 20_000,
  /** The whole request must arrive within this long: a backstop behind bodyTimeoutMs (answers are not timed: a long poll may wait longer). */
  requestTimeoutMs: 60_000,
} as const;

const CODES = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  408: "request_timeout",
  409: "conflict",
  413: "body_too_large",
  429: "rate_limited",
  500: "internal",
  502: "bad_gateway",
  503: "unavailable",
  504: "gateway_timeout",
} as const;

/** The code an error answer gets from its status alone. */
type StatusCode = (typeof CODES)[keyof typeof CODES];

/** The codes of error answers (docs/operations.md, "The HTTP port"): one per status, and those Vigil's doors give. */
export type HttpErrorCode =
  StatusCode | "unsupported_media_type" | "invalid_request" | "invalid_event" | "output_too_large" | "unauthenticated" | "too_many_events";

/**
 * The one error an HTTP door throws: its status, a machine code (from the status unless given), a one-line message, and headers to answer with.
 * Vigil's doors give the codes of HttpErrorCode; a door of one's own may name its own (`Code`).
 */
export class HttpError<Code extends string = HttpErrorCode> extends Error {
  readonly code: Code | StatusCode;
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    readonly status: number,
    message: string,
    options: { readonly code?: Code; readonly headers?: Readonly<Record<string, string>> } = {},
  ) {
    super(message);
    this.code = options.code ?? (CODES as Readonly<Record<number, StatusCode>>)[status] ?? (status >= 500 ? "internal" : "bad_request");
    this.headers = options.headers ?? {};
  }
}

/** The body of every error answer. */
export interface ErrorBody {
  readonly error: string;
  readonly code: string;
}

export const errorBody = (e: HttpError<string>): ErrorBody => ({ error: e.message, code: e.code });

/** Who a request speaks for, once requireAuth let it through. */
export interface Caller {
  readonly name: string;
  readonly via: "token" | "certificate";
}

/** What every door's handlers see: the Node request and response (c.env.incoming, c.env.outgoing), the caller and the capped body. */
export interface DoorEnv {
  Bindings: HttpBindings;
  Variables: {
    /** Set by requireAuth. */
    caller: Caller;
    /** Set by bodyCap: the whole request body. */
    body: Uint8Array;
  };
}

export type Door = Hono<DoorEnv>;

const ERROR_HEADERS = { "content-type": "application/json", "cache-control": "no-store", "x-content-type-options": "nosniff" } as const;

/** An HttpError as the one error answer. */
export const errorResponse = (e: HttpError): Response =>
  new Response(JSON.stringify(errorBody(e)), { status: e.status, headers: { ...ERROR_HEADERS, ...e.headers } });

/** Anything thrown, as an HttpError: hono's own exceptions keep their status; the rest is a 500 with its message. */
export function asHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (e instanceof HTTPException) return new HttpError(e.status, e.message || "request refused");
  return new HttpError(500, e instanceof Error ? e.message : String(e));
}

/**
 * The app every door is mounted on (`app.route("/", door)`): unknown paths are 404 and
 * anything a door throws becomes the one error shape. `unexpected` hears of every 5xx (to log it).
 */
export function httpApp(options: { readonly unexpected?: (error: HttpError, method: string, path: string) => void } = {}): Door {
  // Not strict: a trailing slash names the same resource, as it did before the routes were hono's.
  const app = new Hono<DoorEnv>({ strict: false });
  app.onError((e, c) => {
    const error = asHttpError(e);
    if (error.status >= 500) options.unexpected?.(error, c.req.method, c.req.path);
    // An error no door meant for the caller (a driver's, a broker's) is logged whole, answered without its text.
    const meant = e instanceof HttpError || e instanceof HTTPException;
    return errorResponse(meant || error.status < 500 ? error : new HttpError(error.status, "internal error: see the processor's log"));
  });
  app.notFound(() => errorResponse(new HttpError(404, "not found")));
  return app;
}

/**
 * A sub-app for one door. `translate` turns the door's own domain errors (a service's
 * status-carrying error) into HttpError; anything else it throws reaches httpApp's handler
 * as it is. Mount it with `app.route("/", door)`; register middleware on the door's own paths
 * (`door.use("/mine/*", …)`), never on "*", which would reach every other door's paths too.
 */
export function door(translate?: (e: unknown) => HttpError | undefined): Door {
  const app = new Hono<DoorEnv>({ strict: false });
  if (translate)
    app.onError((e) => {
      throw translate(e) ?? e;
    });
  return app;
}

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
type Handlers = Handler<DoorEnv> | readonly [...MiddlewareHandler<DoorEnv>[], Handler<DoorEnv>];

/**
 * One path's methods, each a handler or middleware then a handler; any other method is 405
 * with Allow (listed in the order given). GET answers HEAD too.
 */
export function resource(app: Door, path: string, methods: Partial<Record<Method, Handlers>>): Door {
  const allow = Object.keys(methods).join(", ");
  for (const [method, handlers] of Object.entries(methods)) {
    const list = (Array.isArray(handlers) ? handlers : [handlers]) as Handler<DoorEnv>[];
    app.on(method, path, ...(list as [Handler<DoorEnv>]));
  }
  app.all(path, () => {
    throw new HttpError(405, "method not allowed", { headers: { allow } });
  });
  return app;
}

/** A path parameter of the route (`:name`), percent-decoded from the raw path; 400 for a malformed escape (hono would pass it on undecoded). */
export function pathParam(c: Context<DoorEnv>, name: string): string {
  const at = routePath(c).split("/").indexOf(`:${name}`);
  const raw = at < 0 ? undefined : new URL(c.req.url).pathname.split("/")[at];
  if (raw === undefined) throw new Error(`route ${routePath(c)} has no parameter :${name}`);
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `${name}: malformed percent-encoding in the path`);
  }
}

/** A query parameter as URLSearchParams reads it (`?x=` is ""), or undefined. */
export const queryParam = (c: Context<DoorEnv>, name: string): string | undefined => new URL(c.req.url).searchParams.get(name) ?? undefined;

/**
 * Reads the whole request body before the handler runs, into `c.get("body")`: 413 past
 * `maxBytes` (a declared Content-Length is refused before reading), 408 when it has not
 * arrived within `timeoutMs`. Both answers close the connection: the rest of the body is
 * never read. Put it after requireAuth, so nobody's body is read before they are known.
 */
export function bodyCap(options: { readonly maxBytes: number; readonly timeoutMs?: number }): MiddlewareHandler<DoorEnv> {
  const { maxBytes, timeoutMs = HTTP_LIMITS.bodyTimeoutMs } = options;
  const tooLarge = () => new HttpError(413, `request body over the cap of ${maxBytes} bytes`, { headers: { connection: "close" } });
  return async (c, next) => {
    const declared = Number(c.req.header("content-length"));
    if (declared > maxBytes) throw tooLarge();
    c.set("body", await readBody(c.req.raw.body, maxBytes, timeoutMs, tooLarge));
    await next();
  };
}

async function readBody(stream: ReadableStream<Uint8Array> | null, maxBytes: number, timeoutMs: number, tooLarge: () => HttpError): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HttpError(408, `request body not received within ${timeoutMs} ms`, { headers: { connection: "close" } })), timeoutMs);
  });
  try {
    for (;;) {
      const read = reader.read();
      // A read still pending when the 408 goes out fails once the connection closes; nobody waits for it then.
      read.catch(() => {});
      const { done, value } = await Promise.race([read, late]).catch((e: unknown) => {
        throw e instanceof HttpError ? e : new HttpError(400, `request body: ${e instanceof Error ? e.message : String(e)}`);
      });
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw tooLarge();
      chunks.push(value);
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/** The body bodyCap read, as a JSON object (`{}` when empty); 400 for anything else. */
export function jsonBody(c: Context<DoorEnv>): Record<string, unknown> {
  const body = c.get("body") as Uint8Array | undefined;
  if (body === undefined) throw new Error(`${c.req.method} ${routePath(c)}: jsonBody needs bodyCap on the route`);
  if (body.byteLength === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
  } catch {
    throw new HttpError(400, "body: not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new HttpError(400, "body: expected a JSON object");
  return parsed as Record<string, unknown>;
}

/** A JSON answer that no cache keeps (every door's API answers). */
export const noStoreJson = (c: Context<DoorEnv>, value: unknown, status: ContentfulStatusCode = 200, headers: Record<string, string> = {}): Response =>
  c.json(value, status, { "cache-control": "no-store", ...headers });
