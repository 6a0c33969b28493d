import { readPairsFile, ScoreAccumulator } from '../../eval/index.js';
import { UserError } from '../../common/index.js';
import { parseFlags } from '../flags.js';
import type { Command } from '../command.js';

export const command: Command = {
  name: 'score',
  usage: [
    'usage: codefudge score PAIRS.jsonl',
    '',
    'PAIRS.jsonl holds one {"hyp": "...", "ref": "..."} object per line.',
    'Prints one JSON line per pair on stdout with exact_match, exact_match_first_line,',
    'chrf, bleu (sacrebleu definitions, 0-100), wer, iou and edit_sim, and one corpus',
    'summary line on stderr (chrF, BLEU and WER pool statistics; the rest are means).',
  ].join('\n'),
  options: {},
  async run(argv) {
    const { positionals } = parseFlags(argv, {});
    if (positionals.length !== 1) throw new UserError('score needs exactly one PAIRS.jsonl file (see codefudge score --help)');
    const pairs = readPairsFile(positionals[0]);
    const scores = new ScoreAccumulator();
    for (const { hyp, ref } of pairs) process.stdout.write(JSON.stringify(scores.add(hyp, ref)) + '\n');
    process.stderr.write(`corpus ${JSON.stringify(scores.summary())}\n`);
  },
};
