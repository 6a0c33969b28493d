import { loadCausalLM, modelDirFor, UserError } from '../../engine/index.js';
import { checkFlags, flagString, parseArgs } from '../args.js';
import type { Command } from '../command.js';

export function parseIds(spec: string | undefined, vocabSize: number): number[] {
  if (!spec) throw new UserError('--ids is required, e.g. --ids 1,2,3');
  const ids = spec.split(',').map((s) => Number(s.trim()));
  ids.forEach((id, i) => {
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw new UserError(`--ids: item ${i + 1} ("${spec.split(',')[i]}") is not a token id in [0, ${vocabSize})`);
    }
  });
  return ids;
}

async function logits(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  checkFlags(args, ['model', 'ids', 'adapter']);
  const dir = await modelDirFor(flagString(args, 'model'));
  const lm = await loadCausalLM(dir, { logits: 'all' });
  const ids = parseIds(flagString(args, 'ids'), lm.config.vocabSize);
  const out = await lm.forward([ids], lm.emptyCache(1));
  const V = lm.config.vocabSize;
  const rows = ids.map((_, p) => Array.from(out.logits.subarray(p * V, (p + 1) * V)));
  process.stdout.write(JSON.stringify(rows) + '\n');
  await lm.release();
}

export const command: Command = {
  name: 'inspect',
  summary: 'print model internals as JSON (logits, LoRA gradients) for checking against other frameworks',
  usage: `usage: codefudge inspect logits --model DIR --ids 1,2,3 [--adapter DIR]
  prints [[...vocab logits...] per position]`,
  async run(argv) {
    const [what, ...rest] = argv;
    if (what === 'logits') return logits(rest);
    throw new UserError(`inspect: unknown subject "${what ?? ''}" (logits)`);
  },
};
