// `bench quant-accuracy`: what int8 and int4 weights cost the embedded model, over the held-out
// (validation) Python files of its pretraining corpus: at every position, whether the quantized
// model's top-1 next token is the float32 model's, and the mean next-token loss of each (nats/token).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCausalLM, type QuantActivations, type QuantMode } from '../engine/index.js';
import { UserError } from '../common/index.js';
import {
  BpeEncoder,
  corpusSource,
  DEFAULT_RECIPE,
  pretrainRows,
  recipeRowOptions,
  readTokenizer,
  scanCorpus,
  selectFiles,
} from '../finetune/index.js';

export interface QuantAccuracyOptions {
  model: string;
  corpus: string;
  /** Most validation rows scored (each one pretraining row, 256 tokens for the embedded model). */
  rows: number;
  threads?: number;
  log: (line: string) => void;
}

export interface QuantAccuracyRow {
  quant: QuantMode;
  /** int8: what inference runs (MatMulNBits' fast kernels); float: the exact dequantized model (what QLoRA trains over). */
  activations: QuantActivations | null;
  /** Share of positions whose argmax equals float32's. */
  top1Agreement: number;
  /** Mean next-token cross-entropy, nats/token. */
  loss: number;
  /** loss - float32's loss. */
  lossIncrease: number;
}

export interface QuantAccuracyReport {
  positions: number;
  rows: number;
  results: QuantAccuracyRow[];
}

/** The validation rows exactly as the pretraining run cut them (its recipe from training-log.json, when there is one). */
function validationRows(model: string, corpus: string, limit: number): Int32Array[] {
  if (!existsSync(corpus)) throw new UserError(`corpus folder "${corpus}" does not exist`);
  const logPath = join(model, 'training-log.json');
  const recipe = { ...DEFAULT_RECIPE, ...(existsSync(logPath) ? JSON.parse(readFileSync(logPath, 'utf8')).recipe : {}) };
  const scan = scanCorpus(corpus, { validationFraction: recipe.validationFraction });
  const files = selectFiles(scan.files, { split: 'validation' });
  if (files.length === 0) throw new UserError(`corpus "${corpus}" has no validation files`);
  const encoder = new BpeEncoder(readTokenizer(model));
  const rows: Int32Array[] = [];
  for (const x of pretrainRows(corpusSource(corpus, files), encoder, { ...recipeRowOptions(recipe), shuffle: false, epochs: 1 })) {
    rows.push(x.row);
    if (rows.length >= limit) break;
  }
  return rows;
}

/** Per position of every row: the argmax token and -log p(next token). */
async function score(
  model: string,
  quant: QuantMode,
  activations: QuantActivations,
  rows: Int32Array[],
  threads?: number,
): Promise<{ argmax: Int32Array; nll: Float64Array }> {
  const lm = await loadCausalLM(model, { logits: 'all', quant, quantActivations: activations, threads });
  const V = lm.config.vocabSize;
  const per = rows[0].length - 1;
  const argmax = new Int32Array(rows.length * per);
  const nll = new Float64Array(rows.length * per);
  try {
    for (let r = 0; r < rows.length; r++) {
      const ids = Array.from(rows[r]);
      const { logits } = await lm.forward([ids], lm.emptyCache(1));
      for (let p = 0; p < per; p++) {
        const row = logits.subarray(p * V, (p + 1) * V);
        let best = 0;
        for (let v = 1; v < V; v++) if (row[v] > row[best]) best = v;
        let z = 0;
        for (let v = 0; v < V; v++) z += Math.exp(row[v] - row[best]);
        argmax[r * per + p] = best;
        nll[r * per + p] = Math.log(z) + row[best] - row[ids[p + 1]];
      }
    }
  } finally {
    await lm.release();
  }
  return { argmax, nll };
}

export async function quantAccuracy(o: QuantAccuracyOptions): Promise<QuantAccuracyReport> {
  const rows = validationRows(o.model, o.corpus, o.rows);
  const lengths = new Set(rows.map((r) => r.length));
  if (lengths.size !== 1) throw new Error(`validation rows of different lengths: ${[...lengths].join(', ')}`);
  o.log(`${rows.length} validation rows of ${rows[0].length} tokens`);
  const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
  o.log('float32 ...');
  const ref = await score(o.model, 'none', 'float', rows, o.threads);
  const refLoss = mean(ref.nll);
  const results: QuantAccuracyRow[] = [{ quant: 'none', activations: null, top1Agreement: 1, loss: refLoss, lossIncrease: 0 }];
  for (const quant of ['int8', 'int4'] as const) {
    for (const activations of ['int8', 'float'] as const) {
      o.log(`${quant}, ${activations} activations ...`);
      const s = await score(o.model, quant, activations, rows, o.threads);
      let same = 0;
      for (let i = 0; i < s.argmax.length; i++) if (s.argmax[i] === ref.argmax[i]) same++;
      const loss = mean(s.nll);
      results.push({ quant, activations, top1Agreement: same / s.argmax.length, loss, lossIncrease: loss - refLoss });
    }
  }
  return { positions: ref.argmax.length, rows: rows.length, results };
}

/** Goals of issue 15: int8 ≥ 99% and int4 ≥ 95% top-1 agreement with float32. */
export const AGREEMENT_GOALS: Record<string, number> = { int8: 0.99, int4: 0.95 };

export function formatQuantAccuracy(model: string, r: QuantAccuracyReport): string {
  const lines = [
    `quant accuracy of ${model}: ${r.positions} held-out positions (${r.rows} validation rows)`,
    'weights  activations             top-1 agreement with F32  validation loss  increase (nats/token)  goal',
  ];
  for (const x of r.results) {
    const goal = AGREEMENT_GOALS[x.quant];
    const met = goal === undefined ? '' : `${x.top1Agreement >= goal ? 'met' : 'NOT met'} (≥ ${(100 * goal).toFixed(0)}%)`;
    const acts = x.activations === null ? 'float32' : x.activations === 'int8' ? 'int8 (inference)' : 'float32 (exact, QLoRA)';
    const cells = [
      (x.quant === 'none' ? 'f32' : x.quant).padEnd(7),
      acts.padEnd(22),
      `${(100 * x.top1Agreement).toFixed(2)}%`.padStart(24),
      x.loss.toFixed(4).padStart(15),
      ((x.lossIncrease >= 0 ? '+' : '') + x.lossIncrease.toFixed(4)).padStart(21),
    ];
    lines.push(`${cells.join('  ')}  ${met}`);
  }
  return lines.join('\n');
}
