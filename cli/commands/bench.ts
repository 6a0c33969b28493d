import { modelDirFor, UserError } from '../../engine/index.js';
import { benchInfer } from '../../bench/infer.js';
import { checkFlags, flagInt, flagString, parseArgs } from '../args.js';
import type { Command } from '../command.js';

async function infer(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  checkFlags(args, ['model', 'prompt', 'decode', 'threads']);
  const r = await benchInfer({
    model: await modelDirFor(flagString(args, 'model')),
    promptTokens: flagInt(args, 'prompt', 256),
    decodeTokens: flagInt(args, 'decode', 32),
    threads: args.flags.has('threads') ? flagInt(args, 'threads', 1) : undefined,
    log: (l) => process.stderr.write(l + '\n'),
  });
  const gb = (x: number) => (x / 1e9).toFixed(2);
  process.stdout.write(
    [
      `prefill: ${r.prefillTokensPerSecond.toFixed(1)} tokens/s`,
      `decode:  ${r.decodeTokensPerSecond.toFixed(2)} tokens/s`,
      `memory read bandwidth: ${gb(r.readBandwidthBytesPerSecond)} GB/s (measured); weights streamed per token: ${gb(r.weightBytes)} GB`,
      `decode bound: ${r.decodeBoundTokensPerSecond.toFixed(2)} tokens/s; decode reaches ${(100 * r.decodeShareOfBound).toFixed(0)}% of it`,
    ].join('\n') + '\n',
  );
}

export const command: Command = {
  name: 'bench',
  summary: 'measure inference speed (bench infer) or LoRA training speed (bench lora)',
  usage: `usage: codefudge bench infer --model DIR [--prompt 256] [--decode 32] [--threads N]`,
  async run(argv) {
    const [what, ...rest] = argv;
    if (what === 'infer') return infer(rest);
    throw new UserError(`bench: unknown benchmark "${what ?? ''}" (infer)`);
  },
};
