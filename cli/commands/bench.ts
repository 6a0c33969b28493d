import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { UserError, Rng, packageRoot } from '../../common/index.js';
import { modelDirFor, openModelFolder, embeddedModelDir } from '../../engine/index.js';
import { benchAgainstLlamaCpp, formatAgainst, ggufQuantFor } from '../../bench/against-llama-cpp.js';
import { benchLora } from '../../bench/lora.js';
import { benchHistory } from '../../bench/history.js';
import { benchInfer } from '../../bench/infer.js';
import { benchTypingSession, formatTypingResults, type TypingBenchOptions } from '../../bench/typing-session.js';
import { embeddedModelReport, fimTable, writeModelCard } from '../../bench/embedded-model-report.js';
import { formatQuantAccuracy, quantAccuracy } from '../../bench/quant-accuracy.js';
import { RANDOM_MODEL_SHAPES, writeRandomModelWithTokenizer } from '../../bench/random-model.js';
import { flagChoice, flagInt, parseFlags, quantFlag, quantOption, type FlagValues, type OptionTable } from '../flags.js';
import { benchHttp, formatHttpBench, type HttpBenchOptions } from '../../bench/http-serve.js';
import type { Command } from '../command.js';

const INFER = {
  model: { type: 'string' },
  prompt: { type: 'string' },
  decode: { type: 'string' },
  threads: { type: 'string' },
  against: { type: 'string' },
  ...quantOption,
} satisfies OptionTable;

async function infer(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, INFER);
  const against = flagChoice(values, 'against', ['llama.cpp']) !== undefined;
  const model = await modelDirFor(values.model);
  // Side by side, both engines get the same thread count: 2 unless --threads says otherwise.
  const threads = flagInt(values, 'threads') ?? (against ? 2 : undefined);
  const r = await benchInfer({
    model,
    quant: quantFlag(values),
    promptTokens: flagInt(values, 'prompt', 256),
    decodeTokens: flagInt(values, 'decode', 32),
    threads,
    log: (l) => process.stderr.write(l + '\n'),
  });
  const gb = (x: number) => (x / 1e9).toFixed(2);
  process.stdout.write(
    [
      `prefill: ${r.prefillTokensPerSecond.toFixed(1)} tokens/s`,
      `decode:  ${r.decodeTokensPerSecond.toFixed(2)} tokens/s`,
      `memory read bandwidth: ${gb(r.readBandwidthBytesPerSecond)} GB/s (measured); weights streamed per token: ${gb(r.weightBytes)} GB (${r.quant === 'none' ? 'float32' : r.quant})`,
      `decode bound: ${r.decodeBoundTokensPerSecond.toFixed(2)} tokens/s; decode reaches ${(100 * r.decodeShareOfBound).toFixed(0)}% of it`,
    ].join('\n') + '\n',
  );
  if (against) await inferAgainstLlamaCpp(values, model, r, threads ?? 2);
}

/** Below our lines: llama.cpp's on the same weights as GGUF, the ratios, and the greedy agreement. */
async function inferAgainstLlamaCpp(
  values: FlagValues<typeof INFER>,
  model: string,
  ours: Awaited<ReturnType<typeof benchInfer>>,
  threads: number,
): Promise<void> {
  const promptTokens = flagInt(values, 'prompt', 256);
  // The same prompt benchInfer drew (its Rng(1), first promptTokens draws).
  const rng = new Rng(1);
  const vocab = openModelFolder(model);
  const prompt = Array.from({ length: promptTokens }, () => rng.int(vocab.config.vocabSize));
  vocab.weights.close();
  const r = await benchAgainstLlamaCpp({
    model,
    quant: ggufQuantFor(ours.quant),
    prompt,
    decodeTokens: flagInt(values, 'decode', 32),
    threads,
    log: (l) => process.stderr.write(l + '\n'),
  });
  if ('missing' in r) throw new UserError(`--against llama.cpp: ${r.missing}`);
  process.stdout.write(formatAgainst(r, ours, threads).join('\n') + '\n');
}

/** The same LoRA step in PyTorch (Debian's python3-torch), run beside ours so the ratio is taken under one machine state. */
function torchBaseline(model: string, o: { batch: number; seq: number; rank: number; steps: number; threads: number }) {
  const script = join(packageRoot(), 'bench', 'lora_torch.py');
  // This machine pins OpenBLAS to an old kernel through OPENBLAS_CORETYPE/L2_SIZE; the baseline runs
  // without them so PyTorch gets the BLAS kernel it would pick itself.
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(
    '/usr/bin/python3',
    [
      script,
      model,
      '--batch',
      `${o.batch}`,
      '--seq',
      `${o.seq}`,
      '--rank',
      `${o.rank}`,
      '--steps',
      `${o.steps}`,
      '--threads',
      `${o.threads}`,
    ],
    { encoding: 'utf8', env },
  );
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || 'failed').trim().split('\n').pop() };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { tokensPerSecond: number; peakRssBytes: number };
}

const LORA = {
  model: { type: 'string' },
  batch: { type: 'string' },
  seq: { type: 'string' },
  rank: { type: 'string' },
  steps: { type: 'string' },
  threads: { type: 'string' },
  'no-baseline': { type: 'boolean' },
  ...quantOption,
} satisfies OptionTable;

async function lora(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, LORA);
  const model = await modelDirFor(values.model);
  const o = {
    batch: flagInt(values, 'batch', 4),
    seq: flagInt(values, 'seq', 256),
    rank: flagInt(values, 'rank', 8),
    steps: flagInt(values, 'steps', 5),
    threads: flagInt(values, 'threads', 2),
  };
  const ours = await benchLora({ model, ...o, quant: quantFlag(values) });
  const mb = (x: number) => `${(x / 2 ** 20).toFixed(0)} MiB`;
  const kind = ours.quant === 'none' ? 'LoRA' : `QLoRA (${ours.quant})`;
  const lines = [
    `codefudge ${kind}: ${ours.tokensPerSecond.toFixed(0)} tokens/s (${ours.secondsPerStep.toFixed(3)} s/step, batch ${o.batch}x${o.seq}, rank ${o.rank}, ${ours.trainableParameters} trainable parameters)`,
    `peak RSS: ${mb(ours.peakRssBytes)}; RSS after each step: ${ours.rssPerStep.map(mb).join(', ')}`,
  ];
  // PyTorch has no 4-bit kernel here (no bitsandbytes on CPU): the float step is the only baseline.
  if (!values['no-baseline'] && ours.quant === 'none') {
    const torch = torchBaseline(model, o);
    if ('error' in torch) lines.push(`PyTorch baseline unavailable: ${torch.error}`);
    else
      lines.push(
        `PyTorch LoRA:   ${torch.tokensPerSecond.toFixed(0)} tokens/s (peak RSS ${mb(torch.peakRssBytes)})`,
        `ratio: ${(ours.tokensPerSecond / torch.tokensPerSecond).toFixed(2)}x PyTorch`,
      );
  }
  process.stdout.write(lines.join('\n') + '\n');
}

const MODEL_REPORT = {
  model: { type: 'string' },
  corpus: { type: 'string' },
  tasks: { type: 'string' },
  generations: { type: 'string' },
  'write-card': { type: 'boolean' },
} satisfies OptionTable;

async function modelReport(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, MODEL_REPORT);
  const corpus = values.corpus;
  if (!corpus) throw new UserError('bench model-report needs --corpus DIR (the corpus the model was pretrained on)');
  const model = await modelDirFor(values.model);
  const rep = await embeddedModelReport({
    model,
    corpus,
    tasksPerSet: flagInt(values, 'tasks', 50),
    generations: flagInt(values, 'generations', 40),
    log: (l) => process.stderr.write(l + '\n'),
  });
  if (values['write-card']) writeModelCard(model, rep);
  process.stdout.write(
    [
      `validation loss: ${rep.validationLoss.toFixed(4)} nats/token; bigram baseline: ${rep.bigram.loss.toFixed(4)}`,
      fimTable(rep),
      `generations ending in a loop: ${(100 * rep.loops.withoutPenalty).toFixed(1)}% greedy, ${(100 * rep.loops.withPenalty).toFixed(1)}% with repetition penalty ${rep.loops.penalty} (${rep.loops.generations} generations of 64 tokens)`,
    ].join('\n') + '\n',
  );
}

const TYPING = {
  model: { type: 'string' },
  edits: { type: 'string' },
  'max-tokens': { type: 'string' },
  threads: { type: 'string' },
  mode: { type: 'string' },
  'max-prefix-tokens': { type: 'string' },
  'max-suffix-tokens': { type: 'string' },
  'single-line-suffix-tokens': { type: 'string' },
  spm: { type: 'boolean' },
  json: { type: 'boolean' },
  ...quantOption,
} satisfies OptionTable;

async function typing(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, TYPING);
  const mode = flagChoice(values, 'mode', ['single-line', 'multi-line'], 'single-line');
  const o: TypingBenchOptions = {
    model: await modelDirFor(values.model),
    edits: flagInt(values, 'edits', 200),
    maxTokens: flagInt(values, 'max-tokens', 8),
    threads: flagInt(values, 'threads'),
    mode,
    spm: values.spm ?? false,
    quant: quantFlag(values),
    maxPrefixTokens: flagInt(values, 'max-prefix-tokens'),
    maxSuffixTokens: flagInt(values, 'max-suffix-tokens'),
    singleLineSuffixTokens: flagInt(values, 'single-line-suffix-tokens'),
    log: (l) => process.stderr.write(l + '\n'),
  };
  const results = await benchTypingSession(o);
  process.stdout.write(
    (values.json ? JSON.stringify({ options: { ...o, log: undefined }, results }, null, 2) : formatTypingResults(o.model, o, results)) +
      '\n',
  );
}

const QUANT_ACCURACY = {
  model: { type: 'string' },
  corpus: { type: 'string' },
  rows: { type: 'string' },
  threads: { type: 'string' },
  json: { type: 'boolean' },
} satisfies OptionTable;

async function quantAccuracyCommand(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, QUANT_ACCURACY);
  const corpus = values.corpus;
  if (!corpus)
    throw new UserError('bench quant-accuracy needs --corpus DIR (the corpus the model was pretrained on; its validation split is scored)');
  const model = await modelDirFor(values.model);
  const r = await quantAccuracy({
    model,
    corpus,
    rows: flagInt(values, 'rows', 200),
    threads: flagInt(values, 'threads'),
    log: (l) => process.stderr.write(l + '\n'),
  });
  process.stdout.write((values.json ? JSON.stringify(r, null, 2) : formatQuantAccuracy(model, r)) + '\n');
}

const RANDOM_MODEL = { out: { type: 'string' }, shape: { type: 'string' }, seed: { type: 'string' } } satisfies OptionTable;

function randomModel(argv: string[]): void {
  const { values } = parseFlags(argv, RANDOM_MODEL);
  const out = values.out;
  if (!out) throw new UserError('bench random-model needs --out DIR');
  const shape = values.shape ?? 'qwen2.5-coder-0.5b';
  const cfg = writeRandomModelWithTokenizer(out, shape, embeddedModelDir(), flagInt(values, 'seed', 0));
  process.stdout.write(
    `wrote ${out}: ${shape} shape (${cfg.numLayers} layers, hidden ${cfg.hiddenSize}, vocabulary ${cfg.vocabSize}), random float32 weights, the embedded model's tokenizer\n`,
  );
}

const HTTP = {
  model: { type: 'string' },
  requests: { type: 'string' },
  'max-tokens': { type: 'string' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  stream: { type: 'boolean' },
  json: { type: 'boolean' },
} satisfies OptionTable;

async function http(argv: string[]): Promise<void> {
  const { values } = parseFlags(argv, HTTP);
  const concurrency = (values.concurrency ?? '1,4,16').split(',').map(Number);
  if (!concurrency.every((c) => Number.isInteger(c) && c >= 1))
    throw new UserError(`--concurrency must be positive integers separated by commas, got "${values.concurrency}"`);
  const o: HttpBenchOptions = {
    model: await modelDirFor(values.model),
    requests: flagInt(values, 'requests', 64),
    maxTokens: flagInt(values, 'max-tokens', 16),
    concurrency,
    stream: values.stream ?? false,
    threads: flagInt(values, 'threads'),
    log: (l) => process.stderr.write(l + '\n'),
  };
  if (o.requests < 1 || o.maxTokens < 1) throw new UserError('--requests and --max-tokens must be at least 1');
  const r = await benchHttp(o);
  process.stdout.write((values.json ? JSON.stringify({ options: { ...o, log: undefined }, ...r }, null, 2) : formatHttpBench(o, r)) + '\n');
}

const HISTORY = { limit: { type: 'string' } } satisfies OptionTable;

async function history(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, HISTORY);
  if (positionals.length !== 1) throw new UserError('bench history takes exactly one repository path');
  const limit = flagInt(values, 'limit');
  if (limit !== undefined && limit < 1) throw new UserError('--limit must be a positive number of commits');
  const r = await benchHistory(positionals[0], { limit, log: (l) => process.stderr.write(l + '\n') });
  const rate = (s: number) => `${(r.commits / s).toFixed(0)} commits/s`;
  process.stdout.write(
    [
      `git log -p --first-parent --numstat: ${r.commits} commits in ${r.gitSeconds.toFixed(2)} s (${rate(r.gitSeconds)}, ${(r.gitBytes / 1e6).toFixed(1)} MB of output)`,
      `codefudge history read:              ${r.commits} commits in ${r.oursSeconds.toFixed(2)} s (${rate(r.oursSeconds)}; ${r.filesKept} code file changes read with contents, ${r.filesSkipped} skipped${r.unreadableBlobs ? `, ${r.unreadableBlobs} blobs unreadable` : ''})`,
      `ratio: ${r.ratio.toFixed(2)}x git log -p (goal: at most 3x)`,
    ].join('\n') + '\n',
  );
}

export const command: Command = {
  name: 'bench',
  usage: `usage: codefudge bench infer --model DIR [--prompt 256] [--decode 32] [--threads N] [--quant int4|int8|none] [--against llama.cpp]
         (the decode bound uses the bytes of weights as the graph stores them under --quant; --against: the same weights as
          GGUF (int4 -> Q4_0, int8 -> Q8_0, none -> F32) run by llama.cpp via node-llama-cpp, ratios, greedy agreement on that GGUF)
       codefudge bench lora --model DIR [--batch 4] [--seq 256] [--rank 8] [--steps 5] [--threads 2] [--no-baseline] [--quant int4|int8|none]
         (beside the same step in PyTorch: /usr/bin/python3 with Debian's python3-torch)
       codefudge bench model-report --model DIR --corpus DIR [--tasks 50] [--generations 40] [--write-card]
         (validation loss vs a bigram model, fim-eval vs repeat-the-previous-line, loop share)
       codefudge bench typing [--model DIR] [--edits 200] [--max-tokens 8] [--mode single-line|multi-line] [--spm] [--json] [--quant int4|int8|none]
                              [--threads N] [--max-prefix-tokens 1024] [--max-suffix-tokens 256]
                              [--single-line-suffix-tokens 64]
         (a scripted typing session through the LSP server: p50/p95 latency with and without prefix-cache reuse)
       codefudge bench quant-accuracy --corpus DIR [--model DIR] [--rows 200] [--threads N] [--json]
         (int8 and int4 top-1 agreement with float32 and validation-loss increase over the corpus's held-out rows)
       codefudge bench random-model --out DIR [--shape ${Object.keys(RANDOM_MODEL_SHAPES).join('|')}] [--seed 0]
         (a random-weight model of that shape with the embedded tokenizer, for bench infer/typing/lora)
       codefudge bench http [--model DIR] [--requests 64] [--max-tokens 16] [--concurrency 1,4,16] [--stream] [--threads N] [--json]
         (codefudge serve --http under 1, 4 and 16 concurrent clients: requests/s, p50/p95 latency, beside in-process)
       codefudge bench history REPO [--limit N]
         (reading the first-parent history, contents and diffs, beside git log -p --first-parent --numstat; the ratio)`,
  options: { ...INFER, ...LORA, ...MODEL_REPORT, ...TYPING, ...QUANT_ACCURACY, ...RANDOM_MODEL, ...HTTP, ...HISTORY },
  async run(argv) {
    const [what, ...rest] = argv;
    if (what === 'infer') return infer(rest);
    if (what === 'lora') return lora(rest);
    if (what === 'model-report') return modelReport(rest);
    if (what === 'typing') return typing(rest);
    if (what === 'quant-accuracy') return quantAccuracyCommand(rest);
    if (what === 'random-model') return randomModel(rest);
    if (what === 'http') return http(rest);
    if (what === 'history') return history(rest);
    throw new UserError(
      `bench: unknown benchmark "${what ?? ''}" (infer, lora, model-report, typing, quant-accuracy, random-model, http, history)`,
    );
  },
};
