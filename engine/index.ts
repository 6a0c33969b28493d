// The engine's public surface: other parts import only from here.
export { UserError, messageOf } from './errors.js';
// Model folder I/O: safetensors, config, weights, tokenizer, FIM templates.
export { writeFileAtomic, writeTextAtomic } from './atomic-write.js';
export { f32ToF16, f16ToF32, f32ToBf16, bf16ToF32 } from './float-convert.js';
export { SafetensorsFile, writeSafetensors, elementCount, DTYPE_SIZE, MAX_HEADER_BYTES } from './safetensors.js';
export type { Dtype, TensorInfo, TensorData, TensorToWrite } from './safetensors.js';
export { parseModelConfig, readModelConfig, configKey, SUPPORTED_ARCHITECTURES } from './config.js';
export type { ModelConfig, Architecture, RopeScaling } from './config.js';
export { expectedTensors, layerPrefix } from './weight-layout.js';
export type { ExpectedTensor } from './weight-layout.js';
export { openModelFolder, openWeights, checkWeights } from './model-folder.js';
export type { ModelFolder, WeightSource } from './model-folder.js';
export { resolveModel, defaultHubCacheDir } from './resolve-model.js';
export type { ResolveModelOptions } from './resolve-model.js';
export { loadTokenizer } from './tokenizer.js';
export type { Tokenizer } from './tokenizer.js';
export { detectFimTemplate, FIM_FAMILIES } from './fim.js';
export type { FimTemplate, FimFamily, FimMode } from './fim.js';
