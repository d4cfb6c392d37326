// Types for experimentValidator.generated.cjs (an ajv standalone validator; scripts/generate-validator.ts).
import type { ValidateFunction } from 'ajv';

declare const validate: ValidateFunction & { schemaHash: string };
export = validate;
