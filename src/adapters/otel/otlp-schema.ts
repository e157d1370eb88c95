import protobuf from "protobufjs";

// The part of the OTLP trace protocol (opentelemetry-proto, the stable v1 messages) that
// Vigil reads, as schema data for protobufjs, which does all the wire decoding. Field
// numbers and types are the protocol's; fields left out here (links, dropped counts, trace
// state, flags, schema URLs) are skipped by protobufjs as unknown fields, which proto3
// requires anyway. No maintained npm package ships these definitions on their own (since
// otlp-transformer 0.218 the OpenTelemetry JS exporters serialise with a hand-written writer
// and ship no generated code), so the tests check this schema against that real serialiser
// (test/adapters/otlp-decode.test.ts).

const COMMON = `
syntax = "proto3";
package opentelemetry.proto.common.v1;
message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; }
`;

const RESOURCE = `
syntax = "proto3";
package opentelemetry.proto.resource.v1;
message Resource { repeated opentelemetry.proto.common.v1.KeyValue attributes = 1; }
`;

const TRACE = `
syntax = "proto3";
package opentelemetry.proto.trace.v1;
message ResourceSpans { opentelemetry.proto.resource.v1.Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ScopeSpans { opentelemetry.proto.common.v1.InstrumentationScope scope = 1; repeated Span spans = 2; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  bytes parent_span_id = 4;
  string name = 5;
  enum SpanKind {
    SPAN_KIND_UNSPECIFIED = 0;
    SPAN_KIND_INTERNAL = 1;
    SPAN_KIND_SERVER = 2;
    SPAN_KIND_CLIENT = 3;
    SPAN_KIND_PRODUCER = 4;
    SPAN_KIND_CONSUMER = 5;
  }
  SpanKind kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated opentelemetry.proto.common.v1.KeyValue attributes = 9;
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated opentelemetry.proto.common.v1.KeyValue attributes = 3; }
  repeated Event events = 11;
  Status status = 15;
}
message Status {
  string message = 2;
  enum StatusCode { STATUS_CODE_UNSET = 0; STATUS_CODE_OK = 1; STATUS_CODE_ERROR = 2; }
  StatusCode code = 3;
}
`;

const SERVICE = `
syntax = "proto3";
package opentelemetry.proto.collector.trace.v1;
message ExportTraceServiceRequest { repeated opentelemetry.proto.trace.v1.ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess { int64 rejected_spans = 1; string error_message = 2; }
`;

function load(): protobuf.Root {
  const root = new protobuf.Root();
  for (const source of [COMMON, RESOURCE, TRACE, SERVICE]) protobuf.parse(source, root, { keepCase: false });
  root.resolveAll();
  return root;
}
const root = load();

/** The body of an OTLP/HTTP `POST /v1/traces` (and of gRPC `TraceService/Export`). Field names are lowerCamelCase, as in the JSON encoding. */
export const ExportTraceServiceRequest: protobuf.Type = root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest");
/** Its answer: a protobuf request is answered in protobuf (OTLP/HTTP). */
export const ExportTraceServiceResponse: protobuf.Type = root.lookupType("opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse");
