import { readFileSync } from 'node:fs';
import { Completer, modelDirFor, UserError, messageOf } from '../../engine/index.js';
import { checkFlags, deviceFlag, flagInt, flagString, parseArgs } from '../args.js';
import type { Command } from '../command.js';
import { generationFlags, generationOptions } from './generation-flags.js';
import { backendFlags, remoteFromFlags, userErrors } from '../backend-flags.js';

/** Splits FILE:LINE:COL (1-based, as editors show positions) from the right, so paths may contain colons. */
function parsePosition(spec: string): { file: string; line: number; col: number } {
  const m = /^(.*):(\d+):(\d+)$/.exec(spec);
  if (!m) throw new UserError(`position "${spec}" must be FILE:LINE:COL`);
  return { file: m[1], line: Number(m[2]), col: Number(m[3]) };
}

/** The character offset of a 1-based line/column, or a UserError naming what is out of range. */
export function offsetOf(text: string, file: string, line: number, col: number): number {
  const lines = text.split('\n');
  if (line < 1 || line > lines.length) throw new UserError(`${file}: line ${line} is outside the file (1-${lines.length})`);
  const len = lines[line - 1].length;
  if (col < 1 || col > len + 1) throw new UserError(`${file}:${line}: column ${col} is outside the line (1-${len + 1})`);
  let offset = 0;
  for (let i = 0; i < line - 1; i++) offset += lines[i].length + 1;
  return offset + col - 1;
}

export const command: Command = {
  name: 'complete',
  summary: 'print the text a model would insert at FILE:LINE:COL (fill-in-the-middle)',
  usage: `usage: codefudge complete [--model DIR] [--adapter DIR] FILE:LINE:COL
  --max-tokens N      most tokens to generate (64)
  --stop line|block|none   where the middle ends (block)
  --device cpu|cuda   execution provider (cpu; cuda needs onnxruntime-node's CUDA build, see README)
${generationFlags.help}
${backendFlags.help}`,
  async run(argv) {
    const args = parseArgs(argv);
    checkFlags(args, ['model', 'adapter', 'max-tokens', 'stop', 'threads', 'device', ...generationFlags.names, ...backendFlags.names]);
    if (args.positionals.length !== 1) throw new UserError('complete takes exactly one FILE:LINE:COL');
    const { file, line, col } = parsePosition(args.positionals[0]);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read ${file}: ${messageOf(e)}`);
    }
    const at = offsetOf(text, file, line, col);
    const remote = await remoteFromFlags(args);
    if (remote && args.flags.has('adapter')) throw new UserError('--adapter loads an adapter here; with --backend name the server\'s adapter with --backend-adapter');
    const completer = remote ?? await Completer.load(await modelDirFor(flagString(args, 'model')), {
      threads: args.flags.has('threads') ? flagInt(args, 'threads', 0) : undefined,
      device: deviceFlag(args),
      adapter: flagString(args, 'adapter'),
    });
    const stop = flagString(args, 'stop', 'block');
    const result = await userErrors(() => completer.complete({
      prefix: text.slice(0, at),
      suffix: text.slice(at),
      maxNewTokens: flagInt(args, 'max-tokens', 64),
      stopStrings: stop === 'line' ? ['\n'] : stop === 'block' ? ['\n\n'] : [],
      stopOnLoop: true,
      ...generationOptions(args),
    }));
    await completer.release();
    process.stdout.write(result.text + (result.text.endsWith('\n') ? '' : '\n'));
  },
};
