// Entry points that open a GGUF path for the rest of the engine (model folder, tokenizer).
import * as path from 'node:path';
import { openModelFolder } from '../model-folder.js';
import { readPeftAdapter } from '../lora/peft.js';
import { exportAdapterGguf, exportModelGguf, tokenizerFilesOf, type GgufExportResult, type GgufQuant } from './gguf-export.js';
import { GgufFile } from './gguf-reader.js';
import { tokenizerFilesFromGguf, type TokenizerFiles } from './gguf-tokenizer.js';

/** The tokenizer.json/tokenizer_config.json pair of a GGUF model file. */
export function ggufTokenizerFiles(file: string): TokenizerFiles {
  const gguf = GgufFile.open(file);
  try {
    return tokenizerFilesFromGguf(gguf, path.basename(file));
  } finally {
    gguf.close();
  }
}

/** Exports a model folder or GGUF file to a GGUF model at `out`. */
export function exportModelToGguf(modelDir: string, out: string, quant: GgufQuant): GgufExportResult {
  const folder = openModelFolder(modelDir);
  try {
    return exportModelGguf(folder, tokenizerFilesOf(modelDir, folder.config.vocabSize, ggufTokenizerFiles), out, quant);
  } finally {
    folder.weights.close();
  }
}

/** Exports a PEFT adapter folder, trained on `modelDir`'s model, to llama.cpp's LoRA GGUF at `out`. */
export function exportAdapterToGguf(adapterDir: string, modelDir: string, out: string): { file: string; modules: number } {
  const folder = openModelFolder(modelDir);
  folder.weights.close();
  return exportAdapterGguf(readPeftAdapter(adapterDir), folder.config, out);
}
