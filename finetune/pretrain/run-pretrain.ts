// `codefudge pretrain`: corpus -> tokenizer -> packed FIM rows -> full-parameter training -> a
// Hugging Face model folder. Work in progress lives in `<out>.work/` (tokenizer, checkpoints), so an
// interrupted run resumes where it stopped; the model folder appears only when training is done.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  expectedTensors,
  openModelFolder,
  parseModelConfig,
  writeSafetensors,
  type ModelConfig,
  type WeightReader,
} from '../../engine/index.js';
import { Rng, UserError, writeTextAtomic } from '../../common/index.js';
import { fullTarget } from '../trainer/train-target.js';
import { TrainLoop, type TrainProgress } from '../trainer/train-loop.js';
import { secondsPerStep } from '../trainer/step-time.js';
import type { TrainExample } from '../trainer/batching.js';
import { BpeEncoder } from './bpe-encoder.js';
import { scanCorpus, selectFiles, writeCorpusStats, type CorpusStats } from './corpus.js';
import { corpusSource, pretrainRows } from './pretrain-data.js';
import type { PackPosition } from './packing.js';
import { DEFAULT_RECIPE, recipeConfig, recipeRowOptions, type PretrainRecipe } from './recipe.js';
import { EOT } from './special-tokens.js';
import { readTokenizer, writeTokenizer } from './tokenizer-files.js';
import { trainTokenizerFromCorpus } from './train-tokenizer.js';

export interface PretrainOptions {
  corpus: string;
  out: string;
  recipe?: Partial<PretrainRecipe>;
  /** Continue from this model folder (its weights, shape and tokenizer) instead of a random init. */
  from?: string;
  /** Optimizer steps; when absent, `timeSeconds` picks them from the measured step time. */
  steps?: number;
  timeSeconds?: number;
  /** Validation rows used for the periodic evaluation loss. */
  evalRows?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  onProgress?: (p: TrainProgress) => void;
}

export interface PretrainResult {
  out: string;
  steps: number;
  stopped: boolean;
  trainTokens: number;
  validationLoss: number;
  seconds: number;
}

/** N(0, 0.02) weights, residual output projections scaled by 1/sqrt(2 * layers) (GPT-2's init), norms at 1. */
function initialWeights(config: ModelConfig, seed: number): WeightReader {
  const rng = new Rng(seed);
  const shapes = new Map(expectedTensors(config).map((t) => [t.name, t.shape]));
  const residualScale = 1 / Math.sqrt(2 * config.numLayers);
  return {
    float32(name) {
      const n = shapes.get(name)!.reduce((a, b) => a * b, 1);
      if (name.endsWith('norm.weight')) return new Float32Array(n).fill(1);
      const std = 0.02 * (/(o_proj|down_proj)\.weight$/.test(name) ? residualScale : 1);
      return Float32Array.from({ length: n }, () => std * rng.normal());
    },
  };
}

/** Passes over the training split drawn with fresh FIM cuts; longer runs cycle through them (memory). */
const MAX_PASSES = 8;

interface RowsOptions {
  limit?: number;
  /** Passes over the split, each with its own order and FIM cuts. */
  epochs?: number;
  /** Where an earlier call's rows ended (its `next`): later passes without re-reading the first. */
  start?: PackPosition;
}

/** Rows of `seqLen` tokens from the given split, FIM-transformed and packed; at most `limit` rows. */
function packedRows(
  corpus: string,
  stats: ReturnType<typeof scanCorpus>,
  split: 'train' | 'validation',
  encoder: BpeEncoder,
  r: PretrainRecipe,
  o: RowsOptions = {},
): { rows: TrainExample[]; next?: PackPosition } {
  const files = selectFiles(stats.files, { split });
  const rows: TrainExample[] = [];
  let next: PackPosition | undefined;
  if (!files.length) return { rows };
  const source = corpusSource(corpus, files);
  for (const packed of pretrainRows(
    source,
    encoder,
    { ...recipeRowOptions(r), shuffle: split === 'train', epochs: o.epochs ?? 1 },
    o.start,
  )) {
    rows.push({ ids: Array.from(packed.row) });
    next = packed.next;
    if (rows.length >= (o.limit ?? Infinity)) break;
  }
  return { rows, next };
}

function tokenizerFor(work: string, corpus: string, r: PretrainRecipe, log: (l: string) => void, from?: string): BpeEncoder {
  if (from && !existsSync(join(work, 'tokenizer.json'))) writeTokenizer(work, readTokenizer(from));
  if (!existsSync(join(work, 'tokenizer.json'))) {
    const res = trainTokenizerFromCorpus({
      corpus,
      out: work,
      vocabSize: r.vocabSize,
      maxBytes: r.tokenizerBytes,
      corpusOptions: { validationFraction: r.validationFraction },
      log,
    });
    log(
      `tokenizer: ${res.model.vocab.length} tokens trained on ${(res.trainBytes / 1e6).toFixed(1)} MB in ${res.trainSeconds.toFixed(1)} s`,
    );
  } else log(from ? `tokenizer: the one of ${from}` : 'tokenizer: reusing the one trained by the interrupted run');
  return new BpeEncoder(readTokenizer(work));
}

export async function pretrain(o: PretrainOptions): Promise<PretrainResult> {
  const log = o.log ?? (() => {});
  const r: PretrainRecipe = { ...DEFAULT_RECIPE, ...o.recipe };
  if (!existsSync(o.corpus)) throw new UserError(`corpus folder "${o.corpus}" does not exist`);
  const work = `${o.out}.work`;
  const stepsFile = join(work, 'steps.json');
  if (o.steps === undefined && !o.timeSeconds && !existsSync(stepsFile)) throw new UserError('pretrain needs --steps N or --time DURATION');
  mkdirSync(work, { recursive: true });
  const started = performance.now();

  const scan = scanCorpus(o.corpus, { validationFraction: r.validationFraction });
  writeCorpusStats(work, scan.stats);
  const encoder = tokenizerFor(work, o.corpus, r, log, o.from);
  const base = o.from ? openModelFolder(o.from) : undefined;
  const config = base?.config ?? parseModelConfig(recipeConfig({ ...r, vocabSize: encoder.vocabSize }, { eot: encoder.specialId(EOT)! }));
  if (base && config.vocabSize !== encoder.vocabSize)
    throw new UserError(`--from ${o.from}: its config has ${config.vocabSize} tokens but its tokenizer ${encoder.vocabSize}`);
  const previous = o.from ? previousTraining(o.from) : undefined;
  const firstPass = packedRows(o.corpus, scan, 'train', encoder, r);
  let train = firstPass.rows;
  const evalRows = packedRows(o.corpus, scan, 'validation', encoder, r, { limit: o.evalRows ?? 32 }).rows;
  if (!train.length) throw new UserError(`corpus "${o.corpus}" has too little text for one ${r.seqLen}-token row`);
  if (!evalRows.length) evalRows.push(train[train.length - 1]);
  log(`data: ${train.length} training rows (${((train.length * r.seqLen) / 1e6).toFixed(2)}M tokens), ${evalRows.length} validation rows`);

  const target = () => fullTarget(config, base?.weights ?? initialWeights(config, r.seed));
  const loopOptions = (steps: number, checkpointDir?: string) => ({
    target: target(),
    train,
    eval: evalRows,
    steps,
    batchSize: r.batchSize,
    lr: r.lr,
    warmupSteps: Math.min(r.warmupSteps, Math.floor(steps / 10)),
    minLrRatio: r.minLrRatio,
    weightDecay: r.weightDecay,
    seed: r.seed,
    evalEvery: o.evalEvery ?? 200,
    checkpointDir,
    checkpointEvery: o.checkpointEvery ?? 50,
    onProgress: o.onProgress,
  });
  let steps = o.steps;
  // A resumed --time run keeps the step count (and so the schedule) it chose the first time.
  if (steps === undefined && existsSync(stepsFile)) steps = JSON.parse(readFileSync(stepsFile, 'utf8')).steps as number;
  if (steps === undefined) {
    const perStep = await secondsPerStep({ target: target(), train, batchSize: r.batchSize, gradAccum: 1, lr: r.lr, seed: r.seed });
    steps = Math.max(1, Math.floor((o.timeSeconds! - (performance.now() - started) / 1000) / perStep));
    log(`--time: ${perStep.toFixed(2)} s/step measured, ${steps} steps fit`);
  }
  writeTextAtomic(stepsFile, JSON.stringify({ steps }));
  const passes = Math.min(MAX_PASSES, Math.ceil((steps * r.batchSize) / train.length));
  if (passes > 1) {
    // Each pass over the corpus gets its own FIM cuts and order: rows repeated verbatim pass after pass overfit.
    train = train.concat(packedRows(o.corpus, scan, 'train', encoder, r, { epochs: passes, start: firstPass.next }).rows);
    log(`data: ${passes} passes with fresh FIM cuts, ${train.length} rows`);
  }

  const loop = await TrainLoop.create(loopOptions(steps, join(work, 'checkpoint')));
  if (loop.step > 0) log(`resuming at step ${loop.step} of ${steps}`);
  const result = await loop.run({ signal: o.signal });
  if (result.stopped) {
    loop.checkpoint();
    await loop.close();
    log(`stopped at step ${result.step}; run the same command again to resume`);
    return {
      out: o.out,
      steps: result.step,
      stopped: true,
      trainTokens: 0,
      validationLoss: NaN,
      seconds: (performance.now() - started) / 1000,
    };
  }
  const validationLoss = await loop.evaluate();
  const values = loop.values;
  await loop.close();
  writeModelFolder(o.out, work, config, values, {
    recipe: r,
    steps,
    result,
    validationLoss,
    stats: scan.stats,
    trainRows: train.length,
    previous,
  });
  return {
    out: o.out,
    steps,
    stopped: false,
    trainTokens: steps * r.batchSize * r.seqLen,
    validationLoss,
    seconds: (performance.now() - started) / 1000,
  };
}

/** What the model continued from had been trained on (its training-log.json), for the lineage. */
function previousTraining(dir: string): TrainingRecord['previous'] {
  const file = join(dir, 'training-log.json');
  if (!existsSync(file)) return { from: dir, steps: 0, tokensSeen: 0 };
  const log = JSON.parse(readFileSync(file, 'utf8'));
  const earlierSteps: number[] = log.previous?.stepsPerStage ?? (log.previous ? [log.previous.steps] : []);
  return {
    from: dir,
    steps: (log.previous?.steps ?? 0) + log.steps,
    tokensSeen: log.tokensSeen,
    stages: [...(log.previous?.stages ?? []), log.recipe],
    stepsPerStage: [...earlierSteps, log.steps],
  };
}

interface TrainingRecord {
  /** Earlier training the weights went through (continued with --from). */
  previous?: { from: string; steps: number; tokensSeen: number; stages?: PretrainRecipe[]; stepsPerStage?: number[] };
  recipe: PretrainRecipe;
  steps: number;
  result: { losses: number[]; evalLosses: { step: number; loss: number }[] };
  validationLoss: number;
  stats: CorpusStats;
  trainRows: number;
}

/** Writes config, F16 weights, tokenizer, corpus statistics and the loss curve; the folder appears whole (rename). */
function writeModelFolder(
  out: string,
  work: string,
  config: ModelConfig,
  values: ReadonlyMap<string, Float32Array>,
  rec: TrainingRecord,
): void {
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  // A --fim-chunk stage teaches PSM even to a model grown (--from) out of one that preferred SPM.
  const raw = rec.recipe.fimChunkChars
    ? { ...config.raw, codefudge: { ...(config.raw.codefudge as object | undefined), fim_mode: 'psm' } }
    : config.raw;
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(raw, null, 2) + '\n');
  writeSafetensors(
    join(tmp, 'model.safetensors'),
    expectedTensors(config).map(({ name, shape }) => ({
      name,
      shape,
      dtype: 'F16' as const,
      data: values.get(name)!,
    })),
    { format: 'pt' },
  );
  writeTokenizer(tmp, readTokenizer(work));
  writeCorpusStats(tmp, rec.stats);
  writeFileSync(
    join(tmp, 'training-log.json'),
    JSON.stringify({
      recipe: rec.recipe,
      steps: rec.steps,
      trainRows: rec.trainRows,
      previous: rec.previous,
      tokensSeen: (rec.previous?.tokensSeen ?? 0) + rec.steps * rec.recipe.batchSize * rec.recipe.seqLen,
      finalValidationLoss: rec.validationLoss,
      losses: rec.result.losses,
      evalLosses: rec.result.evalLosses,
    }) + '\n',
  );
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
}
