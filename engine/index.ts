// The engine's public surface: other parts import only from here.
// Model folder I/O: safetensors, config, weights, tokenizer, FIM templates.
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
export {
  quantizeWeight,
  dequantizeWeight,
  quantizedBytes,
  zeroPointOf,
  checkQuantizedWeight,
  DEFAULT_BLOCK_SIZE,
} from './quant/quantize.js';
export {
  QUANT_MODES,
  INT4_DEFAULT_MIN_PARAMETERS,
  parseQuantMode,
  parameterCount,
  defaultQuantMode,
  resolveQuantMode,
  quantBitsFor,
} from './quant/quant-mode.js';
export type { QuantMode, QuantActivations } from './quant/quant-mode.js';
export { quantizedWeightOf } from './quant/quantized-params.js';
export { matMulNBits, dequantizeValues, dequantizeRows, gatherQuantizedRows, MS_DOMAIN } from './quant/dequantize-graph.js';
export type { QuantizedValues } from './quant/dequantize-graph.js';
export { resolveModel, defaultHubCacheDir } from './resolve-model.js';
export type { ResolveModelOptions } from './resolve-model.js';
export { addedToken, bpeTokenizerJson } from './tokenizer-json.js';
export type { BpeTokenizerParts } from './tokenizer-json.js';
export { loadTokenizer, tokenizerFromJson } from './tokenizer.js';
// GGUF: reading (a .gguf file is a model wherever --model is), writing models and LoRA adapters.
export { GgufFile, tensorByteSize } from './gguf/gguf-reader.js';
export type { GgufTensorInfo, GgufValue, GgufKv, GgufArray } from './gguf/gguf-reader.js';
export { GgmlType, GgufValueType, KEY as GGUF_KEY, TokenType as GgufTokenType, ggmlTypeName } from './gguf/gguf-format.js';
export { GgufMetadata, writeGguf } from './gguf/gguf-writer.js';
export type { GgufTensorToWrite } from './gguf/gguf-writer.js';
export { dequantize, quantizeQ4_0, quantizeQ8_0, toMatMulNBits } from './gguf/gguf-quants.js';
export { hfName, ggufName, permuteRows, permutedHeads } from './gguf/gguf-names.js';
export { isGgufFile, openGgufModel, ggufConfigJson, GgufWeights } from './gguf/gguf-model.js';
export { tokenizerFilesFromGguf, writeTokenizerMetadata, preTokenizerName } from './gguf/gguf-tokenizer.js';
export { exportModelGguf, exportAdapterGguf, GGUF_QUANTS } from './gguf/gguf-export.js';
export type { GgufQuant, GgufExportResult } from './gguf/gguf-export.js';
export { ggufTokenizerFiles, exportModelToGguf, exportAdapterToGguf } from './gguf/gguf-open.js';
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
export { buildDecoder, lmHead, RESCORED_CANDIDATES } from './llama/decoder.js';
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
export { Completer, fimPromptText, fimTemplateFor, MIN_FIM_POSITIONS } from './completer.js';
export type { FimRequest, FimResult, FimPromptModel, FimPromptBudget } from './completer.js';
export { embeddedModelDir, modelDirFor, EMBEDDED_MODEL } from './default-model.js';
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
  readPeftAdapter,
  writePeftAdapter,
  makeLoraAdapter,
  peftConfigJson,
  specFromPeftConfig,
  adapterFloat32,
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  CODEFUDGE_META,
  workspaceAdapterDir,
} from './lora/peft.js';
export type { LoraAdapter, AdapterTensor, AdapterDtype } from './lora/peft.js';
export { pythonJson, pythonFloat } from './lora/python-json.js';
export { attachAdapter, unmergedGraphOptions, adapterFeeds, noAdapterFeeds, loadAdaptedCausalLM } from './lora/adapter-inference.js';
export type { AttachedAdapter, AdaptedModel, AdapterLoadOptions } from './lora/adapter-inference.js';
export {
  buildTrainingGraph,
  trainableTensors,
  TrainingSession,
  DROPOUT_SEED_INPUT,
  LOSS_OUTPUT,
  gradOutput,
} from './lora/training-graph.js';
export type { TrainingGraphSpec, TrainableTensor, TrainingBatch, TrainingStepResult } from './lora/training-graph.js';
// Autodiff and the causal-LM loss.
export { grad } from './autodiff/grad.js';
export type { GradOptions } from './autodiff/grad.js';
export { VJP_RULES, NON_DIFFERENTIABLE } from './autodiff/rules.js';
export type { Vjp, VjpContext } from './autodiff/rules.js';
export { sumToShape, expandLike, reshapeLike, zerosLike } from './autodiff/shapes.js';
export { buildCausalLmLoss, causalLmTargets, nextTokenTargets, lossFeeds, IGNORE_INDEX, LOSS_INPUTS } from './llama/loss.js';
export type { CausalLmLoss, CausalLmLossOptions, LossTargets } from './llama/loss.js';
