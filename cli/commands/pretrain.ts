import { parseDuration, pretrain } from '../../finetune/index.js';
import { UserError } from '../../common/index.js';
import { flagInt, flagNumber, parseFlags, type OptionTable } from '../flags.js';
import type { Command } from '../command.js';
import { trainingReporter } from '../training-reporter.js';

const OPTIONS = {
  corpus: { type: 'string' },
  out: { type: 'string' },
  from: { type: 'string' },
  time: { type: 'string' },
  steps: { type: 'string' },
  hidden: { type: 'string' },
  layers: { type: 'string' },
  heads: { type: 'string' },
  'kv-heads': { type: 'string' },
  ffn: { type: 'string' },
  vocab: { type: 'string' },
  seq: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  'eval-every': { type: 'string' },
  seed: { type: 'string' },
  'fim-chunk': { type: 'string' },
  'fim-line-rate': { type: 'string' },
} satisfies OptionTable;

/** The model and batch shape flags, and the recipe field each sets. */
const SHAPE = [
  ['hidden', 'hiddenSize'],
  ['layers', 'layers'],
  ['heads', 'heads'],
  ['kv-heads', 'kvHeads'],
  ['ffn', 'intermediateSize'],
  ['vocab', 'vocabSize'],
  ['seq', 'seqLen'],
  ['batch', 'batchSize'],
  ['seed', 'seed'],
  ['fim-chunk', 'fimChunkChars'],
] as const;

export const command: Command = {
  name: 'pretrain',
  usage: `usage: codefudge pretrain --corpus DIR --out DIR (--time 2h | --steps N) [options]
  --corpus DIR     folder of .py files (e.g. a Python installation's standard library)
  --out DIR        the model folder to write (work in progress: DIR.work/, resumable)
  --time D         training budget (90s, 20m, 2h): steps are picked from the measured step time
  --steps N        optimizer steps instead of a time budget
  --hidden N --layers N --heads N --kv-heads N --ffn N --vocab N --seq N --batch N   model and batch shape
  --from DIR       grow an existing model: continue from its weights, shape and tokenizer
  --lr X           peak learning rate (2e-3)
  --fim-chunk N    FIM-transform pieces of at most N characters, so short rows hold whole examples (0: whole files)
  --fim-line-rate X   share of FIM examples whose middle is whole lines, as on an editor's own line (0)
  --eval-every N   validation loss every N steps (200)
  --seed N         seeds the initial weights and the data order (0)
Ctrl-C stops with a checkpoint; the same command resumes.`,
  options: OPTIONS,
  async run(argv) {
    const { values } = parseFlags(argv, OPTIONS);
    const { corpus, out, time } = values;
    if (!corpus || !out) throw new UserError('pretrain needs --corpus DIR and --out DIR');
    const recipe: Record<string, number> = {};
    for (const [flag, field] of SHAPE) {
      const n = flagInt(values, flag);
      if (n !== undefined) recipe[field] = n;
    }
    const lr = flagNumber(values, 'lr');
    if (lr !== undefined) recipe.lr = lr;
    const fimLineRate = flagNumber(values, 'fim-line-rate');
    if (fimLineRate !== undefined) {
      if (!(fimLineRate >= 0 && fimLineRate <= 1)) throw new UserError(`--fim-line-rate must be in 0..1, got ${fimLineRate}`);
      recipe.fimLineRate = fimLineRate;
    }
    const reporter = trainingReporter('pretrain');
    const stop = new AbortController();
    const onSigint = () => {
      process.stderr.write('\nstopping at the end of this step (Ctrl-C again to abort)...\n');
      stop.abort();
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', onSigint);
    try {
      const r = await pretrain({
        corpus,
        out,
        recipe,
        from: values.from,
        steps: flagInt(values, 'steps'),
        timeSeconds: time ? parseDuration(time) : undefined,
        evalEvery: flagInt(values, 'eval-every', 200),
        signal: stop.signal,
        log: (l) => reporter.log(l),
        onProgress: (p) => reporter.progress(p),
      });
      reporter.finish();
      if (!r.stopped) {
        process.stdout.write(
          `model written to ${r.out}: ${r.steps} steps, ${(r.trainTokens / 1e6).toFixed(2)}M tokens, validation loss ${r.validationLoss.toFixed(4)}, ${(r.seconds / 60).toFixed(1)} min\n`,
        );
      }
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  },
};
