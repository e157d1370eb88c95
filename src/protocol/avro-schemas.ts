// The Avro form of the wire contract, as data: the source of the registered schemas and of
// schemas/*.avsc (written from these by scripts/gen-schemas.mjs; a test keeps them equal).
// Kept in code so the SDKs encode and decode without reading files.

export const AVRO_EVENT_SCHEMA = {
  type: "record",
  name: "AgentEvent",
  namespace: "io.vigil.v1",
  doc: "Vigil agent event, docs/contract.md, events, v1.4 (topic vigil.events, key = sessionId). One record for all nine event types: `type` selects which per-type fields are set; the others are null. Field names are those of the JSON form. Timestamps are RFC 3339 strings. Enumerated values are strings (validated by the JSON form's schema), so adding a value stays a compatible change; `source.trust` (v1.1) is an enum whose default `unknown` is what an older reader makes of a newer symbol. See schemas/README.md.",
  fields: [
    {
      name: "eventId",
      type: "string",
      doc: "Unique; the idempotency key.",
    },
    {
      name: "type",
      type: "string",
      doc: "session.started | action | action.result | intent.updated | context.changed | grant.requested | session.ended | review.decided | tools.listed | step_up.answered",
    },
    {
      name: "sessionId",
      type: "string",
      doc: "One agent session; the Kafka key.",
    },
    {
      name: "time",
      type: "string",
      doc: "Event time, RFC 3339 with a zone (Z or +hh:mm).",
    },
    {
      name: "agent",
      type: {
        type: "record",
        name: "AgentRef",
        fields: [
          {
            name: "id",
            type: "string",
          },
          {
            name: "name",
            type: ["null", "string"],
            default: null,
          },
          {
            name: "version",
            type: ["null", "string"],
            default: null,
          },
        ],
      },
    },
    {
      name: "principal",
      type: {
        type: "record",
        name: "PrincipalRef",
        fields: [
          {
            name: "id",
            type: "string",
          },
          {
            name: "roles",
            type: [
              "null",
              {
                type: "array",
                items: "string",
              },
            ],
            default: null,
          },
        ],
      },
    },
    {
      name: "delegation",
      type: [
        "null",
        {
          type: "array",
          items: "string",
        },
      ],
      default: null,
    },
    {
      name: "context",
      default: null,
      type: [
        "null",
        {
          type: "record",
          name: "EventContext",
          fields: [
            {
              name: "ip",
              type: ["null", "string"],
              default: null,
            },
            {
              name: "geo",
              type: ["null", "string"],
              default: null,
            },
            {
              name: "device",
              default: null,
              type: [
                "null",
                {
                  type: "record",
                  name: "DeviceContext",
                  fields: [
                    {
                      name: "id",
                      type: ["null", "string"],
                      default: null,
                    },
                    {
                      name: "compliant",
                      type: ["null", "boolean"],
                      default: null,
                    },
                  ],
                },
              ],
            },
            {
              name: "userAgent",
              type: ["null", "string"],
              default: null,
            },
            {
              name: "network",
              type: ["null", "string"],
              default: null,
              doc: "corporate | public | any other string",
            },
          ],
        },
      ],
    },
    {
      name: "intent",
      doc: "session.started and intent.updated (required there).",
      default: null,
      type: [
        "null",
        {
          type: "record",
          name: "Intent",
          fields: [
            {
              name: "goal",
              type: "string",
            },
            {
              name: "capabilities",
              type: [
                "null",
                {
                  type: "array",
                  items: "string",
                },
              ],
              default: null,
            },
            {
              name: "resources",
              type: [
                "null",
                {
                  type: "array",
                  items: "string",
                },
              ],
              default: null,
            },
            {
              name: "maxSensitivity",
              type: ["null", "string"],
              default: null,
              doc: "public | internal | confidential | restricted",
            },
            {
              name: "expiresAt",
              type: ["null", "string"],
              default: null,
              doc: "RFC 3339 timestamp.",
            },
          ],
        },
      ],
    },
    {
      name: "grants",
      doc: "session.started only.",
      type: [
        "null",
        {
          type: "array",
          items: "string",
        },
      ],
      default: null,
    },
    {
      name: "action",
      doc: "action only (required there).",
      default: null,
      type: [
        "null",
        {
          type: "record",
          name: "Action",
          fields: [
            {
              name: "capability",
              type: "string",
            },
            {
              name: "tool",
              type: ["null", "string"],
              default: null,
            },
            {
              name: "kind",
              type: ["null", "string"],
              default: null,
              doc: "read | write | delete | execute | egress | admin",
            },
          ],
        },
      ],
    },
    {
      name: "resource",
      doc: "action and grant.requested.",
      default: null,
      type: [
        "null",
        {
          type: "record",
          name: "Resource",
          fields: [
            {
              name: "type",
              type: ["null", "string"],
              default: null,
            },
            {
              name: "id",
              type: ["null", "string"],
              default: null,
            },
            {
              name: "sensitivity",
              type: [
                "null",
                {
                  type: "array",
                  items: "string",
                },
              ],
              default: null,
              doc: "Tags such as pii, financial, secret, credentials, strategic.",
            },
            {
              name: "classification",
              type: ["null", "string"],
              default: null,
              doc: "public | internal | confidential | restricted",
            },
            {
              name: "owner",
              type: ["null", "string"],
              default: null,
            },
            {
              name: "destination",
              type: ["null", "string"],
              default: null,
            },
            {
              name: "external",
              type: ["null", "boolean"],
              default: null,
            },
          ],
        },
      ],
    },
    {
      name: "args",
      type: ["null", "string"],
      default: null,
      doc: "action only. The tool arguments (a JSON object of arbitrary shape) as JSON text: Avro cannot type free-form JSON.",
    },
    {
      name: "outcome",
      type: ["null", "string"],
      default: null,
      doc: "action: attempted | success | denied | error (absent means success). action.result: success | error | denied (required there).",
    },
    {
      name: "capability",
      type: ["null", "string"],
      default: null,
      doc: "grant.requested only (required there).",
    },
    {
      name: "purpose",
      type: ["null", "string"],
      default: null,
      doc: "grant.requested only.",
    },
    {
      name: "ttlSeconds",
      type: ["null", "long"],
      default: null,
      doc: "grant.requested only; a positive integer.",
    },
    {
      name: "reason",
      type: ["null", "string"],
      default: null,
      doc: "session.ended only.",
    },
    {
      name: "actionEventId",
      type: ["null", "string"],
      default: null,
      doc: "action.result and step_up.answered only (required there): the eventId of the action it answers.",
    },
    {
      name: "output",
      doc: "action.result only (required there): the returned content as the agent will read it. Attacker-controlled text.",
      default: null,
      type: [
        "null",
        {
          type: "record",
          name: "ToolOutput",
          fields: [
            {
              name: "text",
              type: ["null", "string"],
              default: null,
              doc: "At most 65,536 characters (UTF-16 code units); longer is refused as output_too_large. Senders cut it and set truncated and bytes.",
            },
            {
              name: "bytes",
              type: ["null", "long"],
              default: null,
              doc: "Size of the full output in bytes, before any cut; a non-negative integer.",
            },
            {
              name: "truncated",
              type: ["null", "boolean"],
              default: null,
              doc: "true when text is a cut of the output.",
            },
            {
              name: "digest",
              type: ["null", "string"],
              default: null,
              doc: "A digest of the full output, such as sha256:<hex>.",
            },
            {
              name: "mediaType",
              type: ["null", "string"],
              default: null,
            },
          ],
        },
      ],
    },
    {
      name: "source",
      doc: "action.result only, optional: provenance of the output when the gateway knows it. (A JSON producer may put a plain string here; it carries no trust label and reads as absent, so its Avro form is null.)",
      default: null,
      type: [
        "null",
        {
          type: "record",
          name: "OutputSource",
          fields: [
            {
              name: "trust",
              default: null,
              type: [
                "null",
                {
                  type: "enum",
                  name: "OutputTrust",
                  symbols: ["trusted", "untrusted", "unknown"],
                  default: "unknown",
                  doc: "Whose words the output is: third-party content (received mail, web pages, shared files, other people's messages) is untrusted; unknown = the gateway cannot tell.",
                },
              ],
            },
            {
              name: "origin",
              type: ["null", "string"],
              default: null,
              doc: "Where the output came from (a mailbox, a URL, a file path).",
            },
          ],
        },
      ],
    },
    {
      name: "review",
      doc: "review.decided only (required there, v1.2): a person's verdict on a review case.",
      default: null,
      type: [
        "null",
        {
          type: "record",
          name: "ReviewVerdict",
          fields: [
            { name: "caseId", type: "string", doc: "The case decided (vigil review list)." },
            { name: "verdict", type: "string", doc: "confirmed | overturned" },
            { name: "revoke", type: ["null", "boolean"], default: null, doc: "With confirmed: escalate the hold to a revocation." },
            { name: "reviewer", type: "string", doc: "Who decided (the identity the review API or CLI authenticated)." },
            { name: "note", type: ["null", "string"], default: null },
          ],
        },
      ],
    },
    {
      name: "tools",
      doc: "tools.listed only (required there, v1.3): the tools a gateway saw listed, at most 128 per event. Their texts are attacker-controlled.",
      default: null,
      type: [
        "null",
        {
          type: "array",
          items: {
            type: "record",
            name: "ListedTool",
            fields: [
              { name: "name", type: "string", doc: "The tool's name as the agent calls it: the capability of its calls." },
              { name: "server", type: "string", doc: "The MCP server that listed it." },
              { name: "digest", type: "string", doc: "A digest of the whole definition, such as sha-256:<hex>." },
              { name: "title", type: ["null", "string"], default: null, doc: "At most 1,024 characters." },
              { name: "description", type: ["null", "string"], default: null, doc: "At most 8,192 characters." },
              {
                name: "annotations",
                default: null,
                type: ["null", { type: "record", name: "ListedToolAnnotations", fields: [{ name: "title", type: ["null", "string"], default: null }] }],
              },
              {
                name: "parameters",
                default: null,
                doc: "At most 64: each parameter's path in the input schema and its description (at most 1,024 characters).",
                type: [
                  "null",
                  {
                    type: "array",
                    items: {
                      type: "record",
                      name: "ListedToolParameter",
                      fields: [
                        { name: "name", type: "string" },
                        { name: "description", type: "string" },
                      ],
                    },
                  },
                ],
              },
              { name: "truncated", type: ["null", "boolean"], default: null, doc: "true when a text was cut to its cap." },
            ],
          },
        },
      ],
    },
    {
      name: "answer",
      type: ["null", "string"],
      default: null,
      doc: "step_up.answered only (required there, v1.4): accept | decline | cancel, the person's answer when asked to confirm a held call.",
    },
    {
      name: "channel",
      type: ["null", "string"],
      default: null,
      doc: "step_up.answered only: how the person was asked (mcp-elicitation).",
    },
  ],
} as const;

export const AVRO_COMMAND_SCHEMA = {
  type: "record",
  name: "Command",
  namespace: "io.vigil.v1",
  doc: "Vigil enforcement command, docs/contract.md, commands, v1.5 (topic vigil.commands, key = sessionId). Field names are those of the JSON form. Timestamps are RFC 3339 strings. Enumerated values are strings (validated by the JSON form's schema), so adding a value stays a compatible change. See schemas/README.md.",
  fields: [
    {
      name: "commandId",
      type: "string",
      doc: "Deterministic from session, triggering event and decision; de-duplicate on it.",
    },
    {
      name: "type",
      type: "string",
      doc: "revoke | downgrade | step_up | restore | grant | deny_grant",
    },
    {
      name: "sessionId",
      type: "string",
    },
    {
      name: "agentId",
      type: "string",
    },
    {
      name: "principalId",
      type: "string",
    },
    {
      name: "time",
      type: "string",
      doc: "Event time of the triggering event, RFC 3339.",
    },
    {
      name: "causedBy",
      type: {
        type: "array",
        items: "string",
      },
      doc: "eventIds that triggered it; at least one.",
    },
    {
      name: "riskScore",
      type: "double",
      doc: "0..1",
    },
    {
      name: "reasons",
      doc: "At least one.",
      type: {
        type: "array",
        items: {
          type: "record",
          name: "Reason",
          fields: [
            {
              name: "code",
              type: "string",
              doc: "Dotted; first segment intent | baseline | sequence | sensitivity | context | sod | rule | grant | review.",
            },
            {
              name: "message",
              type: "string",
            },
            {
              name: "weight",
              type: ["null", "double"],
              default: null,
              doc: "0..1",
            },
          ],
        },
      },
    },
    {
      name: "capabilities",
      doc: "For downgrade, restore, grant.",
      default: null,
      type: [
        "null",
        {
          type: "record",
          name: "Capabilities",
          fields: [
            {
              name: "removed",
              type: {
                type: "array",
                items: "string",
              },
            },
            {
              name: "remaining",
              type: {
                type: "array",
                items: "string",
              },
            },
          ],
        },
      ],
    },
    {
      name: "expiresAt",
      type: ["null", "string"],
      default: null,
      doc: "RFC 3339; for grant and time-boxed downgrades.",
    },
    {
      name: "review",
      type: {
        type: "record",
        name: "Review",
        fields: [
          {
            name: "required",
            type: "boolean",
          },
          {
            name: "status",
            type: ["null", "string"],
            default: null,
            doc: "pending | confirmed | overturned",
          },
        ],
      },
    },
    {
      name: "caep",
      doc: "The same decision as an OpenID CAEP event.",
      type: {
        type: "record",
        name: "CaepEvent",
        fields: [
          {
            name: "eventType",
            type: "string",
            doc: "CAEP event type URI.",
          },
          {
            name: "subject",
            type: "string",
            doc: "The CAEP subject identifier ({ format, id, ... } JSON object, open-ended per RFC 9493) as JSON text.",
          },
          {
            name: "event_timestamp",
            type: "long",
            doc: "Seconds since the epoch (CAEP).",
          },
          {
            name: "reason_admin",
            type: {
              type: "record",
              name: "CaepReasonAdmin",
              fields: [
                {
                  name: "en",
                  type: "string",
                },
              ],
            },
          },
          {
            name: "initiating_entity",
            type: ["null", "string"],
            default: null,
          },
          {
            name: "namespace",
            type: ["null", "string"],
            default: null,
          },
          {
            name: "change_direction",
            type: ["null", "string"],
            default: null,
            doc: "increase | decrease",
          },
          {
            name: "previous_level",
            type: ["null", "string"],
            default: null,
          },
          {
            name: "current_level",
            type: ["null", "string"],
            default: null,
          },
          {
            name: "claims",
            type: ["null", "string"],
            default: null,
            doc: "token-claims-change claims (a JSON object of arbitrary shape) as JSON text.",
          },
        ],
      },
    },
    {
      name: "grant",
      doc: "grant only, v1.2: the capability granted just in time (and the resource it is for), when the session did not already hold it; enforcement points deny it after expiresAt.",
      default: null,
      type: [
        "null",
        {
          type: "record",
          name: "JitGrant",
          fields: [
            { name: "capability", type: "string" },
            { name: "resourceId", type: ["null", "string"], default: null },
          ],
        },
      ],
    },
    {
      name: "explanation",
      type: ["null", "string"],
      default: null,
      doc: "v1.5: why, in one sentence a person can act on (at most 1,024 characters). For people; enforcement decides on type, capabilities and reasons.",
    },
  ],
} as const;

export const AVRO_SESSION_STATUS_SCHEMA = {
  type: "record",
  name: "SessionStatus",
  namespace: "io.vigil.v1",
  doc: "Latest effective state of a session (compacted topic vigil.session-status, key = sessionId). Field names are the JSON form's.",
  fields: [
    {
      name: "sessionId",
      type: "string",
    },
    {
      name: "agentId",
      type: "string",
    },
    {
      name: "principalId",
      type: "string",
    },
    {
      name: "status",
      type: "string",
      doc: "active | restricted | revoked | ended",
    },
    {
      name: "revoked",
      type: "boolean",
    },
    {
      name: "stepUpRequired",
      type: "boolean",
    },
    {
      name: "removed",
      type: {
        type: "array",
        items: "string",
      },
      doc: "Capability patterns taken away.",
    },
    {
      name: "deniedOn",
      type: {
        type: "array",
        items: {
          type: "record",
          name: "DeniedOn",
          fields: [
            {
              name: "capability",
              type: "string",
            },
            {
              name: "resourceId",
              type: "string",
            },
          ],
        },
      },
      doc: "Capabilities denied on one resource only (separation of duties).",
    },
    {
      name: "remaining",
      type: {
        type: "array",
        items: "string",
      },
    },
    {
      name: "review",
      type: {
        type: "record",
        name: "StatusReview",
        fields: [
          {
            name: "required",
            type: "boolean",
          },
          {
            name: "status",
            type: ["null", "string"],
            default: null,
            doc: "pending | confirmed | overturned",
          },
        ],
      },
    },
    {
      name: "riskScore",
      type: "double",
    },
    {
      name: "time",
      type: "string",
      doc: "RFC 3339 event time of the session's latest event.",
    },
    {
      name: "lastCommandId",
      type: ["null", "string"],
      default: null,
    },
    {
      name: "policyVersion",
      type: "string",
    },
    {
      name: "goal",
      type: ["null", "string"],
      default: null,
      doc: "declared | none (v1.4): none means the session declared no goal, and Vigil decides on baselines, policy and provenance alone.",
    },
  ],
} as const;

/** The Avro schemas by file name (schemas/<name>.avsc, subject <topic>-value). */
export const AVRO_SCHEMAS = {
  "vigil-event": AVRO_EVENT_SCHEMA,
  "vigil-command": AVRO_COMMAND_SCHEMA,
  "vigil-session-status": AVRO_SESSION_STATUS_SCHEMA,
} as const;

export type AvroSchemaName = keyof typeof AVRO_SCHEMAS;
