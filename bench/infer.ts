import { loadCausalLM } from '../engine/load.js';
import { openModelFolder } from '../engine/model-folder.js';
import { Rng } from '../common/index.js';
import { measureReadBandwidth } from './memory-bandwidth.js';

export interface InferBenchOptions {
  model: string;
  promptTokens: number;
  decodeTokens: number;
  threads?: number;
  log?: (line: string) => void;
}

export interface InferBenchResult {
  prefillTokensPerSecond: number;
  decodeTokensPerSecond: number;
  weightBytes: number;
  readBandwidthBytesPerSecond: number;
  /** Tokens/s if a decode step cost only reading every weight once. */
  decodeBoundTokensPerSecond: number;
  decodeShareOfBound: number;
}

/** Bytes of weights one decode step must stream: every matrix, plus the embedding when lm_head is tied to it. */
function decodeWeightBytes(folder: ReturnType<typeof openModelFolder>): number {
  const { config, weights } = folder;
  let n = 0;
  for (const name of weights.names()) {
    if (name === 'model.embed_tokens.weight' && !config.tieWordEmbeddings) continue;
    n += weights.shape(name).reduce((a, b) => a * b, 1);
  }
  return 4 * n;
}

export async function benchInfer(o: InferBenchOptions): Promise<InferBenchResult> {
  const log = o.log ?? (() => {});
  const folder = openModelFolder(o.model);
  log(`compiling ${o.model} ...`);
  const lm = await loadCausalLM(folder, { logits: 'last', threads: o.threads });
  const rng = new Rng(1);
  const prompt = Array.from({ length: o.promptTokens }, () => rng.int(folder.config.vocabSize));
  await lm.forward([prompt.slice(0, 8)], lm.emptyCache(1)); // warm-up: allocations, first-run planning
  const t0 = performance.now();
  let out = await lm.forward([prompt], lm.emptyCache(1));
  const prefillSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  for (let i = 0; i < o.decodeTokens; i++) out = await lm.forward([[rng.int(folder.config.vocabSize)]], out.cache);
  const decodeSeconds = (performance.now() - t1) / 1000;
  await lm.release();
  const weightBytes = decodeWeightBytes(folder);
  const bandwidth = await measureReadBandwidth();
  const decodeTps = o.decodeTokens / decodeSeconds;
  const bound = bandwidth / weightBytes;
  return {
    prefillTokensPerSecond: o.promptTokens / prefillSeconds,
    decodeTokensPerSecond: decodeTps,
    weightBytes,
    readBandwidthBytesPerSecond: bandwidth,
    decodeBoundTokensPerSecond: bound,
    decodeShareOfBound: decodeTps / bound,
  };
}
