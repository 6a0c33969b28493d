import { readFileSync } from 'node:fs';
import { CompletionService, DEFAULT_SETTINGS, localGenerator, textView, type Settings } from '../../server/index.js';
import { Completer, modelDirFor } from '../../engine/index.js';
import { UserError, messageOf } from '../../common/index.js';
import {
  deviceFlag,
  deviceOption,
  flagChoice,
  flagInt,
  parseFlags,
  QUANT_USAGE,
  quantFlag,
  quantOption,
  type OptionTable,
} from '../flags.js';
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

/** The language id the editor would give the file (it only changes bracket and comment rules). */
function languageOf(file: string): string {
  const ext = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase() ?? '';
  const ids: Record<string, string> = {
    py: 'python',
    js: 'javascript',
    mjs: 'javascript',
    ts: 'typescript',
    tsx: 'typescriptreact',
    jsx: 'javascriptreact',
    go: 'go',
    rs: 'rust',
    rb: 'ruby',
    sh: 'shellscript',
    lua: 'lua',
    c: 'c',
    h: 'c',
    cpp: 'cpp',
    java: 'java',
  };
  return ids[ext] ?? 'plaintext';
}

const OPTIONS = {
  model: { type: 'string' },
  adapter: { type: 'string' },
  'max-tokens': { type: 'string' },
  stop: { type: 'string' },
  threads: { type: 'string' },
  ...deviceOption,
  ...quantOption,
  ...generationFlags.options,
  ...backendFlags.options,
} satisfies OptionTable;

export const command: Command = {
  name: 'complete',
  usage: `usage: codefudge complete [--model DIR] [--adapter DIR] FILE:LINE:COL
  The same completion service as \`codefudge serve\` with its default settings: the same prompt
  window, stop and clean-up, so the text is what the editor would insert at that position (the
  editor also uses a workspace's .codefudge/adapter/ by itself; here pass it with --adapter).
  --model DIR         model folder or hub id (default: the embedded model)
  --adapter DIR       adapter folder (default: none)
  --max-tokens N      most tokens to generate (${DEFAULT_SETTINGS.maxTokens})
  --stop line|block|none   where the completion ends: the end of the line, or of the block (block);
                      none: the model's raw middle over the whole file, without the editor's clean-up
  --threads N         CPU threads (default: all cores)
  --device cpu|cuda   execution provider (cpu; cuda needs onnxruntime-node's CUDA build, see README)
${QUANT_USAGE}
${generationFlags.help}
${backendFlags.help}`,
  options: OPTIONS,
  async run(argv) {
    const { values, positionals } = parseFlags(argv, OPTIONS);
    if (positionals.length !== 1) throw new UserError('complete takes exactly one FILE:LINE:COL');
    const { file, line, col } = parsePosition(positionals[0]);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new UserError(`cannot read ${file}: ${messageOf(e)}`);
    }
    const offset = offsetOf(text, file, line, col);
    const stop = flagChoice(values, 'stop', ['line', 'block', 'none'], 'block');
    const remote = await remoteFromFlags(values);
    if (remote && values.adapter !== undefined)
      throw new UserError("--adapter loads an adapter here; with --backend name the server's adapter with --backend-adapter");
    const completer =
      remote ??
      (await Completer.load(await modelDirFor(values.model), {
        threads: flagInt(values, 'threads'),
        device: deviceFlag(values),
        quant: quantFlag(values),
        adapter: values.adapter,
      }));
    if (stop === 'none') {
      // The model alone (its own prompt cut, no end of line or block): for scripts and experiments.
      try {
        const result = await userErrors(() =>
          completer.complete({
            prefix: text.slice(0, offset),
            suffix: text.slice(offset),
            maxNewTokens: flagInt(values, 'max-tokens', DEFAULT_SETTINGS.maxTokens),
            stopOnLoop: true,
            ...generationOptions(values),
          }),
        );
        process.stdout.write(result.text + (result.text.endsWith('\n') ? '' : '\n'));
      } finally {
        await completer.release();
      }
      return;
    }
    const { temperature, ...decoding } = generationOptions(values);
    const settings: Settings = {
      ...DEFAULT_SETTINGS,
      maxTokens: flagInt(values, 'max-tokens', DEFAULT_SETTINGS.maxTokens),
      mode: stop === 'line' ? 'single-line' : 'multi-line',
      temperature: temperature ?? 0,
    };
    const service = new CompletionService({
      settings: () => settings,
      generator: async () => localGenerator(completer, (l) => process.stderr.write(`codefudge: ${l}\n`)),
    });
    try {
      const c = await userErrors(() =>
        service.complete({ view: textView(text), offset, line: line - 1, languageId: languageOf(file), decoding }),
      );
      const out = c?.text ?? '';
      process.stdout.write(out + (out.endsWith('\n') ? '' : '\n'));
    } finally {
      await completer.release();
    }
  },
};
