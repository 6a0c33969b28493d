import { UserError, Rng } from '../../common/index.js';
import { CausalLM, type KvCache } from '../causal-lm.js';
import { trailingCyclePeriod } from './repetition-loops.js';
import {
  applyRepetitionPenalty,
  applyTemperature,
  applyTopK,
  applyTopP,
  argmax,
  logProbOf,
  logSoftmax,
  softmax,
} from './logits-processors.js';

export interface GenerateOptions {
  maxNewTokens: number;
  /** 0 (default) decodes greedily; > 0 samples. */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  /** > 1 runs beam search with this many beams (deterministic, no sampling). */
  numBeams?: number;
  /** Beam scores are divided by length ** lengthPenalty. */
  lengthPenalty?: number;
  repetitionPenalty?: number;
  stopTokens?: number[];
  /** Generation ends when the decoded text contains one of these; the text is cut before it. */
  stopStrings?: string[];
  /** Generation ends when this returns a length: the text is cut there (e.g. the end of a code block). */
  stopAt?: (text: string) => number | undefined;
  /**
   * Generation ends when its tokens end in a loop (one n-gram of up to 16 tokens three times back
   * to back); the copies after the first are dropped. Greedy decoding of a small model loops
   * often, and an editor should show the first copy, not a wall of repeats or a timeout.
   * Greedy and sampled decoding only (beam search scores whole hypotheses instead).
   */
  stopOnLoop?: boolean;
  signal?: AbortSignal;
  /**
   * Greedy and sampled decoding: called after each token with the text decoded so far (already
   * cut at a stop). Streaming servers send the new part; beam search has no text until it ends.
   */
  onText?: (text: string) => void;
}

export type StopReason = 'stop-token' | 'stop-string' | 'max-tokens' | 'aborted' | 'loop';

export interface Generation {
  ids: number[];
  text: string;
  reason: StopReason;
  /** Sum of log-probabilities of the generated tokens (beam search: the beam's score). */
  logprob: number;
}

/** What generation needs of a tokenizer. */
export interface Decoder {
  decode(ids: number[]): string;
}

/** Cuts `text` before the first stop string it contains or where `stopAt` ends it, or returns undefined. */
export function cutAtStop(text: string, opts: Pick<GenerateOptions, 'stopStrings' | 'stopAt'>): string | undefined {
  let cut = -1;
  for (const s of opts.stopStrings ?? []) {
    const i = text.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) cut = i;
  }
  const at = opts.stopAt?.(text);
  if (at !== undefined && (cut < 0 || at < cut)) cut = at;
  return cut < 0 ? undefined : text.slice(0, cut);
}

function lastRow(logits: Float32Array, row: number, positions: number, vocab: number): Float32Array {
  const start = (row * positions + positions - 1) * vocab;
  // A view, not a copy: the output buffer is this step's alone, so penalties may edit it in place.
  const out = logits.subarray(start, start + vocab);
  // NaN compares false with everything: argmax and sampling would quietly pick token 0 or nothing.
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) {
      throw new UserError('the model (with its adapter, if any) produced NaN or infinite logits: its weights or config are broken');
    }
  }
  return out;
}

/** stopOnLoop: a cycle of at most this many tokens, repeated this many times. */
const LOOP_MAX_PERIOD = 16;
const LOOP_REPEATS = 3;

/** Prompts sharing fewer tokens than this with the cached one are run from scratch (copying the cache costs more). */
const MIN_REUSE = 8;

/** A previous generation's cache and the ids it holds; `owned`: this generation may overwrite its rows past the shared prefix. */
export interface CacheReuse {
  ids: number[];
  cache: KvCache;
  owned?: boolean;
}

/** Runs the prompt through the model, reusing the cached keys/values of the longest prefix it shares with `reuse`. */
async function prefill(lm: CausalLM, prompt: number[], reuse?: CacheReuse) {
  let cache = lm.emptyCache(1);
  let start = 0;
  if (reuse && reuse.cache.batch === 1) {
    let common = 0;
    const limit = Math.min(reuse.ids.length, reuse.cache.length, prompt.length - 1);
    while (common < limit && reuse.ids[common] === prompt[common]) common++;
    if (common >= MIN_REUSE) {
      cache = CausalLM.truncate(reuse.cache, common, reuse.owned);
      start = common;
    }
  }
  const out = await lm.forward([prompt.slice(start)], cache);
  return { out, reused: start };
}

export interface GenerateResult extends Generation {
  /** Prompt + generated ids whose keys/values `cache` holds, for the next call's prefix reuse. */
  cacheIds: number[];
  cache: KvCache;
  reusedTokens: number;
  /** Beam search: every finished hypothesis, best first. */
  candidates?: Generation[];
}

/** Greedy or sampled decoding of one sequence with the KV cache. */
export async function generate(
  lm: CausalLM,
  tok: Decoder,
  prompt: number[],
  opts: GenerateOptions,
  reuse?: CacheReuse,
): Promise<GenerateResult> {
  if ((opts.numBeams ?? 1) > 1) return beamSearch(lm, tok, prompt, opts);
  const vocab = lm.config.vocabSize;
  const rng = new Rng(opts.seed ?? 0);
  const stopTokens = new Set(opts.stopTokens ?? []);
  const { out: first, reused } = await prefill(lm, prompt, reuse);
  let out = first;
  const ids: number[] = [];
  let logprob = 0;
  let reason: StopReason = 'max-tokens';
  let text = '';
  const penalized = !!opts.repetitionPenalty && opts.repetitionPenalty !== 1;
  for (let step = 0; step < opts.maxNewTokens; step++) {
    if (opts.signal?.aborted) {
      reason = 'aborted';
      break;
    }
    const logits = lastRow(out.logits, 0, out.positions, vocab);
    if (penalized) applyRepetitionPenalty(logits, [...prompt, ...ids], opts.repetitionPenalty!);
    const next = pick(logits, opts, rng);
    logprob += out.logSumExp && !penalized ? logits[next] - out.logSumExp[0] : logProbOf(logits, next);
    if (stopTokens.has(next)) {
      reason = 'stop-token';
      break;
    }
    ids.push(next);
    text = tok.decode(ids);
    const cut = cutAtStop(text, opts);
    if (cut !== undefined) {
      text = cut;
      reason = 'stop-string';
      break;
    }
    opts.onText?.(text);
    const period = opts.stopOnLoop ? trailingCyclePeriod(ids, LOOP_MAX_PERIOD, LOOP_REPEATS) : 0;
    if (period) {
      ids.length -= period * (LOOP_REPEATS - 1);
      text = tok.decode(ids);
      reason = 'loop';
      break;
    }
    if (step + 1 < opts.maxNewTokens) out = await lm.forward([[next]], out.cache);
  }
  const cacheIds = [...prompt, ...ids].slice(0, out.cache.length);
  return { ids, text, reason, logprob, cache: out.cache, cacheIds, reusedTokens: reused };
}

function pick(logits: Float32Array, opts: GenerateOptions, rng: Rng): number {
  const t = opts.temperature ?? 0;
  if (t <= 0) return argmax(logits);
  const l = Float32Array.from(logits);
  applyTemperature(l, t);
  if (opts.topK) applyTopK(l, opts.topK);
  if (opts.topP !== undefined) applyTopP(l, opts.topP);
  const probs = softmax(l);
  let u = rng.next();
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i];
    if (u < 0) return i;
  }
  return argmax(probs);
}

interface Beam {
  ids: number[];
  score: number;
}

/**
 * Beam search as Hugging Face runs it with early stopping: keep the `numBeams` best partial
 * sequences by summed log-probability, move a beam to the finished set when it emits a stop
 * token or stop string, stop once `numBeams` are finished; rank by score / length ** lengthPenalty.
 */
async function beamSearch(lm: CausalLM, tok: Decoder, prompt: number[], opts: GenerateOptions): Promise<GenerateResult> {
  const numBeams = opts.numBeams ?? 1;
  const vocab = lm.config.vocabSize;
  const stopTokens = new Set(opts.stopTokens ?? []);
  const alpha = opts.lengthPenalty ?? 1;
  const { out: first } = await prefill(lm, prompt);
  let out = first;
  let beams: Beam[] = [{ ids: [], score: 0 }];
  let cache = out.cache;
  const finished: (Generation & { norm: number })[] = [];
  const finish = (ids: number[], score: number, reason: StopReason, text = tok.decode(ids)) =>
    finished.push({ ids, text, reason, logprob: score, norm: score / Math.pow(Math.max(ids.length, 1), alpha) });

  for (let step = 0; step < opts.maxNewTokens && beams.length; step++) {
    if (opts.signal?.aborted) break;
    const candidates: { beam: number; token: number; score: number }[] = [];
    beams.forEach((beam, row) => {
      const logits = lastRow(out.logits, row, out.positions, vocab);
      if (opts.repetitionPenalty && opts.repetitionPenalty !== 1)
        applyRepetitionPenalty(logits, [...prompt, ...beam.ids], opts.repetitionPenalty);
      const lp = logSoftmax(logits);
      // Only the 2*numBeams best tokens of a beam can survive the global cut below.
      const top = Array.from(lp.keys())
        .sort((a, b) => lp[b] - lp[a])
        .slice(0, 2 * numBeams);
      for (const token of top) candidates.push({ beam: row, token, score: beam.score + lp[token] });
    });
    candidates.sort((a, b) => b.score - a.score);
    const next: Beam[] = [];
    const rows: number[] = [];
    for (const c of candidates) {
      if (next.length === numBeams) break;
      const ids = [...beams[c.beam].ids, c.token];
      if (stopTokens.has(c.token)) {
        finish(ids.slice(0, -1), c.score, 'stop-token');
        continue;
      }
      const cut = opts.stopStrings?.length || opts.stopAt ? cutAtStop(tok.decode(ids), opts) : undefined;
      if (cut !== undefined) {
        finish(ids, c.score, 'stop-string', cut);
        continue;
      }
      next.push({ ids, score: c.score });
      rows.push(c.beam);
    }
    if (finished.length >= numBeams || !next.length) {
      beams = [];
      break;
    }
    beams = next;
    if (step + 1 === opts.maxNewTokens) break;
    cache = CausalLM.selectRows(out.cache, rows);
    out = await lm.forward(
      beams.map((b) => [b.ids[b.ids.length - 1]]),
      cache,
    );
  }
  for (const b of beams) finish(b.ids, b.score, opts.signal?.aborted ? 'aborted' : 'max-tokens');
  finished.sort((a, b) => b.norm - a.norm);
  const candidates = finished.map(({ norm: _n, ...g }) => g);
  const best = candidates[0];
  return { ...best, candidates, cache: lm.emptyCache(1), cacheIds: [], reusedTokens: 0 };
}
