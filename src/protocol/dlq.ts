// Why an event went to the dead-letter topic: one stable code, written as the DLQ record's
// `vigil-dlq-reason` header, counted by `vigil_events_dlq_total{reason}` and reported by
// `vigil replay` for a bad line (docs/operations.md, docs/metrics.md). One list, so a new
// reason is documented and counted like the others (test/lint/dlq-reasons.test.ts).

export const DLQ_REASONS = [
  /** A message without a value. */
  "empty",
  /** A value over VIGIL_MAX_MESSAGE_BYTES. */
  "oversized",
  /** Neither Avro wire format nor JSON. */
  "unparseable_json",
  /** Not an event of the contract (the error names the field). */
  "invalid_event",
  /** An `action.result` whose `output.text` is over MAX_OUTPUT_TEXT. */
  "output_too_large",
  /** Avro with a schema id the registry does not know. */
  "unknown_schema",
  /** Avro the schema cannot decode. */
  "undecodable_avro",
  /** A valid event the pipeline failed on (a defect: the partition goes on). */
  "processing_error",
  /** An event the policy's `authenticity` does not accept from its producer, or a verdict not signed by the review service. */
  "unauthenticated",
] as const;

export type DlqReason = (typeof DLQ_REASONS)[number];
