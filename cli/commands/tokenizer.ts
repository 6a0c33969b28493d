import { UserError } from '../../common/index.js';
import { trainTokenizerFromCorpus } from '../../finetune/pretrain/index.js';
import { flagInt, flagNumber, parseFlags, type OptionTable } from '../flags.js';
import type { Command } from '../command.js';

const usage = `usage: codefudge tokenizer train --corpus DIR --out DIR [options]

Trains codefudge's byte-level BPE tokenizer on the .py files under DIR (filtered, deduplicated,
split into train/validation) and writes tokenizer.json, tokenizer_config.json and
corpus-stats.json into the output folder.

options:
  --corpus DIR            folder of Python sources (e.g. the Python standard library)
  --out DIR               output folder (created if needed)
  --vocab N               vocabulary size, special tokens and 256 bytes included (default 8192)
  --max-bytes N           train BPE on at most N bytes of the training split (a fixed sample)
  --min-frequency N       never merge a pair seen fewer than N times (default 2)
  --validation-fraction F share of files held out for validation (default 0.02)`;

const TRAIN = {
  corpus: { type: 'string' },
  out: { type: 'string' },
  vocab: { type: 'string' },
  'max-bytes': { type: 'string' },
  'min-frequency': { type: 'string' },
  'validation-fraction': { type: 'string' },
} satisfies OptionTable;

export const command: Command = {
  name: 'tokenizer',
  usage,
  options: TRAIN,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'train')
      throw new UserError(
        sub ? `unknown tokenizer subcommand "${sub}" (try: train)` : 'missing subcommand (try: codefudge tokenizer train --help)',
      );
    const { values, positionals } = parseFlags(rest, TRAIN);
    if (positionals.length) throw new UserError(`unexpected argument "${positionals[0]}"`);
    const { corpus, out } = values;
    if (!corpus) throw new UserError('--corpus DIR is required');
    if (!out) throw new UserError('--out DIR is required');
    const maxBytes = flagInt(values, 'max-bytes');
    if (maxBytes !== undefined && maxBytes <= 0) throw new UserError('--max-bytes must be a positive integer');
    const minFrequency = flagInt(values, 'min-frequency', 2);
    if (minFrequency < 1) throw new UserError('--min-frequency must be at least 1');
    trainTokenizerFromCorpus({
      corpus,
      out,
      vocabSize: flagInt(values, 'vocab', 8192),
      maxBytes,
      minFrequency,
      corpusOptions: { validationFraction: flagNumber(values, 'validation-fraction', 0.02) },
      log: (line) => process.stderr.write(line + '\n'),
    });
  },
};
