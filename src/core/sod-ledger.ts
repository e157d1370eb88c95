import type { ActionEventT, SodEntry } from "../protocol/index.js";

// Separation of duties across sessions and agents. The ledger is keyed by business object:
// (rule, bound domain, resource id) → who performed the first step. A second step by the
// same party (principal, agent or session, per the rule) is a violation, whichever agent
// or session takes it. Steps may use one `*`, bound to the same text in both steps:
// `*.submit` then `*.approve` pairs expense.submit with expense.approve only.

export interface SodRecord {
  readonly sodId: string;
  readonly principalId: string;
  readonly agentId: string;
  readonly sessionId: string;
  readonly eventId: string;
  readonly time: string;
  readonly capability: string;
}

export interface SodView {
  records(key: string): readonly SodRecord[];
}

export interface SodMatch {
  readonly entry: SodEntry;
  readonly step: 0 | 1;
  readonly key: string;
}

const patternCache = new Map<string, RegExp>();
function bind(pattern: string, capability: string): string | undefined {
  let re = patternCache.get(pattern);
  if (!re) {
    const body = pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join("(.+)");
    re = new RegExp(`^${body}$`);
    patternCache.set(pattern, re);
  }
  const m = re.exec(capability);
  return m ? (m[1] ?? "") : undefined;
}

export const sodKey = (sodId: string, binding: string, resourceId: string | undefined): string => `${sodId}|${binding}|${resourceId ?? "*"}`;

/** Which SoD steps this capability performs, on which ledger key. A step without a resource id is skipped when the rule needs the same resource. */
export function matchSod(entries: readonly SodEntry[], capability: string, resourceId: string | undefined): SodMatch[] {
  const out: SodMatch[] = [];
  for (const entry of entries) {
    if (entry.sameResource && resourceId === undefined) continue;
    for (const step of [0, 1] as const) {
      const binding = bind(entry.steps[step], capability);
      if (binding !== undefined) out.push({ entry, step, key: sodKey(entry.id, binding, entry.sameResource ? resourceId : undefined) });
    }
  }
  return out;
}

/** A record for the ledger, under its business object's key. */
export interface LedgerAppend {
  readonly key: string;
  readonly record: SodRecord;
}

/**
 * The records an action leaves as the first step of each rule it starts. The caller asks
 * only for an action not denied: a first step held for step-up still counts, since if the
 * person steps up it runs, and recording it errs on the side of the checker.
 */
export function firstSteps(
  entries: readonly SodEntry[],
  who: { readonly principalId: string; readonly agentId: string; readonly sessionId: string },
  event: ActionEventT,
): LedgerAppend[] {
  const out: LedgerAppend[] = [];
  for (const m of matchSod(entries, event.action.capability, event.resource?.id)) {
    if (m.step !== 0) continue;
    out.push({
      key: m.key,
      record: {
        sodId: m.entry.id,
        principalId: who.principalId,
        agentId: who.agentId,
        sessionId: who.sessionId,
        eventId: event.eventId,
        time: event.time,
        capability: event.action.capability,
      },
    });
  }
  return out;
}

export function samePartyAs(entry: SodEntry, record: SodRecord, who: { principalId: string; agentId: string; sessionId: string }): boolean {
  switch (entry.across) {
    case "principal":
      return record.principalId === who.principalId;
    case "agent":
      return record.agentId === who.agentId;
    case "session":
      return record.sessionId === who.sessionId;
    default: {
      const _exhaustive: never = entry.across;
      return _exhaustive;
    }
  }
}
