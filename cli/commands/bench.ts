import { spawnSync } from 'node:child_process';
import { modelDirFor, UserError } from '../../engine/index.js';
import { benchLora } from '../../finetune/index.js';
import { benchHistory } from '../../bench/history.js';
import { benchInfer } from '../../bench/infer.js';
import { benchTypingSession, formatTypingResults, type TypingBenchOptions } from '../../bench/typing-session.js';
import { embeddedModelReport, fimTable, writeModelCard } from '../../bench/embedded-model-report.js';
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

/** The same LoRA step in PyTorch (Debian's python3-torch), run beside ours so the ratio is taken under one machine state. */
function torchBaseline(model: string, o: { batch: number; seq: number; rank: number; steps: number; threads: number }) {
  const script = new URL('../../../bench/lora_torch.py', import.meta.url).pathname;
  // This machine pins OpenBLAS to an old kernel through OPENBLAS_CORETYPE/L2_SIZE; the baseline runs
  // without them so PyTorch gets the BLAS kernel it would pick itself.
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync('/usr/bin/python3', [script, model, '--batch', `${o.batch}`, '--seq', `${o.seq}`, '--rank', `${o.rank}`, '--steps', `${o.steps}`, '--threads', `${o.threads}`], { encoding: 'utf8', env });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'failed').trim().split('\n').pop() };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { tokensPerSecond: number; peakRssBytes: number };
}

async function lora(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['no-baseline']);
  checkFlags(args, ['model', 'batch', 'seq', 'rank', 'steps', 'threads', 'no-baseline']);
  const model = await modelDirFor(flagString(args, 'model'));
  const o = { batch: flagInt(args, 'batch', 4), seq: flagInt(args, 'seq', 256), rank: flagInt(args, 'rank', 8), steps: flagInt(args, 'steps', 5), threads: flagInt(args, 'threads', 2) };
  const ours = await benchLora({ model, ...o });
  const mb = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB`;
  const lines = [
    `codefudge LoRA: ${ours.tokensPerSecond.toFixed(0)} tokens/s (${ours.secondsPerStep.toFixed(3)} s/step, batch ${o.batch}x${o.seq}, rank ${o.rank}, ${ours.trainableParameters} trainable parameters)`,
    `peak RSS: ${mb(ours.peakRssBytes)}; RSS after each step: ${ours.rssPerStep.map(mb).join(', ')}`,
  ];
  if (!args.flags.has('no-baseline')) {
    const torch = torchBaseline(model, o);
    if ('error' in torch) lines.push(`PyTorch baseline unavailable: ${torch.error}`);
    else lines.push(`PyTorch LoRA:   ${torch.tokensPerSecond.toFixed(0)} tokens/s (peak RSS ${mb(torch.peakRssBytes)})`, `ratio: ${(ours.tokensPerSecond / torch.tokensPerSecond).toFixed(2)}x PyTorch`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

async function modelReport(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['write-card']);
  checkFlags(args, ['model', 'corpus', 'tasks', 'generations', 'write-card']);
  const corpus = flagString(args, 'corpus');
  if (!corpus) throw new UserError('bench model-report needs --corpus DIR (the corpus the model was pretrained on)');
  const model = await modelDirFor(flagString(args, 'model'));
  const rep = await embeddedModelReport({
    model, corpus, tasksPerSet: flagInt(args, 'tasks', 50), generations: flagInt(args, 'generations', 40),
    log: (l) => process.stderr.write(l + '\n'),
  });
  if (args.flags.has('write-card')) writeModelCard(model, rep);
  process.stdout.write([
    `validation loss: ${rep.validationLoss.toFixed(4)} nats/token; bigram baseline: ${rep.bigram.loss.toFixed(4)}`,
    fimTable(rep),
    `generations ending in a loop: ${(100 * rep.loops.withoutPenalty).toFixed(1)}% greedy, ${(100 * rep.loops.withPenalty).toFixed(1)}% with repetition penalty ${rep.loops.penalty} (${rep.loops.generations} generations of 64 tokens)`,
  ].join('\n') + '\n');
}

async function typing(argv: string[]): Promise<void> {
  const args = parseArgs(argv, ['spm', 'json']);
  checkFlags(args, ['model', 'edits', 'max-tokens', 'threads', 'mode', 'max-prefix-tokens', 'max-suffix-tokens', 'spm', 'json']);
  const mode = flagString(args, 'mode', 'single-line');
  if (mode !== 'single-line' && mode !== 'multi-line') throw new UserError(`--mode must be single-line or multi-line, got "${mode}"`);
  const optional = (name: string) => (args.flags.has(name) ? flagInt(args, name, 0) : undefined);
  const o: TypingBenchOptions = {
    model: await modelDirFor(flagString(args, 'model')),
    edits: flagInt(args, 'edits', 200),
    maxTokens: flagInt(args, 'max-tokens', 8),
    threads: optional('threads'),
    mode,
    spm: args.flags.has('spm'),
    maxPrefixTokens: optional('max-prefix-tokens'),
    maxSuffixTokens: optional('max-suffix-tokens'),
    log: (l) => process.stderr.write(l + '\n'),
  };
  const results = await benchTypingSession(o);
  process.stdout.write((args.flags.has('json') ? JSON.stringify({ options: { ...o, log: undefined }, results }, null, 2) : formatTypingResults(o.model, o, results)) + '\n');
}

async function history(argv: string[]): Promise<void> {
  const args = parseArgs(argv);
  checkFlags(args, ['limit']);
  if (args.positionals.length !== 1) throw new UserError('bench history takes exactly one repository path');
  const limit = args.flags.has('limit') ? flagInt(args, 'limit', 0) : undefined;
  if (limit !== undefined && limit < 1) throw new UserError('--limit must be a positive number of commits');
  const r = await benchHistory(args.positionals[0], { limit, log: (l) => process.stderr.write(l + '\n') });
  const rate = (s: number) => `${(r.commits / s).toFixed(0)} commits/s`;
  process.stdout.write([
    `git log -p --first-parent --numstat: ${r.commits} commits in ${r.gitSeconds.toFixed(2)} s (${rate(r.gitSeconds)}, ${(r.gitBytes / 1e6).toFixed(1)} MB of output)`,
    `codefudge history read:              ${r.commits} commits in ${r.oursSeconds.toFixed(2)} s (${rate(r.oursSeconds)}; ${r.filesKept} code file changes read with contents, ${r.filesSkipped} skipped${r.unreadableBlobs ? `, ${r.unreadableBlobs} blobs unreadable` : ''})`,
    `ratio: ${r.ratio.toFixed(2)}x git log -p (goal: at most 3x)`,
  ].join('\n') + '\n');
}

export const command: Command = {
  name: 'bench',
  summary: 'measure inference speed (bench infer), LoRA training speed (bench lora) or history reading (bench history)',
  usage: `usage: codefudge bench infer --model DIR [--prompt 256] [--decode 32] [--threads N]
       codefudge bench lora --model DIR [--batch 4] [--seq 256] [--rank 8] [--steps 5] [--threads 2] [--no-baseline]
         (beside the same step in PyTorch: /usr/bin/python3 with Debian's python3-torch)
       codefudge bench model-report --model DIR --corpus DIR [--tasks 50] [--generations 40] [--write-card]
         (validation loss vs a bigram model, fim-eval vs repeat-the-previous-line, loop share)
       codefudge bench typing --model DIR [--edits 200] [--max-tokens 8] [--mode single-line|multi-line] [--spm] [--json]
         (a scripted typing session through the LSP server: p50/p95 latency with and without prefix-cache reuse)
       codefudge bench history REPO [--limit N]
         (reading the first-parent history, contents and diffs, beside git log -p --first-parent --numstat; the ratio)`,
  async run(argv) {
    const [what, ...rest] = argv;
    if (what === 'infer') return infer(rest);
    if (what === 'lora') return lora(rest);
    if (what === 'model-report') return modelReport(rest);
    if (what === 'typing') return typing(rest);
    if (what === 'history') return history(rest);
    throw new UserError(`bench: unknown benchmark "${what ?? ''}" (infer, lora, model-report, typing, history)`);
  },
};
