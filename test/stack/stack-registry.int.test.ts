// The stack's real Apicurio Registry through its Confluent-compatible API, used unchanged by
// @kafkajs/confluent-schema-registry (base URL with a path: .../apis/ccompat/v7).
import { describe, expect, it } from "vitest";
import { SchemaRegistry, SchemaType } from "@kafkajs/confluent-schema-registry";
import { registryUrl, uniqueName } from "../support/stack-env.js";

const schema = {
  type: "record",
  name: "AgentEvent",
  namespace: "dev.vigil.int",
  fields: [
    { name: "sessionId", type: "string" },
    { name: "seq", type: "long" },
    { name: "tool", type: ["null", "string"], default: null },
  ],
};

async function deleteSubject(subject: string): Promise<void> {
  // Confluent semantics: soft delete first, then permanent delete
  const url = `${registryUrl}/subjects/${encodeURIComponent(subject)}`;
  await fetch(url, { method: "DELETE" });
  await fetch(`${url}?permanent=true`, { method: "DELETE" });
}

describe("schema registry (Apicurio, Confluent API)", () => {
  it("registers an Avro schema, encodes/decodes in Confluent wire format, and keeps the id stable", async () => {
    const registry = new SchemaRegistry({ host: registryUrl });
    const subject = uniqueName("vigil-int-events-value");
    try {
      const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThan(0);

      const value = { sessionId: "s-1", seq: 7, tool: "shell" };
      const encoded = await registry.encode(id, value);
      expect(encoded[0]).toBe(0); // magic byte
      expect(encoded.readInt32BE(1)).toBe(id); // 4-byte big-endian schema id
      expect(encoded.length).toBeGreaterThan(5);

      const decoded = (await registry.decode(encoded)) as Record<string, unknown>;
      expect({ ...decoded }).toEqual(value);

      // same schema, same subject -> same id; a fresh client sees it as the latest
      const again = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
      expect(again.id).toBe(id);
      const other = new SchemaRegistry({ host: registryUrl });
      expect(await other.getLatestSchemaId(subject)).toBe(id);
      expect({ ...((await other.decode(encoded)) as Record<string, unknown>) }).toEqual(value);

      // the raw API agrees
      const res = await fetch(`${registryUrl}/schemas/ids/${id}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { schema: string };
      expect(JSON.parse(body.schema)).toMatchObject({ name: "AgentEvent" });
    } finally {
      await deleteSubject(subject);
    }
  });
});
