// The engine's public surface: other parts import only from here.
export { UserError, messageOf } from './errors.js';
// Model folder I/O: safetensors, config, weights, tokenizer, FIM templates.
export { writeFileAtomic, writeTextAtomic } from './atomic-write.js';
export { ProgressBar, formatDuration } from './progress-bar.js';
export type { ProgressBarOptions, ProgressStream } from './progress-bar.js';
export { f32ToF16, f16ToF32, f32ToBf16, bf16ToF32 } from './float-convert.js';
export { SafetensorsFile, writeSafetensors, elementCount, DTYPE_SIZE, MAX_HEADER_BYTES } from './safetensors.js';
export type { Dtype, TensorInfo, TensorData, TensorToWrite } from './safetensors.js';
export { parseModelConfig, readModelConfig, configKey, SUPPORTED_ARCHITECTURES } from './config.js';
export type { ModelConfig, Architecture, RopeScaling } from './config.js';
export { expectedTensors, layerPrefix } from './weight-layout.js';
export type { ExpectedTensor } from './weight-layout.js';
export { openModelFolder, openWeights, checkWeights } from './model-folder.js';
export type { ModelFolder, WeightSource } from './model-folder.js';
export type { QuantizedWeight } from './quant/quantized-weight.js';
export { blocksPerRow } from './quant/quantized-weight.js';
export { resolveModel, defaultHubCacheDir } from './resolve-model.js';
export type { ResolveModelOptions } from './resolve-model.js';
export { loadTokenizer } from './tokenizer.js';
export type { Tokenizer } from './tokenizer.js';
export { detectFimTemplate, FIM_FAMILIES } from './fim.js';
export type { FimTemplate, FimFamily, FimMode } from './fim.js';
// Graphs, inference and generation.
export { Builder, broadcastShapes } from './graph/builder.js';
export type { ReduceOp } from './graph/builder.js';
export { Graph, int, float, ints } from './graph/graph.js';
export type { Value, Node, Dim, Attr, Initializer, TensorSource } from './graph/graph.js';
export type { DType, TypedArray } from './graph/dtype.js';
export { writeOnnxModel, OPSET } from './graph/onnx-writer.js';
export { compiledGraph, cacheRoot, graphKey } from './graph-cache.js';
export { openSession, ort } from './session.js';
export type { Device, SessionOptions } from './session.js';
export { buildDecoder, lmHead } from './llama/decoder.js';
export type { ModelParams, LinearHook, DecoderGraph, DecoderOptions } from './llama/decoder.js';
export { buildInferenceGraph, initializerParams } from './llama/inference-graph.js';
export type { InferenceGraphOptions, WeightReader } from './llama/inference-graph.js';
export { ropeTables } from './llama/rope.js';
export { CausalLM } from './causal-lm.js';
export type { KvCache, ForwardResult, CausalLMOptions } from './causal-lm.js';
export { loadCausalLM } from './load.js';
export type { LoadOptions } from './load.js';
export { generate, cutAtStop } from './generate/generate.js';
export { endsInCycle, loopShare, trailingCyclePeriod } from './generate/repetition-loops.js';
export type { GenerateOptions, GenerateResult, Generation, StopReason } from './generate/generate.js';
export { Completer, fimPromptText } from './completer.js';
export type { FimRequest, FimResult, FimPromptModel, FimPromptBudget } from './completer.js';
export { embeddedModelDir, modelDirFor, EMBEDDED_MODEL } from './default-model.js';
export { Rng, mulberry32, type Random } from './random.js';
// LoRA: specs, layouts, the graph hook, PEFT adapter folders, merged and unmerged inference.
export { LLAMA_PROJECTIONS, defaultLoraSpec, checkLoraSpec, loraScale, targetsModule, moduleRankAndScale } from './lora/lora-spec.js';
export type { LoraSpec } from './lora/lora-spec.js';
export { peftKey, parsePeftKey, projections, layoutForSpec, layoutForTensors, layoutModulesKey } from './lora/lora-layout.js';
export type { LoraLayout, LoraModule } from './lora/lora-layout.js';
export { loraHook, loraInputs } from './lora/lora-hook.js';
export type { LoraHookOptions } from './lora/lora-hook.js';
export { hashedDropout, dropoutHash, dropoutThreshold } from './lora/lora-dropout.js';
export { initLoraMatrices, kaimingUniformBound } from './lora/lora-init.js';
export { mergedWeight, mergedWeights, adapterFingerprint } from './lora/merge.js';
export {
  readPeftAdapter, writePeftAdapter, makeLoraAdapter, peftConfigJson, specFromPeftConfig, adapterFloat32,
  ADAPTER_CONFIG, ADAPTER_WEIGHTS, CODEFUDGE_META,
} from './lora/peft.js';
export type { LoraAdapter, AdapterTensor, AdapterDtype } from './lora/peft.js';
export { pythonJson, pythonFloat } from './lora/python-json.js';
export {
  attachAdapter, unmergedGraphOptions, adapterFeeds, noAdapterFeeds, loadAdaptedCausalLM,
} from './lora/adapter-inference.js';
export type { AttachedAdapter, AdaptedModel, AdapterLoadOptions } from './lora/adapter-inference.js';
export {
  buildTrainingGraph, trainableTensors, TrainingSession, DROPOUT_SEED_INPUT, LOSS_OUTPUT, gradOutput,
} from './lora/training-graph.js';
export type { TrainingGraphSpec, TrainableTensor, TrainingBatch, TrainingStepResult } from './lora/training-graph.js';
// Autodiff and the causal-LM loss.
export { grad } from './autodiff/grad.js';
export type { GradOptions } from './autodiff/grad.js';
export { VJP_RULES, NON_DIFFERENTIABLE } from './autodiff/rules.js';
export type { Vjp, VjpContext } from './autodiff/rules.js';
export { sumToShape, expandLike, reshapeLike, zerosLike } from './autodiff/shapes.js';
export {
  buildCausalLmLoss, causalLmTargets, nextTokenTargets, lossFeeds, IGNORE_INDEX, LOSS_INPUTS,
} from './llama/loss.js';
export type { CausalLmLoss, CausalLmLossOptions, LossTargets } from './llama/loss.js';
// Unified diffs: parse (strict, or a model's output with repairs), apply as `patch -F0` does, render.
export { splitLines, usesCrlf } from './diff/file-lines.js';
export { lineText, countSides, hasChange } from './diff/hunk.js';
export type { DiffOp, DiffLine, Hunk, FilePatch, LineEdit } from './diff/hunk.js';
export { parseUnifiedDiff, readGeneratedDiff, DiffFormatError } from './diff/parse-diff.js';
export type { GeneratedDiff } from './diff/parse-diff.js';
export { applyHunks } from './diff/apply-diff.js';
export type { ApplyResult, PlacedHunk } from './diff/apply-diff.js';
export { fitHunks } from './diff/fit-diff.js';
export type { FitResult } from './diff/fit-diff.js';
export { renderUnifiedDiff } from './diff/render-diff.js';
export type { RenderOptions } from './diff/render-diff.js';
