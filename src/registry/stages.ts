import { evalStage } from '../stages/eval.ts';
import { featuresStage } from '../stages/features.ts';
import { ingestStage } from '../stages/ingest.ts';
import { searchStage } from '../stages/search.ts';
import { seedsStage } from '../stages/seeds.ts';
import { trainStage } from '../stages/train.ts';
import type { Stage } from '../stages/stage.ts';

/**
 * The stages `xp run` plans from a spec, by kind. Adding a stage is one file in
 * src/stages/ and one line here; the planner orders them by their `needs`.
 */
export const pipelineStages: readonly Stage[] = [ingestStage as Stage, featuresStage as Stage, trainStage as Stage, searchStage as Stage, evalStage as Stage, seedsStage as Stage];
