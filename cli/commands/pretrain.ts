import { parseDuration, pretrain } from '../../finetune/index.js';
import { UserError } from '../../common/index.js';
import { checkFlags, flagInt, flagNumber, flagString, parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { trainingReporter } from '../training-reporter.js';

export const command: Command = {
  name: 'pretrain',
  summary: 'train a small code model from scratch (the recipe of the embedded model)',
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
Ctrl-C stops with a checkpoint; the same command resumes.`,
  async run(argv) {
    const args = parseArgs(argv);
    checkFlags(args, [
      'corpus',
      'out',
      'from',
      'time',
      'steps',
      'hidden',
      'layers',
      'heads',
      'kv-heads',
      'ffn',
      'vocab',
      'seq',
      'batch',
      'lr',
      'eval-every',
      'seed',
      'fim-chunk',
      'fim-line-rate',
    ]);
    const corpus = flagString(args, 'corpus');
    const out = flagString(args, 'out');
    if (!corpus || !out) throw new UserError('pretrain needs --corpus DIR and --out DIR');
    const time = flagString(args, 'time');
    const recipe: Record<string, number> = {};
    const shape: [string, string][] = [
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
    ];
    for (const [flag, field] of shape) if (args.flags.has(flag)) recipe[field] = flagInt(args, flag, 0);
    if (args.flags.has('lr')) recipe.lr = flagNumber(args, 'lr', 0);
    if (args.flags.has('fim-line-rate')) {
      recipe.fimLineRate = flagNumber(args, 'fim-line-rate', 0);
      if (!(recipe.fimLineRate >= 0 && recipe.fimLineRate <= 1))
        throw new UserError(`--fim-line-rate must be in 0..1, got ${recipe.fimLineRate}`);
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
        from: flagString(args, 'from'),
        steps: args.flags.has('steps') ? flagInt(args, 'steps', 1) : undefined,
        timeSeconds: time ? parseDuration(time) : undefined,
        evalEvery: flagInt(args, 'eval-every', 200),
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
