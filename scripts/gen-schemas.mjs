#!/usr/bin/env node
// Regenerates schemas/*.schema.json (JSON Schema draft 2020-12) from the zod schemas in
// src/protocol, and schemas/*.avsc from src/protocol/avro-schemas.ts, through the compiled
// generator in dist/adapters/json-schema.js.
//
//   npm run build && node scripts/gen-schemas.mjs
//
// test/protocol/json-schema.test.ts fails when the committed files differ from the generator.
import { writeFileSync } from "node:fs";
import process from "node:process";
import { URL } from "node:url";
import { generatedSchemaFiles } from "../dist/adapters/json-schema.js";

for (const { file, text } of generatedSchemaFiles()) {
  writeFileSync(new URL(`../schemas/${file}`, import.meta.url), text);
  process.stdout.write(`wrote schemas/${file}\n`);
}
