import { z } from "zod";
import type { Command } from "./command.js";
import { CAEP_EVENT_TYPES } from "./caep.js";

// OpenID Shared Signals Framework 1.0 (SSF) as Vigil transmits it (docs/ssf.md): each
// command becomes one Security Event Token (RFC 8417) carrying its CAEP 1.0 event, for each
// stream a receiver configured. The wire shapes here are pure; the transmitter is
// app/ssf.ts, its HTTP endpoints adapters/ssf-http.ts.

export const SET_TYPE = "secevent+jwt";
export const SSF_SPEC_VERSION = "1_0";
export const DELIVERY_PUSH = "urn:ietf:rfc:8935";
export const DELIVERY_POLL = "urn:ietf:rfc:8936";
export const SSF_VERIFICATION_EVENT = "https://schemas.openid.net/secevent/ssf/event-type/verification";

/** The CAEP events Vigil emits (one per command, see protocol/caep.ts). */
export const EVENTS_SUPPORTED: readonly string[] = Object.values(CAEP_EVENT_TYPES);

export const STREAM_STATUSES = ["enabled", "paused", "disabled"] as const;
export type StreamStatus = (typeof STREAM_STATUSES)[number];

const MAX_URL = 2048;
const httpUrl = z
  .string()
  .max(MAX_URL)
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === "https:" || u.protocol === "http:";
    } catch {
      return false;
    }
  }, "an http(s) URL");

/** What a receiver may say about delivery when it creates or updates a stream. */
export const DeliveryRequest = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal(DELIVERY_PUSH), endpoint_url: httpUrl, authorization_header: z.string().max(4096).optional() }),
  // The transmitter supplies the poll endpoint; a receiver may echo it back.
  z.strictObject({ method: z.literal(DELIVERY_POLL), endpoint_url: z.string().max(MAX_URL).optional() }),
]);
export type DeliveryRequest = z.infer<typeof DeliveryRequest>;

/** The receiver-supplied fields of a stream configuration (SSF 1.0 section 8.1.1); the transmitter-supplied ones are accepted and ignored. */
export const StreamRequest = z.object({
  stream_id: z.string().max(128).optional(),
  delivery: DeliveryRequest.optional(),
  events_requested: z.array(z.string().max(512)).max(64).optional(),
  description: z.string().max(1024).optional(),
});
export type StreamRequest = z.infer<typeof StreamRequest>;

export const StatusRequest = z.object({
  stream_id: z.string().min(1).max(128),
  status: z.enum(STREAM_STATUSES),
  reason: z.string().max(1024).optional(),
});

export const VerificationRequest = z.object({ stream_id: z.string().min(1).max(128), state: z.string().max(1024).optional() });

/** RFC 8936 section 2.4: a poll request (all members optional). */
export const PollRequest = z.object({
  maxEvents: z.number().int().min(0).max(1000).optional(),
  returnImmediately: z.boolean().optional(),
  ack: z.array(z.string().max(128)).max(1000).optional(),
  setErrs: z.record(z.string().max(128), z.object({ err: z.string().max(256), description: z.string().max(1024).optional() })).optional(),
});
export type PollRequest = z.infer<typeof PollRequest>;

/** A stream as the transmitter keeps it. */
export interface StreamRecord {
  readonly streamId: string;
  /** The receiver (its configured name, also the SETs' `aud`) that owns the stream. */
  readonly receiver: string;
  readonly delivery:
    { readonly method: typeof DELIVERY_PUSH; readonly endpointUrl: string; readonly authorizationHeader?: string } | { readonly method: typeof DELIVERY_POLL };
  readonly eventsRequested: readonly string[];
  readonly description?: string;
  readonly status: StreamStatus;
  readonly reason?: string;
  readonly createdAt: string;
}

/** The events a stream delivers: those requested that Vigil supports (all when none requested). */
export function eventsDelivered(requested: readonly string[]): string[] {
  return requested.length === 0 ? [...EVENTS_SUPPORTED] : EVENTS_SUPPORTED.filter((e) => requested.includes(e));
}

/** RFC 9493 subject identifiers. */
export type SubjectId =
  | { readonly format: "opaque"; readonly id: string }
  | { readonly format: "email"; readonly email: string }
  | { readonly format: "iss_sub"; readonly iss: string; readonly sub: string }
  | { readonly format: "complex"; readonly session: SubjectId; readonly user: SubjectId };

// An addr-spec's common shape; anything else is not claimed to be an email.
const EMAIL = /^[^\s@"<>()[\],;:\\]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/** The principal as RFC 9493 says it: an email when it is one, `iss_sub` when the principals' issuer is configured, else opaque. */
export function principalSubject(principalId: string, principalIssuer: string | undefined): SubjectId {
  if (principalId.length <= 254 && EMAIL.test(principalId)) return { format: "email", email: principalId };
  if (principalIssuer !== undefined) return { format: "iss_sub", iss: principalIssuer, sub: principalId };
  return { format: "opaque", id: principalId };
}

export interface SetClaims {
  readonly iss: string;
  readonly aud: string;
  readonly jti: string;
  readonly iat: number;
  readonly txn?: string;
  readonly sub_id: SubjectId;
  readonly events: Record<string, Record<string, unknown>>;
}

/** A command's SET payload: its CAEP event about the session (and, as a complex subject, its principal). */
export function commandSetClaims(
  c: Command,
  o: { readonly issuer: string; readonly audience: string; readonly jti: string; readonly iatSeconds: number; readonly principalIssuer?: string | undefined },
): SetClaims {
  const { eventType, subject, ...event } = c.caep;
  const session: SubjectId = { format: "opaque", id: subject.id };
  return {
    iss: o.issuer,
    aud: o.audience,
    jti: o.jti,
    iat: o.iatSeconds,
    txn: c.commandId,
    sub_id: { format: "complex", session, user: principalSubject(c.principalId, o.principalIssuer) },
    events: { [eventType]: event },
  };
}

/** An SSF verification event (section 8.1.4.2): about the stream itself, echoing the receiver's `state`. */
export function verificationSetClaims(o: {
  readonly issuer: string;
  readonly audience: string;
  readonly jti: string;
  readonly iatSeconds: number;
  readonly streamId: string;
  readonly state?: string | undefined;
}): SetClaims {
  return {
    iss: o.issuer,
    aud: o.audience,
    jti: o.jti,
    iat: o.iatSeconds,
    sub_id: { format: "opaque", id: o.streamId },
    events: { [SSF_VERIFICATION_EVENT]: o.state === undefined ? {} : { state: o.state } },
  };
}
