// A runnable example of both SDKs (after `npm run build`, with `npm start` running on the
// local stack): an agent publishes what it does, a gateway guards the tool with Vigil and
// reports what each tool returned before the agent reads it.
//   node examples/guarded-tool.mjs
import { createPublisher, toolOutput } from "../dist/sdk/publisher.js";
import { createEnforcer } from "../dist/sdk/enforcer.js";

const brokers = (process.env.VIGIL_KAFKA_BROKERS ?? "127.0.0.1:9092").split(",");
const topicPrefix = process.env.VIGIL_TOPIC_PREFIX ?? "";
const publisher = await createPublisher({ brokers, topic: `${topicPrefix}vigil.events` });
const gateway = await createEnforcer({
  brokers,
  topicPrefix,
  enforcerId: "example-gateway",
  // Only records signed by the processor are applied; its public keys are on its HTTP port.
  verify: { jwksUrl: process.env.VIGIL_JWKS_URL ?? "http://127.0.0.1:9464/.well-known/jwks.json" },
  failClosed: { capabilities: ["expense.approve", "payments.*"], staleAfterMs: 10_000 },
});
await gateway.start();

const sessionId = `example-${Date.now()}`;
const who = { sessionId, agent: { id: "example-agent" }, principal: { id: "alice" } };

/**
 * The tool, guarded: publish the attempt, wait for Vigil's decision, then refuse, or run the
 * tool and publish its result (action.result) before handing the output to the agent.
 */
async function call(capability, resourceId, run) {
  const event = await publisher.action({ ...who, action: { capability }, resource: { id: resourceId }, outcome: "attempted" });
  await gateway.decided(sessionId, event.time, 3000);
  const verdict = gateway.check(sessionId, capability, resourceId);
  if (verdict.outcome !== "allow") {
    await publisher.actionResult({ ...who, actionEventId: event.eventId, outcome: "denied", output: {} });
    return console.log(`${capability} on ${resourceId}: ${verdict.outcome} (${verdict.reason})`);
  }
  const output = await run();
  await publisher.actionResult({
    ...who,
    actionEventId: event.eventId,
    outcome: "success",
    output: toolOutput(output, { mediaType: "text/plain" }),
    source: { trust: "trusted", origin: "expenses" },
  });
  console.log(`${capability} on ${resourceId}: allowed, returned "${output}"`);
  return output;
}

await publisher.sessionStarted({ ...who, intent: { goal: "File my trip report and get it approved" }, grants: ["expense.submit", "expense.approve"] });
await call("expense.submit", "ER-example", () => "submitted");
await call("expense.approve", "ER-example", () => "approved");

await publisher.close();
await gateway.stop();
