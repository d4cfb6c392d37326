/**
 * Compiles schemas/experiment.schema.json into a standalone ajv validator module, so `xp`
 * does not spend ~200 ms compiling the schema on every start. Run after editing the schema:
 *
 *   npx tsx scripts/generate-validator.ts
 *
 * A test fails when the generated file is out of date; xp itself falls back to compiling the
 * schema at run time if the embedded schema hash does not match.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import standalone from 'ajv/dist/standalone/index.js';
import { compileExperimentSchema, generatedValidatorSource, GENERATED_VALIDATOR } from '../src/spec/schema.ts';

const { ajv, validate, hash } = compileExperimentSchema({ forStandalone: true });
const code = standalone.default(ajv, validate);
writeFileSync(fileURLToPath(GENERATED_VALIDATOR), generatedValidatorSource(code, hash));
console.log(`wrote ${fileURLToPath(GENERATED_VALIDATOR)} (schema ${hash.slice(0, 12)})`);
