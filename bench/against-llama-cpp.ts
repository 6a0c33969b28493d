// `bench infer --against llama.cpp`: the same weights exported to GGUF (cached by the weights'
// fingerprint) and run by llama.cpp with the same prompt and decode lengths and threads; plus the greedy
// agreement check: codefudge loading that very GGUF vs llama.cpp on it, token by token.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheRoot } from '../engine/graph-cache.js';
import { exportModelToGguf } from '../engine/gguf/gguf-open.js';
import type { GgufQuant } from '../engine/gguf/gguf-export.js';
import { loadCausalLM } from '../engine/load.js';
import { openModelFolder } from '../engine/model-folder.js';
import { Rng, UserError } from '../common/index.js';
import { loadTokenizer } from '../engine/tokenizer.js';
import { llamaCppGreedy, llamaCppSpeed, loadLlamaCpp, type LlamaCppSpeed } from './llama-cpp.js';

/** `--quant` as the GGUF type llama.cpp runs: ggml names, or the engine's int4/int8/none for the same widths. */
export function ggufQuantFor(flag: string | undefined): GgufQuant {
  const q = flag ?? 'q4_0';
  const map: Record<string, GgufQuant> = { q4_0: 'q4_0', int4: 'q4_0', q8_0: 'q8_0', int8: 'q8_0', f32: 'f32', none: 'f32', f16: 'f16' };
  const out = map[q];
  if (!out) throw new UserError(`--quant must be q4_0, q8_0 or f32 (or int4, int8, none), got "${q}"`);
  return out;
}

/** Code prompts for the agreement check (tokenized by the model's own tokenizer). */
const AGREEMENT_PROMPTS = [
  'def fibonacci(n):\n    if n < 2:\n        return n\n    return',
  'import os\nimport sys\n\n\ndef main(argv):\n    path = argv[1]\n    with open(path) as f:\n',
  'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, item):\n',
  'for i in range(10):\n    for j in range(i):\n        print(i * j, end=" ")\n',
  '# Parse a CSV file and sum the second column\nimport csv\n\ntotal = 0\n',
];

export interface AgainstResult {
  gguf: string;
  quant: GgufQuant;
  llamaCpp: LlamaCppSpeed;
  agreement: { matching: number; total: number; identicalPrompts: number; prompts: number; firstDifference?: string };
}

/** The model exported to GGUF at `quant`, reused while the weights are unchanged. */
export function cachedGguf(model: string, quant: GgufQuant, log: (l: string) => void): string {
  const folder = openModelFolder(model);
  const key = folder.weights.fingerprint();
  folder.weights.close();
  const dir = path.join(cacheRoot(), 'gguf');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${key}-${quant}.gguf`);
  if (!fs.existsSync(file)) {
    log(`exporting ${model} to ${file} ...`);
    exportModelToGguf(model, file, quant);
  }
  return file;
}

/** Greedy tokens, and at each step the gap between the best and second-best logit (a near-tie flips easily). */
async function codefudgeGreedy(
  model: string,
  prompts: number[][],
  n: number,
  threads: number,
): Promise<{ tokens: number[][]; margins: number[][] }> {
  const lm = await loadCausalLM(model, { logits: 'last', threads });
  try {
    const V = lm.config.vocabSize;
    const tokens: number[][] = [];
    const margins: number[][] = [];
    for (const prompt of prompts) {
      let r = await lm.forward([prompt], lm.emptyCache(1));
      const seq: number[] = [];
      const gaps: number[] = [];
      for (let i = 0; i < n; i++) {
        const l = r.logits.subarray(0, V);
        let best = 0;
        let second = -1;
        for (let j = 1; j < V; j++) {
          if (l[j] > l[best]) {
            second = best;
            best = j;
          } else if (second < 0 || l[j] > l[second]) second = j;
        }
        seq.push(best);
        gaps.push(l[best] - l[second]);
        if (i < n - 1) r = await lm.forward([[best]], r.cache);
      }
      tokens.push(seq);
      margins.push(gaps);
    }
    return { tokens, margins };
  } finally {
    await lm.release();
  }
}

async function agreementPrompts(model: string, vocabSize: number): Promise<number[][]> {
  try {
    const tok = await loadTokenizer(model);
    return AGREEMENT_PROMPTS.map((p) => tok.encode(p));
  } catch {
    const rng = new Rng(2);
    return AGREEMENT_PROMPTS.map(() => Array.from({ length: 24 }, () => rng.int(vocabSize)));
  }
}

export async function benchAgainstLlamaCpp(o: {
  model: string;
  quant: GgufQuant;
  prompt: number[];
  decodeTokens: number;
  threads: number;
  agreementTokens?: number;
  log: (l: string) => void;
}): Promise<AgainstResult | { missing: string }> {
  const nlc = await loadLlamaCpp();
  if ('missing' in nlc) return nlc;
  try {
    const gguf = cachedGguf(o.model, o.quant, o.log);
    o.log(`llama.cpp on ${path.basename(gguf)} (${o.threads} threads) ...`);
    const llamaCpp = await llamaCppSpeed(nlc.llama, { model: gguf, threads: o.threads }, o.prompt, o.decodeTokens);
    const n = o.agreementTokens ?? 32;
    const folder = openModelFolder(o.model);
    const vocab = folder.config.vocabSize;
    folder.weights.close();
    const prompts = await agreementPrompts(o.model, vocab);
    o.log(`greedy agreement: ${prompts.length} prompts x ${n} tokens, codefudge and llama.cpp both on ${path.basename(gguf)} ...`);
    const theirs = await llamaCppGreedy(nlc.llama, { model: gguf, threads: o.threads }, prompts, n);
    const { tokens: ours, margins } = await codefudgeGreedy(gguf, prompts, n, o.threads);
    let matching = 0;
    let identicalPrompts = 0;
    let firstDifference: string | undefined;
    ours.forEach((seq, p) => {
      // Tokens after the first difference continue different texts, so agreement counts the common prefix.
      // llama.cpp multiplies Q8_0/Q4_0 weights by activations it quantizes to Q8_0 (codefudge keeps them
      // float), so at a near-tie the two may pick different tokens; the gap printed says how near.
      let k = 0;
      while (k < n && seq[k] === theirs[p][k]) k++;
      matching += k;
      if (k === n) identicalPrompts++;
      else
        firstDifference ??= `prompt ${p + 1}, token ${k + 1}: codefudge ${seq[k]}, llama.cpp ${theirs[p][k]} (codefudge's top-2 logit gap there: ${margins[p][k].toFixed(3)})`;
    });
    return {
      gguf,
      quant: o.quant,
      llamaCpp,
      agreement: { matching, total: n * prompts.length, identicalPrompts, prompts: prompts.length, firstDifference },
    };
  } finally {
    await nlc.llama.dispose();
  }
}

export function formatAgainst(
  r: AgainstResult,
  ours: { prefillTokensPerSecond: number; decodeTokensPerSecond: number },
  threads: number,
): string[] {
  const q = r.quant.toUpperCase();
  const a = r.agreement;
  return [
    `llama.cpp prefill: ${r.llamaCpp.prefillTokensPerSecond.toFixed(1)} tokens/s (${q} GGUF, ${threads} threads)`,
    `llama.cpp decode:  ${r.llamaCpp.decodeTokensPerSecond.toFixed(2)} tokens/s`,
    `ratio vs llama.cpp ${q}: prefill ${(ours.prefillTokensPerSecond / r.llamaCpp.prefillTokensPerSecond).toFixed(2)}x, decode ${(ours.decodeTokensPerSecond / r.llamaCpp.decodeTokensPerSecond).toFixed(2)}x`,
    `greedy agreement on the ${q} GGUF (codefudge vs llama.cpp): ${a.matching}/${a.total} tokens (${((100 * a.matching) / a.total).toFixed(1)}%), ${a.identicalPrompts}/${a.prompts} prompts identical${a.firstDifference ? `; first difference at ${a.firstDifference}` : ''}`,
  ];
}
