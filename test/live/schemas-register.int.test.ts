// `vigil schemas register` against the stack's real Apicurio Registry: the v1.1 event schema
// (action.result) registers as a new version of a subject that holds the v1 schema under
// BACKWARD compatibility (the Confluent default, and the level the registry client expects),
// and the registry does refuse a change that is not an extension; so does the v1.3 schema
// (tools.listed) after v1.2, the v1.4 event and status schemas after v1.3, and the v1.5
// command schema (its `explanation`) after v1.4. That
// old readers read new data (forward) is checked with avsc's resolver in
// test/protocol/avro-codec.test.ts.
import { describe, expect, it } from "vitest";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { readAvroSchema } from "../../src/codec/avro-codec.js";
import { registerSchemas } from "../../src/adapters/schema-registry.js";
import { loadConfig } from "../../src/config/config.js";
import { vigil } from "../support/processes.js";
import { registryUrl, uniqueName } from "../support/stack-env.js";

type Field = { name: string; type: unknown };
type RecordSchema = { fields: Field[] } & Record<string, unknown>;

const V11_FIELDS = ["actionEventId", "output", "source"];
const current = readAvroSchema("vigil-event") as unknown as RecordSchema;
/** The event schema as registered before v1.1: the same record without the fields v1.1 added. */
const v1: RecordSchema = { ...current, fields: current.fields.filter((f) => !V11_FIELDS.includes(f.name)) };

const V13_FIELDS = ["tools"];
/** The event schema as registered before v1.3: the same record without `tools`. */
const v12: RecordSchema = { ...current, fields: current.fields.filter((f) => !V13_FIELDS.includes(f.name)) };

const V14_FIELDS = ["answer", "channel"];
/** The event and status schemas as registered before v1.4: without step_up.answered's fields and the status's `goal`. */
const v13: RecordSchema = { ...current, fields: current.fields.filter((f) => !V14_FIELDS.includes(f.name)) };
const currentStatus = readAvroSchema("vigil-session-status") as unknown as RecordSchema;
const v13Status: RecordSchema = { ...currentStatus, fields: currentStatus.fields.filter((f) => f.name !== "goal") };

const currentCommand = readAvroSchema("vigil-command") as unknown as RecordSchema;
/** The command schema as registered before v1.5: without `explanation`. */
const v14Command: RecordSchema = { ...currentCommand, fields: currentCommand.fields.filter((f) => f.name !== "explanation") };

const api = (path: string, init?: RequestInit) =>
  fetch(`${registryUrl}${path}`, { ...init, headers: { "Content-Type": "application/vnd.schemaregistry.v1+json" } });

async function deleteSubject(subject: string): Promise<void> {
  await api(`/subjects/${encodeURIComponent(subject)}`, { method: "DELETE" });
  await api(`/subjects/${encodeURIComponent(subject)}?permanent=true`, { method: "DELETE" });
}

describe("vigil schemas register (Apicurio)", () => {
  it("registers the v1.1 event schema as a BACKWARD-compatible new version after v1, and the registry refuses a retyped field", async () => {
    const prefix = `${uniqueName("schemas")}.`;
    const events = `${prefix}vigil.events-value`;
    const subjects = [events, `${prefix}vigil.commands-value`, `${prefix}vigil.session-status-value`];
    const registry = new SchemaRegistry({ host: registryUrl });
    try {
      expect((await api(`/config/${encodeURIComponent(events)}`, { method: "PUT", body: JSON.stringify({ compatibility: "BACKWARD" }) })).status).toBe(200);
      const { id: v1Id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v1) }, { subject: events });

      const run = vigil(["schemas", "register"], {
        env: { ...process.env, VIGIL_REGISTRY_URL: registryUrl, VIGIL_TOPIC_PREFIX: prefix },
      });
      expect(run.stderr).toBe("");
      expect(run.status).toBe(0);
      const ids = Object.fromEntries(
        run.stdout
          .trim()
          .split("\n")
          .map((l) => l.split("\t"))
          .map(([s, id]) => [s, Number(id?.replace("id=", ""))]),
      );
      expect(Object.keys(ids).sort()).toEqual([...subjects].sort());
      expect(ids[events]).not.toBe(v1Id);

      expect(await (await api(`/subjects/${encodeURIComponent(events)}/versions`)).json()).toEqual([1, 2]);
      const latest = (await (await api(`/subjects/${encodeURIComponent(events)}/versions/latest`)).json()) as { id: number; schema: string };
      expect(latest.id).toBe(ids[events]);
      const names = (JSON.parse(latest.schema) as RecordSchema).fields.map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(V11_FIELDS));

      // Registering again changes nothing (same id, no third version).
      const again = vigil(["schemas", "register"], {
        env: { ...process.env, VIGIL_REGISTRY_URL: registryUrl, VIGIL_TOPIC_PREFIX: prefix },
      });
      expect(again.stdout).toBe(run.stdout);

      // The control: the same subject refuses a schema that retypes an existing field.
      const retyped = { ...current, fields: current.fields.map((f) => (f.name === "outcome" ? { ...f, type: ["null", "long"] } : f)) };
      const refused = await api(`/subjects/${encodeURIComponent(events)}/versions`, {
        method: "POST",
        body: JSON.stringify({ schema: JSON.stringify(retyped) }),
      });
      expect(refused.status).toBe(409);
    } finally {
      for (const s of subjects) await deleteSubject(s);
    }
  });

  // The schemas as this checkout has them (registerSchemas, what `vigil schemas register` runs), not the built CLI's.
  it("registers the v1.3 event schema (tools.listed) as a BACKWARD-compatible new version after v1.2", async () => {
    const prefix = `${uniqueName("schemas13")}.`;
    const events = `${prefix}vigil.events-value`;
    const subjects = [events, `${prefix}vigil.commands-value`, `${prefix}vigil.session-status-value`];
    const registry = new SchemaRegistry({ host: registryUrl });
    try {
      expect((await api(`/config/${encodeURIComponent(events)}`, { method: "PUT", body: JSON.stringify({ compatibility: "BACKWARD" }) })).status).toBe(200);
      const { id: v12Id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v12) }, { subject: events });
      const ids = await registerSchemas(registry, loadConfig({ VIGIL_REGISTRY_URL: registryUrl, VIGIL_TOPIC_PREFIX: prefix }));
      expect(ids.events).not.toBe(v12Id);
      expect(await (await api(`/subjects/${encodeURIComponent(events)}/versions`)).json()).toEqual([1, 2]);
      const latest = (await (await api(`/subjects/${encodeURIComponent(events)}/versions/latest`)).json()) as { id: number; schema: string };
      expect(latest.id).toBe(ids.events);
      expect((JSON.parse(latest.schema) as RecordSchema).fields.map((f) => f.name)).toEqual(expect.arrayContaining(V13_FIELDS));
    } finally {
      for (const s of subjects) await deleteSubject(s);
    }
  });

  it("registers the v1.4 event and status schemas (step_up.answered, the status's goal) as BACKWARD-compatible new versions after v1.3", async () => {
    const prefix = `${uniqueName("schemas14")}.`;
    const events = `${prefix}vigil.events-value`;
    const status = `${prefix}vigil.session-status-value`;
    const subjects = [events, `${prefix}vigil.commands-value`, status];
    const registry = new SchemaRegistry({ host: registryUrl });
    try {
      for (const [subject, schema] of [
        [events, v13],
        [status, v13Status],
      ] as const) {
        expect((await api(`/config/${encodeURIComponent(subject)}`, { method: "PUT", body: JSON.stringify({ compatibility: "BACKWARD" }) })).status).toBe(200);
        await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
      }
      const ids = await registerSchemas(registry, loadConfig({ VIGIL_REGISTRY_URL: registryUrl, VIGIL_TOPIC_PREFIX: prefix }));
      for (const [subject, id, fields] of [
        [events, ids.events, V14_FIELDS],
        [status, ids.status, ["goal"]],
      ] as const) {
        expect(await (await api(`/subjects/${encodeURIComponent(subject)}/versions`)).json()).toEqual([1, 2]);
        const latest = (await (await api(`/subjects/${encodeURIComponent(subject)}/versions/latest`)).json()) as { id: number; schema: string };
        expect(latest.id).toBe(id);
        expect((JSON.parse(latest.schema) as RecordSchema).fields.map((f) => f.name)).toEqual(expect.arrayContaining([...fields]));
      }
    } finally {
      for (const s of subjects) await deleteSubject(s);
    }
  });

  it("registers the v1.5 command schema (explanation) as a BACKWARD-compatible new version after v1.4", async () => {
    const prefix = `${uniqueName("schemas15")}.`;
    const commands = `${prefix}vigil.commands-value`;
    const subjects = [`${prefix}vigil.events-value`, commands, `${prefix}vigil.session-status-value`];
    const registry = new SchemaRegistry({ host: registryUrl });
    try {
      expect((await api(`/config/${encodeURIComponent(commands)}`, { method: "PUT", body: JSON.stringify({ compatibility: "BACKWARD" }) })).status).toBe(200);
      const { id: v14Id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(v14Command) }, { subject: commands });
      const ids = await registerSchemas(registry, loadConfig({ VIGIL_REGISTRY_URL: registryUrl, VIGIL_TOPIC_PREFIX: prefix }));
      expect(ids.commands).not.toBe(v14Id);
      expect(await (await api(`/subjects/${encodeURIComponent(commands)}/versions`)).json()).toEqual([1, 2]);
      const latest = (await (await api(`/subjects/${encodeURIComponent(commands)}/versions/latest`)).json()) as { id: number; schema: string };
      expect(latest.id).toBe(ids.commands);
      expect((JSON.parse(latest.schema) as RecordSchema).fields.map((f) => f.name)).toContain("explanation");
    } finally {
      for (const s of subjects) await deleteSubject(s);
    }
  });
});
