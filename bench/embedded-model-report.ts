// The embedded model's report card: validation loss beside a bigram model over the same tokens,
// fim-eval on held-out Python files beside "repeat the previous line", and how often 64-token
// generations end in a loop, with and without a repetition penalty. Written into the model card.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { generate, loadCausalLM, loadTokenizer, loopShare, openModelFolder, TrainingSession } from '../engine/index.js';
import { writeTextAtomic } from '../common/index.js';
import { aggregateScores, evaluateFolder, HiddenStateJudge, scoreMiddle, type FimEvalReport, type MetricValues } from '../eval/index.js';
import {
  bigramBaseline,
  BpeEncoder,
  corpusSource,
  DEFAULT_RECIPE,
  pretrainRows,
  recipeRowOptions,
  readTokenizer,
  scanCorpus,
  selectFiles,
  type PretrainRecipe,
} from '../finetune/index.js';

export interface ModelReportOptions {
  model: string;
  corpus: string;
  tasksPerSet: number;
  generations: number;
  log: (line: string) => void;
}

export interface ModelReport {
  /** Over every validation row (FIM rows included), the same tokens the bigram is scored on. */
  validationLoss: number;
  validationRows: number;
  bigram: { loss: number; lambda: number };
  fim: { model: Record<string, MetricValues>; repeatPreviousLine: Record<string, MetricValues>; tasks: number; files: number };
  loops: { withoutPenalty: number; withPenalty: number; penalty: number; generations: number };
  samples: { prompt: string; completion: string }[];
}

interface TrainingLog {
  previous?: { steps: number; tokensSeen: number; stages?: PretrainRecipe[]; stepsPerStage?: number[] };
  recipe: PretrainRecipe;
  steps: number;
  tokensSeen: number;
  finalValidationLoss: number;
  losses: number[];
  evalLosses: { step: number; loss: number }[];
}

/** Mean next-token cross-entropy of the model over `rows` (nats/token), in batches of 8. */
async function modelLoss(model: string, rows: readonly Int32Array[]): Promise<number> {
  const folder = openModelFolder(model);
  const session = await TrainingSession.open({
    config: folder.config,
    weights: folder.weights,
    weightsKey: folder.weights.fingerprint(),
    gradients: false,
  });
  let sum = 0;
  let count = 0;
  for (let i = 0; i < rows.length; i += 8) {
    const ids = rows.slice(i, i + 8).map((r) => Array.from(r));
    const out = await session.run({ ids, labels: ids }, new Map());
    sum += out.lossSum;
    count += out.count;
  }
  await session.release();
  return sum / count;
}

/** The line above the middle's line: the "repeat the previous line" guess. */
function previousLine(before: string): string {
  const lines = before.split('\n');
  return lines.length >= 2 ? lines[lines.length - 2] : '';
}

function bySet(report: FimEvalReport, score: (t: FimEvalReport['tasks'][number]) => ReturnType<typeof scoreMiddle>) {
  const out: Record<string, ReturnType<typeof scoreMiddle>[]> = {};
  for (const t of report.tasks) (out[t.set] ??= []).push(score(t));
  out.all = Object.values(out).flat();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, aggregateScores(v)]));
}

export async function embeddedModelReport(o: ModelReportOptions): Promise<ModelReport> {
  const log: TrainingLog = JSON.parse(readFileSync(join(o.model, 'training-log.json'), 'utf8'));
  const r = { ...DEFAULT_RECIPE, ...log.recipe };
  const scan = scanCorpus(o.corpus, { validationFraction: r.validationFraction });
  const encoder = new BpeEncoder(readTokenizer(o.model));
  const rows = (split: 'train' | 'validation') =>
    [
      ...pretrainRows(corpusSource(o.corpus, selectFiles(scan.files, { split })), encoder, {
        ...recipeRowOptions(r),
        shuffle: false,
        epochs: 1,
      }),
    ].map((x) => x.row);
  o.log('bigram baseline over the training rows ...');
  const validationRows = rows('validation');
  const bigram = bigramBaseline(rows('train'), validationRows, encoder.vocabSize);
  o.log(`model loss over the ${validationRows.length} validation rows ...`);
  const validationLoss = await modelLoss(o.model, validationRows);

  const heldout = mkdtempSync(join(tmpdir(), 'cf-heldout-'));
  const valFiles = selectFiles(scan.files, { split: 'validation' });
  for (const f of valFiles) {
    mkdirSync(dirname(join(heldout, f.path)), { recursive: true });
    cpSync(join(o.corpus, f.path), join(heldout, f.path));
  }
  o.log(`fim-eval on ${valFiles.length} held-out files ...`);
  const report = await evaluateFolder({
    dir: heldout,
    modelDir: o.model,
    sets: ['function-line', 'single-line', 'multi-line', 'random-span'],
    limit: o.tasksPerSet,
    seed: 0,
  });
  const judge = await HiddenStateJudge.load(o.model);
  const baselineScores = new Map<string, ReturnType<typeof scoreMiddle>>();
  for (const t of report.tasks) {
    const guess = previousLine(t.context.before);
    baselineScores.set(t.id, scoreMiddle(guess, t.expected, await judge.similarity(guess, t.expected)));
  }
  await judge.release();
  rmSync(heldout, { recursive: true, force: true });

  o.log('generations for the loop count ...');
  const tok = await loadTokenizer(o.model);
  const lm = await loadCausalLM(o.model, { logits: 'last' });
  const prompts = validationRows.slice(0, o.generations).map((row) => Array.from(row.slice(0, 64)));
  const penalty = 1.2;
  const plain: number[][] = [];
  const penalised: number[][] = [];
  const samples: { prompt: string; completion: string }[] = [];
  for (const p of prompts) {
    const a = await generate(lm, tok, p, { maxNewTokens: 64 });
    const b = await generate(lm, tok, p, { maxNewTokens: 64, repetitionPenalty: penalty });
    plain.push(a.ids);
    penalised.push(b.ids);
    if (samples.length < 3) samples.push({ prompt: tok.decode(p), completion: b.text });
  }
  await lm.release();
  return {
    validationLoss,
    validationRows: validationRows.length,
    bigram,
    fim: {
      model: bySet(report, (t) => scoreMiddle(t.base.text, t.expected, t.base.scores.cosine)),
      repeatPreviousLine: bySet(report, (t) => baselineScores.get(t.id)!),
      tasks: report.tasks.length,
      files: valFiles.length,
    },
    loops: { withoutPenalty: loopShare(plain), withPenalty: loopShare(penalised), penalty, generations: prompts.length },
    samples,
  };
}

const fmt = (v: number, d = 3) => v.toFixed(d);

export function fimTable(rep: ModelReport): string {
  const head = '| task set | predictor | EM | EM (1st line) | chrF | BLEU | WER | IoU | edit sim | cosine |';
  const rows = Object.keys(rep.fim.model).flatMap((set) =>
    (
      [
        ['model', rep.fim.model[set]],
        ['repeat previous line', rep.fim.repeatPreviousLine[set]],
      ] as const
    ).map(
      ([name, m]) =>
        `| ${set} | ${name} | ${fmt(m.exact_match)} | ${fmt(m.exact_match_first_line)} | ${fmt(m.chrf, 1)} | ${fmt(m.bleu, 1)} | ${fmt(m.wer)} | ${fmt(m.iou)} | ${fmt(m.edit_sim)} | ${fmt(m.cosine)} |`,
    ),
  );
  return [head, '|' + ' --- |'.repeat(10), ...rows].join('\n');
}

/** The commands that rebuild the model: one pretrain per stage (later stages grow the previous with --from). */
function reproduce(log: TrainingLog): string {
  const stages = [...(log.previous?.stages ?? []), log.recipe];
  const steps = [...(log.previous?.stepsPerStage ?? (log.previous ? [log.previous.steps] : [])), log.steps];
  return stages
    .map((s, i) => {
      const from = i === 0 ? '' : ` --from stage${i}`;
      const chunk = (s.fimChunkChars ? ` --fim-chunk ${s.fimChunkChars}` : '') + (s.fimLineRate ? ` --fim-line-rate ${s.fimLineRate}` : '');
      return `    codefudge pretrain --corpus PYTHON_STDLIB --out ${i === stages.length - 1 ? 'codefudge-py-small' : `stage${i + 1}`}${from} --steps ${steps[i]} --lr ${s.lr} --seed ${s.seed}${chunk}`;
    })
    .join('\n');
}

/** The model card: recipe, data, loss curve, baselines, samples. */
export function modelCard(model: string, rep: ModelReport): string {
  const log: TrainingLog = JSON.parse(readFileSync(join(model, 'training-log.json'), 'utf8'));
  const stats = JSON.parse(readFileSync(join(model, 'corpus-stats.json'), 'utf8'));
  const curve = log.evalLosses.map((e) => `| ${e.step} | ${fmt(e.loss)} |`).join('\n');
  const r = log.recipe;
  return `# codefudge-py-small

The embedded default model of codefudge: a ${r.layers}-layer Llama-architecture Python code model
(hidden ${r.hiddenSize}, ${r.heads} heads / ${r.kvHeads} KV heads, SwiGLU ${r.intermediateSize}, tied embeddings,
${r.vocabSize}-token byte-level BPE), trained from scratch by \`codefudge pretrain\` on one 2-core CPU.
It knows fill-in-the-middle with StarCoder-style tokens (\`<fim_prefix>\`, \`<fim_suffix>\`, \`<fim_middle>\`).

## Reproduce
With the Python 3.11 standard library (\`lib/python3.11\` without \`site-packages\`) as the corpus:

${reproduce(log)}

## Recipe
\`\`\`json
${JSON.stringify(r, null, 2)}
\`\`\`
${log.previous ? `${log.previous.steps} + ` : ''}${log.steps} steps of ${r.batchSize}×${r.seqLen} tokens (${(log.tokensSeen / 1e6).toFixed(2)}M tokens in all), AdamW (β 0.9/0.999,
weight decay ${r.weightDecay}, not on norms), warm-up then cosine to ${r.minLrRatio}× the peak learning rate ${r.lr},
gradient norm clipped at 1. FIM rate ${r.fimRate} (PSM and SPM half each), ${r.fimLineRate ? `${r.fimLineRate * 100}% of the spans whole lines, the rest cut at characters` : 'character-level spans'}; documents packed
into fixed rows separated by \`<|endoftext|>\`.

## Data
${stats.filesKept} Python files kept (${(stats.bytesKept / 1e6).toFixed(1)} MB) of ${stats.filesSeen} seen; see \`corpus-stats.json\` for the filters, the reasons files were dropped and the train/validation split.

## Results
Validation loss (nats/token over all ${rep.validationRows} rows of ${r.seqLen} tokens from the held-out files, FIM rows
included): **${fmt(rep.validationLoss)}**; a bigram model counted over the same training tokens, scored on the same
rows: ${fmt(rep.bigram.loss)} (interpolation λ=${rep.bigram.lambda}, the best of a grid on these rows).

fim-eval on ${rep.fim.files} held-out Python files (${rep.fim.tasks} tasks, greedy; as in \`serve\`, a completion that
loops ends at the first copy of its cycle):

${fimTable(rep)}

Generations of 64 tokens from ${rep.loops.generations} held-out prompts that end in a repeated n-gram cycle
(period ≤ 16, ≥ 3 repeats; no loop stop here): ${fmt(100 * rep.loops.withoutPenalty, 1)}% greedy, ${fmt(100 * rep.loops.withPenalty, 1)}% with repetition penalty ${rep.loops.penalty}.

## Validation loss during training${log.previous ? ' (last stage)' : ''}
| step | loss |
| --- | --- |
${curve}

## Samples (repetition penalty ${rep.loops.penalty})
${rep.samples.map((s) => `\`\`\`python\n${s.prompt}⟨generated⟩${s.completion}\n\`\`\``).join('\n\n')}

## License
Weights and tokenizer: MIT, like codefudge. Training data: the Python standard library (PSF license).
`;
}

export function writeModelCard(model: string, rep: ModelReport): void {
  writeTextAtomic(join(model, 'README.md'), modelCard(model, rep));
  writeTextAtomic(join(model, 'report.json'), JSON.stringify(rep, null, 2) + '\n');
}
