import type { Context } from "hono";
import type { z } from "zod";
import { SsfError } from "../app/ssf.js";
import type { SsfTransmitter } from "../app/ssf.js";
import { formatIssues } from "../protocol/validate.js";
import { PollRequest, StatusRequest, StreamRequest, VerificationRequest } from "../protocol/ssf.js";
import { HttpError, bodyCap, door, jsonBody, noStoreJson, pathParam, queryParam, resource } from "./http-app.js";
import type { Door, DoorEnv } from "./http-app.js";
import { loadBearerTokens, requireAuth } from "./http-auth.js";

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

/** The request body, checked against `schema`; 400 naming the field. */
function parse<T extends z.ZodType>(schema: T, c: Context<DoorEnv>): z.infer<T> {
  const r = schema.safeParse(jsonBody(c));
  if (!r.success) {
    const { field, message } = formatIssues(r.error);
    throw new HttpError(400, field === "" ? message.replace(/^event: /, "body: ") : message);
  }
  return r.data;
}

const fromSsfError = (e: unknown): HttpError | undefined =>
  e instanceof SsfError
    ? new HttpError(e.status, e.message, e.retryAfterSeconds !== undefined ? { headers: { "retry-after": String(e.retryAfterSeconds) } } : {})
    : undefined;

/** The SSF metadata and stream management, to mount on the HTTP app. */
export function ssfDoor(ssf: SsfTransmitter, receivers: ReadonlyMap<string, Buffer>): Door {
  const app = door(fromSsfError);
  resource(app, "/.well-known/ssf-configuration", { GET: (c) => noStoreJson(c, ssf.configuration()) });

  const auth = requireAuth({ tokens: receivers, realm: "vigil-ssf", who: "a receiver", unconfigured: "no receivers configured (VIGIL_SSF_RECEIVERS)" });
  app.use("/ssf", auth);
  app.use("/ssf/*", auth);
  const withBody = bodyCap({ maxBytes: MAX_BODY });
  const receiver = (c: Context<DoorEnv>) => c.get("caller").name;
  const streamId = (c: Context<DoorEnv>) => queryParam(c, "stream_id");
  const noContent = (c: Context<DoorEnv>) => c.body(null, 204, { "cache-control": "no-store" });

  resource(app, "/ssf/stream", {
    GET: async (c) => noStoreJson(c, await ssf.readStreams(receiver(c), streamId(c))),
    POST: [withBody, async (c) => noStoreJson(c, await ssf.createStream(receiver(c), parse(StreamRequest, c)), 201)],
    PATCH: [withBody, async (c) => noStoreJson(c, await ssf.updateStream(receiver(c), parse(StreamRequest, c), "patch"))],
    PUT: [withBody, async (c) => noStoreJson(c, await ssf.updateStream(receiver(c), parse(StreamRequest, c), "put"))],
    DELETE: async (c) => {
      await ssf.deleteStream(receiver(c), streamId(c));
      return noContent(c);
    },
  });
  resource(app, "/ssf/status", {
    GET: async (c) => noStoreJson(c, await ssf.status(receiver(c), streamId(c))),
    POST: [withBody, async (c) => noStoreJson(c, await ssf.setStatus(receiver(c), parse(StatusRequest, c)))],
  });
  resource(app, "/ssf/verify", {
    POST: [
      withBody,
      async (c) => {
        await ssf.verify(receiver(c), parse(VerificationRequest, c));
        return noContent(c);
      },
    ],
  });
  resource(app, "/ssf/poll/:stream_id", {
    POST: [withBody, async (c) => noStoreJson(c, await ssf.poll(receiver(c), pathParam(c, "stream_id"), parse(PollRequest, c)))],
  });
  return app;
}
