// Entry points that open a GGUF path for the rest of the engine (model folder, tokenizer).
import * as path from 'node:path';
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
