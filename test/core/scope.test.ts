import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../src/core/index.js";
import type { Baseline } from "../../src/core/index.js";
import type { AgentEvent, Intent } from "../../src/protocol/index.js";
import type { Outcome } from "../support/given-when-then.js";
import { action, given, intentUpdated, sessionEnded, sessionStarted, specification } from "../support/given-when-then.js";

// Scope inferred from the goal when the intent declares no capabilities:
// intent.unrelated_capability (the goal's object words against the tool's) and
// intent.unfamiliar_toolkit (a call into an application the goal does not mention and the
// principal never used), plus the baseline's `attempted` count that lets a read repeatedly
// attempted across sessions stop counting as unfamiliar.

const W_UNRELATED = compilePolicy().weights["intent.unrelated_capability"] as number;
const W_TOOLKIT = compilePolicy().weights["intent.unfamiliar_toolkit"] as number;
const weightOf = (o: Outcome, code: string): number | undefined => o.decision.signals.find((s) => s.code === code)?.weight;
const principalOf = (o: Outcome, id = "alice"): Baseline | undefined => o.world.baselines.get(`principal:${id}`);

describe("intent.unrelated_capability", () => {
  const policy = compilePolicy(`version: 1
scoring:
  baseline: { minSessions: 2, minActions: 2 }
tools:
  - { capability: read_channel_messages, description: Read the messages of a channel, kind: read, risk: low }
  - { capability: expense.approve, description: Approve an expense report, kind: write, risk: medium }
  - { capability: workflow.approve, description: Approve a pending workflow item, kind: write, risk: medium }
  - { capability: invite_user, description: Invite a user to the workspace, kind: egress, risk: high }
`);
  const spec = specification(policy);
  const goal = (text: string, opts: { session?: string; t?: number } = {}) => sessionStarted(opts.t ?? 0, { goal: text }, { session: opts.session ?? "s1" });
  const readChannel = (t = 10, session = "s1") => action(t, "read_channel_messages", { session, kind: "read", args: { channel: "general" } });

  describe("read verbs say how, not what", () => {
    it("reading a webpage does not make reading channel messages related", () =>
      spec
        .given(goal("Read the content on webpage www.example.com"))
        .when(readChannel())
        .then((o) => {
          expect(o.codes).toContain("intent.unrelated_capability");
          // A low-risk read: 0.35 × (low 0.5 × read 0.5).
          expect(weightOf(o, "intent.unrelated_capability")).toBeCloseTo(W_UNRELATED * 0.25, 6);
        }));

    it("a goal about the channel's messages relates to reading them", () =>
      spec
        .given(goal("Summarise the messages in the general channel"))
        .when(readChannel())
        .then(({ codes }) => expect(codes).not.toContain("intent.unrelated_capability")));
  });

  describe("change verbs count", () => {
    it("filing an expense report and getting it approved relates to expense.approve", () =>
      spec
        .given(goal("File my expense report and get it approved"))
        .when(action(10, "expense.approve", { kind: "write" }))
        .then(({ codes }) => expect(codes).not.toContain("intent.unrelated_capability")));

    it("a goal sharing only the verb of change (approved) relates to an approval tool", () =>
      spec
        .given(goal("Get the March invoices approved"))
        .when(action(10, "workflow.approve", { kind: "write" }))
        .then(({ codes }) => expect(codes).not.toContain("intent.unrelated_capability")));

    it("without that verb the same tool is unrelated", () =>
      spec
        .given(goal("Get the March invoices"))
        .when(action(10, "workflow.approve", { kind: "write" }))
        .then(({ codes }) => expect(codes).toContain("intent.unrelated_capability")));
  });

  describe("destinations the goal names", () => {
    const share = goal("Share the slides with dana@example.com");
    const invite = (...emails: string[]) => action(10, "invite_user", { kind: "egress", resource: { external: true }, args: { email: emails } });

    it("a call whose every destination the goal names is in scope whatever the tool", () =>
      spec
        .given(share)
        .when(invite("dana@example.com"))
        .then(({ codes }) => {
          expect(codes).not.toContain("intent.unrelated_capability");
          expect(codes).not.toContain("intent.destination_not_in_goal");
        }));

    it("the same tool towards a destination the goal does not name: the verb relates the tool, the destination is foreign", () =>
      spec
        .given(share)
        .when(invite("eve@evil.test"))
        .then(({ codes }) => {
          // "share" asks for the same kind of act (egress) as invite_user: the goal's verb relates it.
          expect(codes).not.toContain("intent.unrelated_capability");
          expect(codes).toContain("intent.destination_not_in_goal");
        }));

    it("one named destination does not cover another that is not", () =>
      spec
        .given(share)
        .when(invite("dana@example.com", "eve@evil.test"))
        .then(({ codes }) => expect(codes).toContain("intent.destination_not_in_goal")));

    it("without a verb of that kind in the goal, the tool is unrelated to it", () =>
      spec
        .given(goal("Look at the slides dana@example.com made"))
        .when(invite("eve@evil.test"))
        .then(({ codes }) => expect(codes).toEqual(expect.arrayContaining(["intent.unrelated_capability", "intent.destination_not_in_goal"]))));
  });

  describe("reads the principal runs routinely", () => {
    const routine = (session: string, t: number): AgentEvent[] => [
      goal("Summarise the messages in the general channel", { session, t }),
      readChannel(t + 10, session),
      sessionEnded(t + 20, { session }),
    ];
    const approvals = (session: string, t: number): AgentEvent[] => [
      goal("Approve the expense report", { session, t }),
      action(t + 10, "expense.approve", { session, kind: "write" }),
      sessionEnded(t + 20, { session }),
    ];

    it("an unrelated read the principal runs routinely counts half", () =>
      spec
        .given(...routine("s1", 0), ...routine("s2", 3600), goal("Read the content on webpage www.example.com", { session: "s3", t: 7200 }))
        .when(readChannel(7210, "s3"))
        .then((o) => expect(weightOf(o, "intent.unrelated_capability")).toBeCloseTo(W_UNRELATED * 0.25 * 0.5, 6)));

    it("an unrelated change the principal runs routinely is not discounted", () =>
      spec
        .given(...approvals("s1", 0), ...approvals("s2", 3600), goal("Read the content on webpage www.example.com", { session: "s3", t: 7200 }))
        .when(action(7210, "expense.approve", { session: "s3", kind: "write" }))
        .then((o) => expect(weightOf(o, "intent.unrelated_capability")).toBeCloseTo(W_UNRELATED, 6)));
  });
});

describe("intent.unfamiliar_toolkit", () => {
  const policy = compilePolicy(`version: 1
scoring:
  baseline: { minSessions: 2, minActions: 2 }
tools:
  - { capability: list_events, description: List the events in the calendar, toolkit: calendar, kind: read }
  - { capability: send_email, description: Send an email to a recipient, toolkit: mail, kind: egress }
  - { capability: unlock_door, description: Unlock the front door, toolkit: smartlock, kind: write }
  - { capability: get_lock_status, description: Get the status of the door lock, toolkit: smartlock, kind: read }
  - { capability: list_access_codes, description: List the guest access codes, toolkit: smartlock, kind: read }
`);
  const spec = specification(policy);
  const CALENDAR_GOAL = "Plan my week from the calendar";
  /** A finished session of `principal` that runs `calls` (capability, kind, outcome) under `goal`. */
  const pastSession = (
    session: string,
    t: number,
    goal: string,
    calls: [string, "read" | "write", ("denied" | undefined)?][],
    principal = "alice",
  ): AgentEvent[] => [
    sessionStarted(t, { goal }, { session, principal }),
    ...calls.map(([capability, kind, outcome], i) => action(t + 10 + i, capability, { session, principal, kind, ...(outcome ? { outcome } : {}) })),
    sessionEnded(t + 30, { session, principal }),
  ];
  const calendarSession = (session: string, t: number) => pastSession(session, t, "Show my calendar for today", [["list_events", "read"]]);
  /** Alice has two finished sessions, both in the calendar. */
  const calendarHistory = [...calendarSession("h1", 0), ...calendarSession("h2", 3600)];
  const now = (intent: Intent = { goal: CALENDAR_GOAL }) => sessionStarted(100_000, intent, { session: "s" });
  const call = (capability: string, kind: "read" | "write" | "egress", args?: Record<string, unknown>, t = 100_010) =>
    action(t, capability, { session: "s", kind, ...(args ? { args } : {}) });
  const unlock = call("unlock_door", "write");

  it("fires on the first change into an application the goal does not mention and the principal never used", () =>
    spec
      .given(...calendarHistory, now())
      .when(unlock)
      .then((o) => {
        expect(o.codes).toContain("intent.unfamiliar_toolkit");
        expect(weightOf(o, "intent.unfamiliar_toolkit")).toBeCloseTo(W_TOOLKIT, 6);
      }));

  it("abstains in the principal's first session, where everything is new", () =>
    spec
      .given(sessionStarted(0, { goal: CALENDAR_GOAL }, { session: "s" }))
      .when(call("unlock_door", "write", undefined, 10))
      .then(({ codes }) => {
        expect(codes).toContain("intent.unrelated_capability");
        expect(codes).not.toContain("intent.unfamiliar_toolkit");
      }));

  it("abstains once any tool of the application ran for this principal before", () =>
    spec
      .given(...calendarSession("h1", 0), ...pastSession("h2", 3600, "Is the front door locked?", [["get_lock_status", "read"]]), now())
      .when(unlock)
      .then(({ codes }) => expect(codes).not.toContain("intent.unfamiliar_toolkit")));

  it("another principal's use of the application does not make it familiar", () =>
    spec
      .given(...calendarHistory, ...pastSession("b1", 5000, "Is the front door locked?", [["get_lock_status", "read"]], "bob"), now())
      .when(unlock)
      .then(({ codes }) => expect(codes).toContain("intent.unfamiliar_toolkit")));

  it("abstains once the application ran earlier in this session", () =>
    spec
      .given(
        ...calendarHistory,
        sessionStarted(100_000, { goal: "Check the front door lock" }, { session: "s" }),
        call("get_lock_status", "read"),
        intentUpdated(100_015, { goal: CALENDAR_GOAL }, { session: "s" }),
      )
      .when(call("unlock_door", "write", undefined, 100_020))
      .then(({ codes, history }) => {
        expect(history.at(-2)?.decision?.verdict).toEqual({ outcome: "allow" });
        expect(codes).not.toContain("intent.unfamiliar_toolkit");
      }));

  // Only a call that ran makes the application part of the session: a denied first call does not silence the signal.
  it("still fires after an earlier call into the application was denied and never ran", () =>
    spec
      .given(...calendarHistory, now(), action(100_005, "get_lock_status", { session: "s", kind: "read", outcome: "denied" }))
      .when(call("unlock_door", "write", undefined, 100_020))
      .then(({ codes }) => expect(codes).toContain("intent.unfamiliar_toolkit")));

  it("abstains when the goal mentions a noun of the application", () =>
    spec
      .given(...calendarHistory, now({ goal: "Make sure the front door is unlocked for the cleaner" }))
      .when(unlock)
      .then(({ codes }) => expect(codes).not.toContain("intent.unfamiliar_toolkit")));

  it("a verb shared with the goal relates the tool but not its application", () =>
    spec
      .given(...calendarHistory, now({ goal: "Send the quarterly figures to the board" }))
      .when(call("send_email", "egress", { to: "cfo@corp.example" }))
      .then(({ codes }) => {
        expect(codes).not.toContain("intent.unrelated_capability");
        expect(codes).toContain("intent.unfamiliar_toolkit");
      }));

  it("abstains when the intent declares its capabilities", () =>
    spec
      .given(...calendarHistory, now({ goal: CALENDAR_GOAL, capabilities: ["unlock_door", "list_events"] }))
      .when(unlock)
      .then(({ codes }) => {
        expect(codes).not.toContain("intent.out_of_scope");
        expect(codes).not.toContain("intent.unfamiliar_toolkit");
      }));

  // scoring.toolkits.byTool: the goal mentions an application by its name or by the called
  // tool's own nouns; a noun that only another tool of the application has does not count.
  describe("a noun of another tool of the application", () => {
    const catalog = `tools:
  - { capability: list_events, description: List the events in the calendar, toolkit: calendar, kind: read }
  - { capability: get_clinical_notes, description: List the clinical notes of a patient, toolkit: health records, kind: read }
  - { capability: get_prescriptions, description: List the prescriptions of a patient, toolkit: health records, kind: read }
`;
    const byTool = (on: boolean) =>
      specification(compilePolicy(`version: 1\nscoring:\n  baseline: { minSessions: 2, minActions: 2 }\n  toolkits: { byTool: ${on} }\n${catalog}`));
    const notesGoal = now({ goal: "Find my latest note about the budget" });
    const prescriptions = call("get_prescriptions", "read");

    it("does not make the application familiar to a goal", () =>
      byTool(true)
        .given(...calendarHistory, notesGoal)
        .when(prescriptions)
        .then(({ codes }) => expect(codes).toContain("intent.unfamiliar_toolkit")));

    it("did, with scoring.toolkits.byTool off", () =>
      byTool(false)
        .given(...calendarHistory, notesGoal)
        .when(prescriptions)
        .then(({ codes }) => expect(codes).not.toContain("intent.unfamiliar_toolkit")));

    it("the called tool's own noun still counts", () =>
      byTool(true)
        .given(...calendarHistory, notesGoal)
        .when(call("get_clinical_notes", "read"))
        .then(({ codes }) => expect(codes).not.toContain("intent.unfamiliar_toolkit")));

    it("the application's name still counts", () =>
      byTool(true)
        .given(...calendarHistory, now({ goal: "Check my health records" }))
        .when(prescriptions)
        .then(({ codes }) => expect(codes).not.toContain("intent.unfamiliar_toolkit")));
  });

  describe("reads", () => {
    /** Earlier sessions in which alice's agents tried the lock status and the enforcement point denied it. */
    const deniedStatusSessions = (n: number): AgentEvent[] =>
      Array.from({ length: n }, (_, i) => pastSession(`d${i}`, 10_000 + i * 3600, CALENDAR_GOAL, [["get_lock_status", "read", "denied"]])).flat();

    it("a read into an unfamiliar application fires", () =>
      spec
        .given(...calendarHistory, now())
        .when(call("get_lock_status", "read"))
        .then(({ codes }) => expect(codes).toContain("intent.unfamiliar_toolkit")));

    it("still fires after the same read was attempted in two earlier sessions", () =>
      spec
        .given(...calendarHistory, ...deniedStatusSessions(2), now())
        .when(call("get_lock_status", "read"))
        .then(({ codes }) => expect(codes).toContain("intent.unfamiliar_toolkit")));

    it("stops once the same read was attempted in three earlier sessions", () =>
      spec
        .given(...calendarHistory, ...deniedStatusSessions(3), now())
        .when(call("get_lock_status", "read"))
        .then(({ codes }) => expect(codes).not.toContain("intent.unfamiliar_toolkit")));

    it("three attempts within one session count as one", () =>
      spec
        .given(
          ...calendarHistory,
          ...pastSession("d0", 10_000, CALENDAR_GOAL, [
            ["get_lock_status", "read", "denied"],
            ["get_lock_status", "read", "denied"],
            ["get_lock_status", "read", "denied"],
          ]),
          now(),
        )
        .when(call("get_lock_status", "read"))
        .then(({ codes }) => expect(codes).toContain("intent.unfamiliar_toolkit")));

    it("attempts of one read do not make another read of the application familiar", () =>
      spec
        .given(...calendarHistory, ...deniedStatusSessions(3), now())
        .when(call("list_access_codes", "read"))
        .then(({ codes }) => expect(codes).toContain("intent.unfamiliar_toolkit")));

    it("repeated read attempts do not make a change into the application familiar", () =>
      spec
        .given(...calendarHistory, ...deniedStatusSessions(3), now())
        .when(unlock)
        .then(({ codes }) => expect(codes).toContain("intent.unfamiliar_toolkit")));
  });
});

describe("toolkit index", () => {
  /** n toolkits k0..k(n-1), each with one "details" tool about its own noun; `shared` puts a noun into the first `count` toolkits. */
  const policyWith = (n: number, shared: Record<string, number> = {}) =>
    compilePolicy(
      "version: 1\ntools:\n" +
        Array.from({ length: n }, (_, i) => {
          const nouns = Object.entries(shared)
            .filter(([, count]) => i < count)
            .map(([noun]) => noun);
          return `  - { capability: k${i}_details, description: Get the details of item${i} ${nouns.join(" ")}, toolkit: k${i} }\n`;
        }).join(""),
    );
  const termsOf = (n: number, shared: Record<string, number>, kit = "k0") => policyWith(n, shared).toolkits.get(kit)?.terms;

  it("an application is known by its nouns, not by its verbs", () => {
    const terms = termsOf(1, { invoice: 1 });
    expect(terms).toContain("invoic");
    expect(terms).not.toContain("get");
  });

  it("with eight toolkits or more, a noun most of them share is dropped and a noun two share is kept", () => {
    const terms = termsOf(8, { shipment: 5, invoice: 2 });
    expect(terms).not.toContain("detail");
    expect(terms).not.toContain("shipment");
    expect(terms).toContain("invoic");
    expect(terms).toContain("item0");
  });

  it("with many toolkits, a noun is dropped once more than an eighth of them share it", () => {
    expect(termsOf(40, { invoice: 5 })).toContain("invoic");
    expect(termsOf(40, { invoice: 6 })).not.toContain("invoic");
  });

  it("with fewer than eight toolkits, shared nouns are kept", () => expect(termsOf(7, {})).toContain("detail"));

  it("every tool of a toolkit is listed under it", () =>
    expect(
      compilePolicy("version: 1\ntools:\n  - { capability: a, toolkit: mail }\n  - { capability: b, toolkit: mail }\n  - { capability: c }\n").toolkits.get(
        "mail",
      )?.tools,
    ).toEqual(["a", "b"]));
});

describe("baseline.attempted", () => {
  const start = (session: string, t: number) => sessionStarted(t, { goal: "Tidy up the project documents", capabilities: ["docs.*"] }, { session });
  const read = (session: string, t: number, opts: Parameters<typeof action>[2] = {}) => action(t, "docs.read", { session, kind: "read", ...opts });

  it("two calls of the same capability in one session count once", () =>
    given(start("s1", 0), read("s1", 10))
      .when(read("s1", 20))
      .then((o) => {
        expect(principalOf(o)?.attempted?.["docs.read"]).toBe(1);
        expect(principalOf(o)?.capabilities["docs.read"]).toBe(2);
      }));

  it("counts the sessions in which the capability was attempted", () =>
    given(start("s1", 0), read("s1", 10), sessionEnded(20, { session: "s1" }), start("s2", 100))
      .when(read("s2", 110))
      .then((o) => expect(principalOf(o)?.attempted?.["docs.read"]).toBe(2)));

  it("a call the enforcement point denied counts as attempted but is not learned as run", () =>
    given(start("s1", 0))
      .when(read("s1", 10, { outcome: "denied" }))
      .then((o) => {
        expect(principalOf(o)?.attempted?.["docs.read"]).toBe(1);
        expect(principalOf(o)?.capabilities["docs.read"]).toBeUndefined();
      }));

  it("a call Vigil blocked counts as attempted", () =>
    given(start("s1", 0))
      .when(read("s1", 10, { resource: { id: "v", sensitivity: ["secret"] } }))
      .then((o) => {
        expect(o.decision.verdict?.outcome).toBe("deny");
        expect(principalOf(o)?.attempted?.["docs.read"]).toBe(1);
        expect(principalOf(o)?.capabilities["docs.read"]).toBeUndefined();
      }));

  it("is kept for the agent as well as the principal", () =>
    given(start("s1", 0))
      .when(read("s1", 10))
      .then(({ world }) => expect(world.baselines.get("agent:agent-1")?.attempted?.["docs.read"]).toBe(1)));
});
