import { isMature } from "../baseline.js";
import { kept } from "../limits.js";
import { utcHour } from "../time.js";
import type { ScoreInput, Signal } from "./scorer.js";
import { weightOf } from "./scorer.js";

// Context (NIST SP 800-207 tenet 4, dynamic policy from device and environment state):
// a device falling out of compliance, a geo or IP this principal has never used, activity
// at an hour outside policy working hours or the principal's usual hours (UTC).
// Misses: a compromised but compliant device on a known network.

export function contextScorer(input: ScoreInput): Signal[] {
  const { event, before, after, principalBaseline: pb, policy } = input;
  const signals: Signal[] = [];
  if (after.context.deviceCompliant === false && before.context.deviceCompliant !== false) {
    signals.push({
      code: "context.device_noncompliant",
      message: `device ${after.context.current.device?.id ?? ""} is not compliant`.replace("  ", " "),
      weight: weightOf(input, "context.device_noncompliant"),
    });
  }
  // Compared as kept (core/limits.ts), as the baselines and the session keep them.
  const geo = event.context?.geo ? kept(event.context.geo) : undefined;
  const ip = event.context?.ip ? kept(event.context.ip) : undefined;
  const mature = isMature(pb, policy.baseline);
  if (geo && mature && !Object.hasOwn(pb.geos, geo) && !before.context.geos.includes(geo)) {
    signals.push({
      code: "context.new_geo",
      message: `principal ${after.principalId} never acted from ${geo}`,
      weight: weightOf(input, "context.new_geo"),
      facts: { values: [geo] },
    });
  }
  if (ip && mature && !Object.hasOwn(pb.ips, ip) && !before.context.ips.includes(ip)) {
    signals.push({
      code: "context.new_ip",
      message: `principal ${after.principalId} never acted from ${ip}`,
      weight: weightOf(input, "context.new_ip"),
      facts: { values: [ip] },
    });
  }
  if (event.type === "action" && before.counters.actions === 0) {
    const hour = utcHour(event.time);
    const wh = policy.workingHours;
    const outside = wh ? hour < wh.start || hour >= wh.end : mature && (pb.hours[hour] ?? 0) === 0;
    if (outside)
      signals.push({
        code: "context.unusual_hour",
        message: `activity at ${hour}:00 UTC is unusual for this principal`,
        weight: weightOf(input, "context.unusual_hour"),
      });
  }
  return signals;
}
