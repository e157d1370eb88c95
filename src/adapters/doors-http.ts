import type { Context } from "hono";
import { nestsDeeperThan } from "../protocol/index.js";
import { AuthzenInputError } from "../app/authzen.js";
import type { Authzen } from "../app/authzen.js";
import { IntakeError } from "../app/intake.js";
import type { Intake } from "../app/intake.js";
import { HttpError, bodyCap, door, noStoreJson, resource } from "./http-app.js";
import type { Door, DoorEnv } from "./http-app.js";
import { requireAuth } from "./http-auth.js";
import { rateLimit } from "./http-rate-limit.js";
import { ExportTraceServiceResponse } from "./otel/otlp-schema.js";

// The doors for enforcement points and agents in any language (docs/doors.md), on the
// processor's HTTP port: AuthZEN 1.0 (`POST /access/v1/evaluation(s)`, and its metadata at
// `GET /.well-known/authzen-configuration`), the event intake (`POST /v1/events`) and, when
// given, the OTLP/HTTP trace receiver (`POST /v1/traces`). Callers are enforcement points:
// a bearer token of VIGIL_PEP_TOKENS or a client certificate of VIGIL_PEP_MTLS_SUBJECTS; each
// has its own rate (429 with Retry-After past it). Bodies are capped, JSON nesting is bounded,
// and what a request carries is checked whole before anything of it is published.

/** The OTLP receiver as this door needs it: a body of a content type, for a caller, turned into published events. */
export interface TraceReceiver {
  /** The body as sent, inflated per its Content-Encoding (415 for one not supported, 413 past the cap). */
  inflate(body: Uint8Array, encoding: string | undefined): Uint8Array;
  accept(
    body: Uint8Array | string,
    contentType: "protobuf" | "json",
    caller: string,
  ): Promise<{ readonly accepted: number; readonly rejected: number; readonly error?: string }>;
}

export interface DoorsOptions {
  /** Absent when no enforcement point is configured: every door but the metadata then answers 401 naming the settings. */
  readonly authzen?: Authzen;
  readonly intake?: Intake;
  readonly traces?: TraceReceiver;
  readonly tokens: ReadonlyMap<string, Buffer>;
  readonly certificateSubjects?: ReadonlySet<string>;
  /** Requests per second per caller (a burst of twice that). */
  readonly perSecond: number;
}

/** Deepest JSON nesting a door reads (the contract's deepest event is far shallower). */
const MAX_DEPTH = 64;
export const DOOR_CAPS = { evaluation: 64 * 1024, evaluations: 1024 * 1024, events: 4 * 1024 * 1024, traces: 4 * 1024 * 1024 } as const;

const fromDomain = (e: unknown): HttpError | undefined => {
  if (e instanceof AuthzenInputError) return new HttpError(e.status, e.message, { code: e.code });
  if (e instanceof IntakeError) return new HttpError(e.status, e.message, { code: e.code });
  return undefined;
};

/** The JSON value of a capped body: 415 for another content type, 400 for malformed or too deep. */
function jsonOf(c: Context<DoorEnv>): unknown {
  const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json")
    throw new HttpError(415, `content-type: expected application/json, got ${type || "none"}`, { code: "unsupported_media_type" });
  const body = c.get("body");
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  if (nestsDeeperThan(text, MAX_DEPTH)) throw new HttpError(400, `body: JSON nested deeper than ${MAX_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `body: not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** AuthZEN answers echo the request's X-Request-ID (AuthZEN 1.0, section 10). */
const requestId = (c: Context<DoorEnv>): Record<string, string> => {
  const id = c.req.header("x-request-id");
  return id !== undefined && id.length <= 256 ? { "x-request-id": id } : {};
};

export function doorsDoor(o: DoorsOptions): Door {
  const app = door(fromDomain);
  const closed = (): never => {
    throw new HttpError(503, "this door is not open: no enforcement points are configured", { code: "unavailable" });
  };
  const authzen = o.authzen ?? { evaluation: closed, evaluations: closed, configuration: (base: string) => ({ policy_decision_point: base }) };
  const intake = o.intake ?? { accept: closed };
  const auth = requireAuth({
    tokens: o.tokens,
    ...(o.certificateSubjects ? { certificateSubjects: o.certificateSubjects } : {}),
    realm: "vigil-pep",
    who: "an enforcement point",
    unconfigured: "no enforcement points are configured (VIGIL_PEP_TOKENS or VIGIL_PEP_MTLS_SUBJECTS)",
  });
  const limit = rateLimit({ perSecond: o.perSecond, burst: 2 * o.perSecond });
  const guarded = (cap: number) => [auth, limit, bodyCap({ maxBytes: cap })] as const;

  resource(app, "/.well-known/authzen-configuration", { GET: (c) => noStoreJson(c, authzen.configuration(new URL(c.req.url).origin)) });
  resource(app, "/access/v1/evaluation", {
    POST: [...guarded(DOOR_CAPS.evaluation), async (c) => noStoreJson(c, await authzen.evaluation(jsonOf(c), c.get("caller").name), 200, requestId(c))],
  });
  resource(app, "/access/v1/evaluations", {
    POST: [...guarded(DOOR_CAPS.evaluations), async (c) => noStoreJson(c, await authzen.evaluations(jsonOf(c), c.get("caller").name), 200, requestId(c))],
  });
  resource(app, "/v1/events", {
    POST: [...guarded(DOOR_CAPS.events), async (c) => noStoreJson(c, await intake.accept(jsonOf(c), c.get("caller").name), 202)],
  });
  if (o.traces) {
    const traces = o.traces;
    resource(app, "/v1/traces", {
      POST: [
        ...guarded(DOOR_CAPS.traces),
        async (c) => {
          const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
          const as = type === "application/x-protobuf" ? "protobuf" : type === "application/json" ? "json" : undefined;
          if (as === undefined)
            throw new HttpError(415, `content-type: expected application/x-protobuf or application/json, got ${type || "none"}`, {
              code: "unsupported_media_type",
            });
          const body = traces.inflate(c.get("body"), c.req.header("content-encoding"));
          const json = as === "json" ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8") : undefined;
          if (json !== undefined && nestsDeeperThan(json, MAX_DEPTH)) throw new HttpError(400, `body: JSON nested deeper than ${MAX_DEPTH} levels`);
          const r = await traces.accept(json ?? body, as, c.get("caller").name);
          // OTLP/HTTP: 200 with an ExportTraceServiceResponse in the request's encoding; tool spans refused are counted in partialSuccess.
          const partial = r.rejected > 0 ? { rejectedSpans: r.rejected, errorMessage: r.error ?? "" } : undefined;
          if (as === "json") return noStoreJson(c, { partialSuccess: partial ? { ...partial, rejectedSpans: String(partial.rejectedSpans) } : {} });
          const bytes = ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create(partial ? { partialSuccess: partial } : {})).finish();
          return c.body(Buffer.from(bytes), 200, { "content-type": "application/x-protobuf", "cache-control": "no-store" });
        },
      ],
    });
  }
  return app;
}
