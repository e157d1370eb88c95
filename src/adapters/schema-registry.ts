// The schema registry (Confluent-compatible API, e.g. Apicurio's ccompat): the client, and the
// registration of the contract's Avro schemas under `<topic>-value`.
import SchemaRegistryModule from "@kafkajs/confluent-schema-registry";
import type { Config } from "../config/config.js";
import type { AvroSchemaName } from "../protocol/index.js";
import { readAvroSchema } from "../codec/avro-codec.js";

const { SchemaRegistry, SchemaType } = SchemaRegistryModule as unknown as typeof import("@kafkajs/confluent-schema-registry");
export type SchemaRegistryClient = InstanceType<typeof SchemaRegistry>;

export const schemaRegistry = (url: string): SchemaRegistryClient => new SchemaRegistry({ host: url });

/** Registers the event, command and session-status Avro schemas under `<topic>-value`; returns their ids. */
export async function registerSchemas(registry: SchemaRegistryClient, config: Config): Promise<{ events: number; commands: number; status: number }> {
  const register = async (name: AvroSchemaName, topic: string) =>
    (await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(readAvroSchema(name)) }, { subject: `${topic}-value` })).id;
  return {
    events: await register("vigil-event", config.topics.events),
    commands: await register("vigil-command", config.topics.commands),
    status: await register("vigil-session-status", config.topics.sessionStatus),
  };
}
