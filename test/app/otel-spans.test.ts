import { SpanKind } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { decodeOtlpTraces } from "../../src/adapters/otel/otlp-decode.js";
import type { OtelMapOptions, OtelSpan } from "../../src/app/otel-spans.js";
import { mapSpans } from "../../src/app/otel-spans.js";
import type { AgentEvent } from "../../src/protocol/index.js";
import { MAX_OUTPUT_TEXT, validateEvent } from "../../src/protocol/index.js";
import { jsonBody, protobufBody, recorder, withAttributes } from "../support/otel-traces.js";

// Traces of agents' tool calls, made by the OpenTelemetry JS SDK in the GenAI and the
// OpenInference conventions, sent through its real OTLP serialisers, decoded and mapped:
// the events Vigil gets, in both encodings, and what the mapping does with sessions that
// span several requests.

const T0 = Date.UTC(2026, 11, 6, 12);
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const OPTIONS: OtelMapOptions = { defaultPrincipal: "nobody" };

/** Decodes both encodings of the spans, checks they map to the same events, and returns that mapping. */
function mapped(spans: readonly ReadableSpan[], options: OtelMapOptions = OPTIONS) {
  const results = [protobufBody(spans), jsonBody(spans)].map((body, i) => {
    const d = decodeOtlpTraces(body, i === 0 ? "protobuf" : "json");
    if (!d.ok) throw new Error(d.error);
    return mapSpans(d.spans, options);
  });
  expect(results[1]).toEqual(results[0]);
  const result = results[0]!;
  for (const e of result.events) expect(validateEvent(e)).toMatchObject({ ok: true });
  return result;
}

const brief = (e: AgentEvent) => `${e.type}${e.type === "action" ? ` ${e.action.capability}` : e.type === "action.result" ? ` ${e.outcome}` : ""} @${e.time}`;

/** A GenAI agent run: invoke_agent with the user's messages, two tool calls (one fails), a model call and an HTTP call. */
function genAiRun(r = recorder({ "service.name": "travel-assistant", "user.id": "alice" })) {
  const messages = [
    { role: "system", parts: [{ type: "text", content: "You are a travel agent." }] },
    { role: "user", parts: [{ type: "text", content: "Find me a flight to Paris on Friday and email it to Bob" }] },
  ];
  const agent = r.start({
    name: "invoke_agent travel",
    start: 0,
    end: 5_000,
    attributes: {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.id": "agent-7",
      "gen_ai.agent.name": "travel",
      "gen_ai.conversation.id": "conv-42",
      "gen_ai.input.messages": JSON.stringify(messages),
    },
  });
  r.record({
    name: "chat gpt-4o",
    parent: agent,
    start: 10,
    end: 900,
    kind: SpanKind.CLIENT,
    attributes: { "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o" },
  });
  r.record({ name: "GET", parent: agent, start: 1_000, end: 1_100, kind: SpanKind.CLIENT, attributes: { "http.request.method": "GET" } });
  r.record({
    name: "execute_tool search_flights",
    parent: agent,
    start: 1_000,
    end: 1_800,
    attributes: {
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "search_flights",
      "gen_ai.tool.call.id": "call_1",
      "gen_ai.tool.call.arguments": '{"to":"CDG","date":"2026-12-11"}',
      "gen_ai.tool.call.result": '[{"flight":"AF1234","price":212}]',
    },
  });
  r.record({
    name: "execute_tool send_email",
    parent: agent,
    start: 2_000,
    end: 2_300,
    error: "SMTP 550 mailbox unavailable",
    attributes: {
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": "send_email",
      "gen_ai.tool.call.id": "call_2",
      "gen_ai.tool.call.arguments": '{"to":"bob@example.com","body":"AF1234"}',
      "error.type": "SmtpError",
    },
  });
  r.end(agent, { end: 5_000 });
  return r;
}

describe("GenAI semantic conventions", () => {
  it("makes the session, each tool call's action and its result, in time order", () => {
    const spans = genAiRun().finished();
    const { events, ignored, errors, sessions, traces } = mapped([...spans].reverse()); // out of order in the request
    const traceId = spans[0]!.spanContext().traceId;
    const search = spans.find((s) => s.name === "execute_tool search_flights")!.spanContext().spanId;
    const send = spans.find((s) => s.name === "execute_tool send_email")!.spanContext().spanId;
    expect(errors).toEqual([]);
    expect(ignored).toBe(3); // invoke_agent, chat, GET
    expect(events.map(brief)).toEqual([
      `session.started @${iso(0)}`,
      `action search_flights @${iso(1_000)}`,
      `action.result success @${iso(1_800)}`,
      `action send_email @${iso(2_000)}`,
      `action.result error @${iso(2_300)}`,
    ]);
    const who = { sessionId: "conv-42", agent: { id: "agent-7", name: "travel" }, principal: { id: "alice" } };
    expect(events[0]).toMatchObject({ ...who, type: "session.started", intent: { goal: "Find me a flight to Paris on Friday and email it to Bob" } });
    expect(events[1]).toEqual({
      ...who,
      eventId: `otel-${traceId}-${search}`,
      time: iso(1_000),
      type: "action",
      action: { capability: "search_flights", tool: "search_flights" },
      args: { to: "CDG", date: "2026-12-11" },
    });
    expect(events[2]).toMatchObject({
      eventId: `otel-${traceId}-${search}-result`,
      actionEventId: `otel-${traceId}-${search}`,
      outcome: "success",
      output: { text: '[{"flight":"AF1234","price":212}]', bytes: 33, truncated: false },
    });
    expect(events[2]!.type === "action.result" && events[2]!.output.digest).toMatch(/^sha-256:[0-9a-f]{64}$/);
    expect(events[3]).toMatchObject({ eventId: `otel-${traceId}-${send}`, args: { to: "bob@example.com", body: "AF1234" } });
    expect(events[4]).toMatchObject({ outcome: "error", output: { text: "SMTP 550 mailbox unavailable" } });
    expect([...sessions]).toEqual([["conv-42", { goal: "Find me a flight to Paris on Friday and email it to Bob", lastTimeMs: T0 + 2_300 }]]);
    expect([...traces]).toEqual([[traceId, "conv-42"]]);
    const d = decodeOtlpTraces(protobufBody(spans), "protobuf");
    if (!d.ok) throw new Error(d.error);
    expect(mapSpans([...d.spans].reverse(), OPTIONS)).toEqual(mapSpans(d.spans, OPTIONS)); // any order in the request
  });

  it("reads structured arguments and results, and the goal from structured messages", () => {
    const r = recorder({ "service.name": "svc" });
    const agent = r.start({
      name: "invoke_agent",
      start: 0,
      end: 100,
      attributes: { "gen_ai.operation.name": "invoke_agent", "gen_ai.conversation.id": "c1" },
    });
    r.record({
      name: "execute_tool pay",
      parent: agent,
      start: 10,
      end: 20,
      attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "pay" },
    });
    r.end(agent, { end: 100 });
    const [tool, root] = r.finished();
    const spans = [
      withAttributes(tool!, { "gen_ai.tool.call.arguments": { iban: "GB29NWBK60161331926819", amount: 50 }, "gen_ai.tool.call.result": { status: "paid" } }),
      withAttributes(root!, { "gen_ai.input.messages": [{ role: "user", parts: [{ type: "text", content: "Pay my rent" }] }] }),
    ];
    const { events } = mapped(spans, { defaultPrincipal: "bob" });
    expect(events[0]).toMatchObject({ type: "session.started", intent: { goal: "Pay my rent" }, principal: { id: "bob" }, agent: { id: "svc" } });
    expect(events[1]).toMatchObject({ type: "action", args: { iban: "GB29NWBK60161331926819", amount: 50 } });
    expect(events[2]).toMatchObject({ type: "action.result", output: { text: '{"status":"paid"}' } });
  });

  it("reads the older prompt attributes: gen_ai.prompt as a span event, and flattened gen_ai.prompt.N.*", () => {
    for (const promptOn of ["event", "flattened"] as const) {
      const r = recorder();
      const run = r.start({ name: "run", start: 0, end: 100 });
      const chat = r.start({
        name: "chat",
        parent: run,
        start: 0,
        end: 50,
        attributes: {
          "gen_ai.operation.name": "chat",
          ...(promptOn === "flattened"
            ? {
                "gen_ai.prompt.0.role": "system",
                "gen_ai.prompt.0.content": "Be brief",
                "gen_ai.prompt.1.role": "user",
                "gen_ai.prompt.1.content": "Delete old logs",
              }
            : {}),
        },
        events:
          promptOn === "event"
            ? [{ name: "gen_ai.content.prompt", attributes: { "gen_ai.prompt": JSON.stringify([{ role: "user", content: "Delete old logs" }]) }, at: 1 }]
            : [],
      });
      r.end(chat, { end: 50 });
      r.record({
        name: "execute_tool rm",
        parent: run,
        start: 60,
        end: 70,
        attributes: { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "delete_file", "gen_ai.tool.call.arguments": "/var/log/old" },
      });
      r.end(run, { end: 100 });
      const { events } = mapped(r.finished());
      expect(events[0]).toMatchObject({ type: "session.started", intent: { goal: "Delete old logs" } });
      expect(events[1]).toMatchObject({ type: "action", action: { capability: "delete_file" }, args: { input: "/var/log/old" } });
    }
  });
});

/** An OpenInference (Arize Phoenix) agent: a CHAIN with the user's request, an LLM call and two TOOL spans; session and user on every span. */
function openInferenceRun() {
  const r = recorder({ "service.name": "support-bot" });
  const on = { "session.id": "sess-9", "user.id": "carol" };
  const chain = r.start({
    name: "AgentExecutor",
    start: 0,
    end: 3_000,
    attributes: {
      ...on,
      "openinference.span.kind": "CHAIN",
      "input.value": '{"input": "What is the status of my order 1182?"}',
      "input.mime_type": "application/json",
    },
  });
  r.record({
    name: "ChatOpenAI",
    parent: chain,
    start: 10,
    end: 400,
    attributes: {
      ...on,
      "openinference.span.kind": "LLM",
      "llm.input_messages.0.message.role": "user",
      "llm.input_messages.0.message.content": "What is the status of my order 1182?",
    },
  });
  r.record({
    name: "lookup_order",
    parent: chain,
    start: 500,
    end: 700,
    attributes: {
      ...on,
      "openinference.span.kind": "TOOL",
      "tool.name": "lookup_order",
      "input.value": '{"order_id": "1182"}',
      "output.value": "Shipped on Monday",
      "output.mime_type": "text/plain",
    },
  });
  r.record({
    name: "Search the knowledge base",
    parent: chain,
    start: 800,
    end: 900,
    attributes: { ...on, "openinference.span.kind": "TOOL", "tool.name": "Search the knowledge base", "input.value": "shipping delays" },
  });
  r.end(chain, { end: 3_000 });
  return r.finished();
}

describe("OpenInference", () => {
  it("maps TOOL spans to actions and results, the CHAIN's request to the goal, and session.id / user.id to who", () => {
    const { events, ignored } = mapped(openInferenceRun());
    expect(ignored).toBe(2); // the chain and the LLM call
    const who = { sessionId: "sess-9", principal: { id: "carol" }, agent: { id: "support-bot" } };
    expect(events.map(brief)).toEqual([
      `session.started @${iso(0)}`,
      `action lookup_order @${iso(500)}`,
      `action.result success @${iso(700)}`,
      `action Search_the_knowledge_base @${iso(800)}`,
    ]);
    expect(events[0]).toMatchObject({ ...who, intent: { goal: "What is the status of my order 1182?" } });
    expect(events[1]).toMatchObject({ ...who, args: { order_id: "1182" } });
    expect(events[2]).toMatchObject({ output: { text: "Shipped on Monday", mediaType: "text/plain" } });
    expect(events[3]).toMatchObject({
      action: { capability: "Search_the_knowledge_base", tool: "Search the knowledge base" },
      args: { input: "shipping delays" },
    });
  });

  it("takes the goal from an LLM span's messages when there is no agent or chain span", () => {
    const spans = openInferenceRun().filter((s) => s.name !== "AgentExecutor");
    const { events } = mapped(spans);
    expect(events[0]).toMatchObject({ type: "session.started", intent: { goal: "What is the status of my order 1182?" } });
  });
});

describe("sessions across requests", () => {
  it("starts a session once: a re-sent request repeats the same event ids, and no session.started", () => {
    const spans = genAiRun().finished();
    const first = mapped(spans);
    const again = mapped(spans, { ...OPTIONS, known: (id) => first.sessions.get(id) });
    expect(again.events.map((e) => e.eventId)).toEqual(first.events.slice(1).map((e) => e.eventId));
    // The session's events stay in order: after what the caller last published.
    expect(again.events[0]!.time > first.events.at(-1)!.time).toBe(true);
  });

  it("publishes a goal that arrives after the tool calls (the agent's span ends last) as intent.updated", () => {
    const r = genAiRun();
    const all = r.finished();
    const tools = all.filter((s) => s.name.startsWith("execute_tool"));
    const first = mapped(tools);
    expect(first.events[0]).toMatchObject({ type: "session.started", intent: { goal: "" }, sessionId: "otel-trace-" + tools[0]!.spanContext().traceId });
    // Without the agent's span, nothing names conv-42: the tools' trace is their session, and the caller remembers it.
    const second = mapped(
      all.filter((s) => !s.name.startsWith("execute_tool")),
      { ...OPTIONS, known: (id) => first.sessions.get(id), sessionOfTrace: (t) => (t === tools[0]!.spanContext().traceId ? "conv-42" : undefined) },
    );
    expect(second.events).toEqual([]); // conv-42 is new and has no tool call here
    const goal = "Find me a flight to Paris on Friday and email it to Bob";
    const known = new Map([["conv-42", { goal: "", lastTimeMs: T0 + 2_300 }]]);
    const later = mapped(
      all.filter((s) => !s.name.startsWith("execute_tool")),
      { ...OPTIONS, known: (id) => known.get(id) },
    );
    expect(later.events).toHaveLength(1);
    expect(later.events[0]).toMatchObject({ type: "intent.updated", sessionId: "conv-42", intent: { goal }, time: iso(2_301) });
    expect(later.sessions.get("conv-42")).toEqual({ goal, lastTimeMs: T0 + 2_301 });
  });

  it("gives each session strictly increasing event times, even for calls in the same millisecond", () => {
    const r = recorder();
    for (const name of ["a", "b", "c"])
      r.record({ name, start: 5, end: 5, attributes: { "openinference.span.kind": "TOOL", "tool.name": name, "session.id": "s", "output.value": name } });
    const times = mapped(r.finished()).events.map((e) => e.time);
    expect(times).toEqual([iso(5), iso(6), iso(7), iso(8), iso(9), iso(10), iso(11)]);
  });
});

describe("who, when nothing says", () => {
  it("takes the trace as the session, the service as the agent, and the configured principal", () => {
    const r = recorder({ "service.name": "batch-worker" });
    r.record({ name: "t", start: 0, end: 1, attributes: { "openinference.span.kind": "TOOL", "tool.name": "read_file" } });
    const unnamed = recorder();
    unnamed.record({ name: "t", start: 0, end: 1, attributes: { "openinference.span.kind": "TOOL", "tool.name": "read_file" } });
    const [a] = mapped(r.finished(), { defaultPrincipal: "svc-account" }).events;
    expect(a).toMatchObject({
      sessionId: `otel-trace-${r.finished()[0]!.spanContext().traceId}`,
      agent: { id: "batch-worker" },
      principal: { id: "svc-account" },
    });
    const [b] = mapped(unnamed.finished(), { defaultPrincipal: "svc-account", defaultAgent: "fleet" }).events;
    expect(b).toMatchObject({ agent: { id: "fleet" } }); // unknown_service:node names no agent
  });
});

describe("limits and odd spans", () => {
  it("cuts a long output like the publisher SDK's toolOutput: the text at the limit, the full size in bytes", () => {
    const r = recorder();
    const output = "é".repeat(MAX_OUTPUT_TEXT + 10);
    r.record({ name: "t", start: 0, end: 1, attributes: { "openinference.span.kind": "TOOL", "tool.name": "fetch", "output.value": output } });
    const result = mapped(r.finished()).events[2]!;
    expect(result).toMatchObject({ type: "action.result", output: { bytes: (MAX_OUTPUT_TEXT + 10) * 2, truncated: true } });
    expect(result.type === "action.result" && result.output.text).toHaveLength(MAX_OUTPUT_TEXT);
    const small = mapped(r.finished(), { ...OPTIONS, maxOutputText: 100 }).events[2]!;
    expect(small.type === "action.result" && small.output.text).toHaveLength(100);
  });

  it("counts an inner span of the same call (a framework's and an MCP client's) once", () => {
    const r = recorder();
    const attrs = { "gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read_file", "gen_ai.tool.call.id": "call_9" };
    const outer = r.start({ name: "execute_tool read_file", start: 0, end: 10, attributes: attrs });
    r.record({ name: "tools/call read_file", parent: outer, start: 1, end: 9, attributes: { ...attrs, "mcp.method.name": "tools/call" } });
    r.record({
      name: "execute_tool other",
      parent: outer,
      start: 2,
      end: 3,
      attributes: { ...attrs, "gen_ai.tool.name": "other", "gen_ai.tool.call.id": "call_10" },
    });
    r.end(outer, { end: 10 });
    const { events, ignored } = mapped(r.finished());
    expect(events.filter((e) => e.type === "action").map((e) => e.type === "action" && e.action.capability)).toEqual(["read_file", "other"]);
    expect(ignored).toBe(1);
  });

  it("reports a tool span it cannot map, and maps the others", () => {
    const r = recorder();
    r.record({ name: "t", start: 0, end: 1, attributes: { "openinference.span.kind": "TOOL", "tool.name": "ok", "session.id": "s" } });
    r.record({
      name: "t",
      start: 2,
      end: 3,
      attributes: { "openinference.span.kind": "TOOL", "tool.name": "ok", "session.id": "s", "user.id": "u".repeat(600) },
    });
    r.record({ name: "execute_tool", start: 4, end: 5, attributes: { "gen_ai.operation.name": "execute_tool", "session.id": "s" } });
    const spans = r.finished();
    const { events, errors } = mapped(spans);
    expect(events.map((e) => e.type)).toEqual(["session.started", "action"]);
    expect(errors).toEqual([
      { traceId: spans[1]!.spanContext().traceId, spanId: spans[1]!.spanContext().spanId, error: "principal: 600 characters, over the limit of 512" },
      {
        traceId: spans[2]!.spanContext().traceId,
        spanId: spans[2]!.spanContext().spanId,
        error: "tool span without a tool name (gen_ai.tool.name, tool.name or a span name)",
      },
    ]);
  });

  it("follows parents without looping on a cycle, and maps a request twice the same way", () => {
    const base: Omit<OtelSpan, "spanId" | "parentSpanId"> = {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      name: "t",
      kind: "internal",
      startTimeUnixNano: `${T0}000000`,
      endTimeUnixNano: `${T0}000000`,
      startMs: T0,
      endMs: T0,
      attributes: { "openinference.span.kind": "TOOL", "tool.name": "x" },
      resource: {},
      scope: { name: "t" },
      status: { code: "unset" },
      events: [],
      cut: [],
    };
    const spans: OtelSpan[] = [
      { ...base, spanId: "0000000000000001", parentSpanId: "0000000000000002" },
      { ...base, spanId: "0000000000000002", parentSpanId: "0000000000000001", attributes: { "openinference.span.kind": "AGENT" } },
    ];
    const once = mapSpans(spans, OPTIONS);
    expect(once.events.map((e) => e.type)).toEqual(["session.started", "action"]);
    expect(mapSpans(spans, OPTIONS)).toEqual(once);
  });
});
