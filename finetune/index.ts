// The finetune part's public surface: training loops for adapt (LoRA) and pretrain (every weight).
export { AdamW } from './trainer/adamw.js';
export type { AdamWOptions, AdamMoments } from './trainer/adamw.js';
export { cosineWithWarmup } from './trainer/schedule.js';
export type { ScheduleOptions } from './trainer/schedule.js';
export { clipGradNorm, globalNorm } from './trainer/grad-clip.js';
export { DataOrder, epochPermutation } from './trainer/data-order.js';
export type { DataPosition } from './trainer/data-order.js';
export { collate, checkExamples } from './trainer/batching.js';
export type { TrainExample } from './trainer/batching.js';
export { saveCheckpoint, loadCheckpoint, CHECKPOINT_FILE } from './trainer/checkpoint.js';
export type { Checkpoint, TrainState } from './trainer/checkpoint.js';
export { loraTarget, fullTarget } from './trainer/train-target.js';
export type { TrainTarget, LoraTarget } from './trainer/train-target.js';
export { TrainLoop, dropoutSeed } from './trainer/train-loop.js';
export type { TrainLoopOptions, TrainProgress, TrainResult } from './trainer/train-loop.js';
export { loraGrads } from './trainer/lora-grads.js';
export type { LoraGrads } from './trainer/lora-grads.js';
export { benchLora } from './trainer/bench-lora.js';
export type { BenchLoraOptions, BenchLoraResult } from './trainer/bench-lora.js';
// Pretraining: data side and the run that writes the embedded model.
export * from './pretrain/index.js';
export { pretrain } from './pretrain/run-pretrain.js';
export type { PretrainOptions, PretrainResult } from './pretrain/run-pretrain.js';
export { DEFAULT_RECIPE, recipeConfig } from './pretrain/recipe.js';
export type { PretrainRecipe } from './pretrain/recipe.js';
