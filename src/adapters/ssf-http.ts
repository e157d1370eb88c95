import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { SsfError } from "../app/ssf.js";
import type { SsfTransmitter } from "../app/ssf.js";
import { formatIssues } from "../protocol/validate.js";
import { PollRequest, StatusRequest, StreamRequest, VerificationRequest } from "../protocol/ssf.js";
import { HttpInputError, bearerName, jsonBody, loadBearerTokens, pathSegment } from "./http-auth.js";

// The SSF transmitter's HTTP endpoints on the processor's port (docs/ssf.md):
//   GET    /.well-known/ssf-configuration          transmitter metadata (no credentials)
//   POST   /ssf/stream                             create a stream       → 201 configuration
//   GET    /ssf/stream[?stream_id=]                one stream, or all of the receiver's
//   PATCH  /ssf/stream   PUT /ssf/stream           update (merge) / replace
//   DELETE /ssf/stream?stream_id=                  → 204
//   GET    /ssf/status?stream_id=   POST /ssf/status   read / set enabled|paused|disabled
//   POST   /ssf/verify                             queue a verification event → 204
//   POST   /ssf/poll/:streamId                     RFC 8936 poll (acks, setErrs) → {sets, moreAvailable}
// Everything but the metadata needs a receiver's bearer token (VIGIL_SSF_RECEIVERS); a
// receiver sees only its own streams. The JWKS is /.well-known/jwks.json (http-server.ts).

/** Receivers from `name:token` pairs; the name (which may be a URL) is the SETs' `aud`. */
export const loadReceivers = (settings: { inline?: string | undefined; file?: string | undefined }): Map<string, Buffer> =>
  loadBearerTokens({ ...settings, inlineVariable: "VIGIL_SSF_RECEIVERS", fileVariable: "VIGIL_SSF_RECEIVERS_FILE", split: "last" });

const MAX_BODY = 64 * 1024;

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (!r.success) {
    const { field, message } = formatIssues(r.error);
    throw new HttpInputError(400, field === "" ? message.replace(/^event: /, "body: ") : message);
  }
  return r.data;
}

export function ssfRoutes(ssf: SsfTransmitter, receivers: ReadonlyMap<string, Buffer>) {
  return (req: IncomingMessage, res: ServerResponse, path: string): boolean => {
    if (path !== "/.well-known/ssf-configuration" && path !== "/ssf" && !path.startsWith("/ssf/")) return false;
    const json = (status: number, value: unknown, extra: Record<string, string> = {}): true => {
      if (status === 204) {
        res.writeHead(204, { "cache-control": "no-store", ...extra });
        res.end();
        return true;
      }
      res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...extra });
      res.end(JSON.stringify(value));
      return true;
    };
    const method = req.method ?? "GET";
    if (path === "/.well-known/ssf-configuration") {
      if (method !== "GET") return json(405, { error: "method not allowed" }, { allow: "GET" });
      return json(200, ssf.configuration());
    }
    const receiver = bearerName(req, receivers);
    if (receiver === undefined)
      return json(
        401,
        { error: receivers.size === 0 ? "no receivers configured (VIGIL_SSF_RECEIVERS)" : "a receiver's bearer token is required" },
        { "www-authenticate": 'Bearer realm="vigil-ssf"' },
      );
    const fail = (e: unknown) => {
      if (e instanceof SsfError)
        return json(e.status, { error: e.message }, e.retryAfterSeconds !== undefined ? { "retry-after": String(e.retryAfterSeconds) } : {});
      if (e instanceof HttpInputError) return json(e.status, { error: e.message });
      return json(500, { error: e instanceof Error ? e.message : String(e) });
    };
    const url = new URL(req.url ?? "/", "http://localhost");
    const streamId = url.searchParams.get("stream_id") ?? undefined;
    const withBody = <T>(then: (body: Record<string, unknown>) => Promise<T>, answer: (v: T) => unknown) => {
      jsonBody(req, MAX_BODY).then(then).then(answer, fail);
      return true;
    };
    const notAllowed = (allow: string) => json(405, { error: "method not allowed" }, { allow });

    if (path === "/ssf/stream") {
      switch (method) {
        case "POST":
          return withBody(
            (b) => ssf.createStream(receiver, parse(StreamRequest, b)),
            (c) => json(201, c),
          );
        case "GET":
          ssf.readStreams(receiver, streamId).then((c) => json(200, c), fail);
          return true;
        case "PATCH":
        case "PUT":
          return withBody(
            (b) => ssf.updateStream(receiver, parse(StreamRequest, b), method === "PUT" ? "put" : "patch"),
            (c) => json(200, c),
          );
        case "DELETE":
          ssf.deleteStream(receiver, streamId).then(() => json(204, null), fail);
          return true;
        default:
          return notAllowed("GET, POST, PATCH, PUT, DELETE");
      }
    }
    if (path === "/ssf/status") {
      if (method === "GET") {
        ssf.status(receiver, streamId).then((s) => json(200, s), fail);
        return true;
      }
      if (method === "POST")
        return withBody(
          (b) => ssf.setStatus(receiver, parse(StatusRequest, b)),
          (s) => json(200, s),
        );
      return notAllowed("GET, POST");
    }
    if (path === "/ssf/verify") {
      if (method !== "POST") return notAllowed("POST");
      return withBody(
        (b) => ssf.verify(receiver, parse(VerificationRequest, b)),
        () => json(204, null),
      );
    }
    const poll = /^\/ssf\/poll\/([^/]+)$/.exec(path);
    if (poll) {
      if (method !== "POST") return notAllowed("POST");
      return withBody(
        (b) => ssf.poll(receiver, pathSegment(poll[1] as string, "stream_id"), parse(PollRequest, b)),
        (r) => json(200, r),
      );
    }
    return json(404, { error: "not found" });
  };
}
