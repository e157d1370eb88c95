import type { ActionEventT } from "../protocol/index.js";
import type { CompiledPolicy } from "./policy/compiled-policy.js";
import type { ActionFacts } from "./session-state.js";
import { words } from "./text.js";

// What an action is, when the sender did not say: its kind from the event, else the tool
// catalog, else the verbs of its name. Egress with unknown externality counts as external
// (fail-safe: an unlabelled send is treated as leaving the organisation).

const VERBS: readonly [string, readonly string[]][] = [
  ["egress", ["send", "post", "share", "upload", "transfer", "email", "mail", "publish", "forward", "invite", "pay", "wire", "export", "notify", "message", "tweet", "reply", "sms"]],
  ["delete", ["delete", "remove", "drop", "purge", "destroy", "erase", "cancel"]],
  ["admin", ["admin", "grant", "role", "permission", "configure", "password", "sudo"]],
  ["execute", ["execute", "run", "exec", "invoke", "deploy", "install", "shell"]],
  ["write", ["create", "update", "write", "set", "add", "edit", "modify", "approve", "submit", "book", "reserve", "schedule", "change", "move", "rename", "append", "request"]],
  ["read", ["get", "list", "read", "search", "find", "view", "fetch", "query", "check", "show", "download", "summarize", "summarise", "lookup"]],
];

export function inferKind(capability: string): string | undefined {
  const ws = new Set(words(capability));
  for (const [kind, verbs] of VERBS) if (verbs.some((v) => ws.has(v))) return kind;
  return undefined;
}

export function actionFacts(policy: CompiledPolicy, event: ActionEventT): ActionFacts {
  const tool = policy.tools.get(event.action.capability) ?? (event.action.tool ? policy.tools.get(event.action.tool) : undefined);
  const kind = event.action.kind ?? tool?.kind ?? inferKind(event.action.capability);
  const egress = kind === "egress" || event.resource?.destination !== undefined;
  return {
    ...(kind ? { kind } : {}),
    tags: event.resource?.sensitivity ?? tool?.sensitivity ?? [],
    egress,
    external: egress && event.resource?.external !== false,
  };
}
