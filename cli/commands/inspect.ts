import { loadAdaptedCausalLM, loadCausalLM, modelDirFor } from '../../engine/index.js';
import { UserError } from '../../common/index.js';
import { loraGrads } from '../../finetune/index.js';
import { parseFlags, quantFlag, quantOption, type OptionTable } from '../flags.js';
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

const LOGITS = { model: { type: 'string' }, ids: { type: 'string' }, adapter: { type: 'string' }, ...quantOption } satisfies OptionTable;
const LORA_GRADS = { model: { type: 'string' }, ids: { type: 'string' }, adapter: { type: 'string' } } satisfies OptionTable;

async function logits(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, LOGITS);
  const dir = await modelDirFor(values.model);
  const adapter = values.adapter;
  const quant = quantFlag(values);
  const lm = adapter
    ? (await loadAdaptedCausalLM(dir, adapter, { logits: 'all', quant })).lm
    : await loadCausalLM(dir, { logits: 'all', quant });
  const ids = parseIds(values.ids, lm.config.vocabSize);
  const out = await lm.forward([ids], lm.emptyCache(1));
  const V = lm.config.vocabSize;
  const rows = ids.map((_, p) => Array.from(out.logits.subarray(p * V, (p + 1) * V)));
  process.stdout.write(JSON.stringify(rows) + '\n');
  await lm.release();
}

async function loraGradsCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, LORA_GRADS);
  const dir = await modelDirFor(values.model);
  const adapter = values.adapter;
  if (!adapter) throw new UserError('inspect lora-grads needs --adapter DIR');
  const ids = (values.ids ?? '').split(',').map(Number);
  if (ids.length < 2 || ids.some((i) => !Number.isInteger(i) || i < 0))
    throw new UserError('--ids must be at least two token ids, e.g. --ids 1,2,3');
  const r = await loraGrads(dir, adapter, ids);
  process.stdout.write(JSON.stringify(r) + '\n');
}

export const command: Command = {
  name: 'inspect',
  usage: `usage: codefudge inspect logits --model DIR --ids 1,2,3 [--adapter DIR] [--quant int4|int8|none]
  prints [[...vocab logits...] per position] (the model's default width: int4 from 250M parameters)
       codefudge inspect lora-grads --model DIR --adapter DIR --ids 1,2,3,...
  prints {"loss": ..., "grads": {"<PEFT key>": [[...]], ...}} for next-token cross-entropy (mean over positions 1..n-1)`,
  options: { ...LOGITS, ...LORA_GRADS },
  async run(argv) {
    const [what, ...rest] = argv;
    if (what === 'logits') return logits(rest);
    if (what === 'lora-grads') return loraGradsCommand(rest);
    throw new UserError(`inspect: unknown subject "${what ?? ''}" (logits, lora-grads)`);
  },
};
