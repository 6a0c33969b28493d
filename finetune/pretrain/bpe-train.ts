import { UserError } from '../../common/index.js';
import { BYTE_TO_CHAR } from './byte-level.js';
import type { BpeModel } from './bpe-model.js';
import { PairHeap } from './pair-heap.js';
import { forEachPreToken } from './pretokenize.js';
import { DEFAULT_SPECIAL_TOKENS } from './special-tokens.js';

export interface TrainBpeOptions {
  /** Final vocabulary size, special tokens and the 256 bytes included. */
  vocabSize: number;
  /** Defaults to `<|endoftext|>`, `<fim_prefix>`, `<fim_middle>`, `<fim_suffix>`, `<fim_pad>` (ids 0..4). */
  specialTokens?: readonly string[];
  /** Pairs seen fewer times than this are never merged (training stops early). Default 2. */
  minFrequency?: number;
  onProgress?: (p: TrainBpeProgress) => void;
}

export interface TrainBpeProgress {
  phase: 'count' | 'merge';
  /** Characters of text read so far (count phase). */
  chars: number;
  /** Distinct pre-tokens so far. */
  words: number;
  /** Merges learned so far (merge phase). */
  merges: number;
}

/** Pair keys pack two token ids; ids stay below this bound. */
const KEY = 1 << 20;

/**
 * Trains byte-level BPE: counts pre-tokens (see pretokenize.ts), then repeatedly merges the most
 * frequent adjacent pair. Pair counts are updated incrementally from the words a merge touches, and
 * the next pair comes from a lazy max-heap, so each merge costs only the words that contain it.
 * Ties go to the pair of older tokens (smaller ids, left first): deterministic for the same texts.
 */
export function trainBpe(texts: Iterable<string>, options: TrainBpeOptions): BpeModel {
  const specialTokens = [...(options.specialTokens ?? DEFAULT_SPECIAL_TOKENS)];
  const minFrequency = Math.max(1, options.minFrequency ?? 2);
  checkVocabSize(options.vocabSize, specialTokens.length);
  if (new Set(specialTokens).size !== specialTokens.length) throw new UserError('special tokens must be distinct');
  const wordCounts = countPreTokens(texts, options.onProgress);
  const trainer = new MergeTrainer(wordCounts, specialTokens);
  const merges = trainer.run(options.vocabSize - specialTokens.length, minFrequency, options.onProgress);
  return { vocab: [...specialTokens, ...trainer.tokens], merges, specialTokens };
}

/** Throws a UserError unless `vocabSize` leaves room for the specials and the 256 bytes. */
export function checkVocabSize(vocabSize: number, specialCount = DEFAULT_SPECIAL_TOKENS.length): void {
  const base = specialCount + 256;
  if (!Number.isInteger(vocabSize) || vocabSize < base || vocabSize >= KEY) {
    throw new UserError(`vocabulary size must be an integer from ${base} to ${KEY - 1}, got ${vocabSize}`);
  }
}

function countPreTokens(texts: Iterable<string>, onProgress?: (p: TrainBpeProgress) => void): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (piece: string) => counts.set(piece, (counts.get(piece) ?? 0) + 1);
  let chars = 0;
  let nextReport = 0;
  for (const text of texts) {
    forEachPreToken(text, add);
    chars += text.length;
    if (onProgress && chars >= nextReport) {
      onProgress({ phase: 'count', chars, words: counts.size, merges: 0 });
      nextReport = chars + 1_000_000;
    }
  }
  return counts;
}

/** The merge loop's state: words as symbol arrays, live pair counts, and where each pair occurs. */
class MergeTrainer {
  /** Token strings by internal id (0..255 are the bytes; no special tokens here). */
  readonly tokens: string[] = [...BYTE_TO_CHAR];
  private readonly idOf = new Map<string, number>();
  private readonly words: number[][] = [];
  private readonly freqs: number[] = [];
  private readonly pairCounts = new Map<number, number>();
  /** Words that contain (or once contained) a pair; may repeat or be stale, checked when merging. */
  private readonly where = new Map<number, number[]>();
  private readonly touched = new Set<number>();
  private readonly heap = new PairHeap();

  constructor(wordCounts: Map<string, number>, specialTokens: string[]) {
    // A merged token equal to a special's text would collide in tokenizer.json's vocab (the
    // pre-tokenizer makes that impossible for the defaults); reuse the id as HF's trainer does.
    specialTokens.forEach((s) => this.idOf.set(s, -1));
    this.tokens.forEach((t, id) => this.idOf.set(t, id));
    const encoder = new TextEncoder();
    for (const [word, freq] of wordCounts) {
      const bytes = encoder.encode(word);
      if (bytes.length < 2) continue;
      const index = this.words.length;
      this.words.push(Array.from(bytes));
      this.freqs.push(freq);
      for (let i = 0; i + 1 < bytes.length; i++) this.addPair(bytes[i] * KEY + bytes[i + 1], freq, index);
    }
    for (const [key, count] of this.pairCounts) this.heap.push(count, key);
  }

  /** Learns merges until `targetTokens` tokens exist or no pair is frequent enough. */
  run(targetTokens: number, minFrequency: number, onProgress?: (p: TrainBpeProgress) => void): [string, string][] {
    const merges: [string, string][] = [];
    const seen = new Int32Array(this.words.length);
    const heap = this.heap;
    while (this.tokens.length < targetTokens && heap.pop()) {
      const key = heap.topKey;
      const live = this.pairCounts.get(key) ?? 0;
      if (live !== heap.topCount) {
        if (live > 0) heap.push(live, key);
        continue;
      }
      if (live < minFrequency) break;
      const a = Math.floor(key / KEY);
      const b = key % KEY;
      const merged = this.newToken(this.tokens[a] + this.tokens[b]);
      merges.push([this.tokens[a], this.tokens[b]]);
      const stamp = merges.length;
      const occurrences = this.where.get(key)!;
      for (let i = 0; i < occurrences.length; i++) {
        const w = occurrences[i];
        if (seen[w] === stamp) continue;
        seen[w] = stamp;
        this.mergeWord(w, a, b, merged);
      }
      this.pairCounts.delete(key);
      this.where.delete(key);
      for (const t of this.touched) {
        const count = this.pairCounts.get(t);
        if (count !== undefined) heap.push(count, t);
      }
      this.touched.clear();
      if (onProgress && merges.length % 500 === 0) {
        onProgress({ phase: 'merge', chars: 0, words: this.words.length, merges: merges.length });
      }
    }
    return merges;
  }

  private newToken(text: string): number {
    const existing = this.idOf.get(text);
    if (existing !== undefined && existing >= 0) return existing;
    const id = this.tokens.length;
    this.tokens.push(text);
    this.idOf.set(text, id);
    return id;
  }

  /**
   * Replaces each (a, b) in word w by `merged`, left to right, and moves the counts of the
   * neighbouring pairs: (prev, a) becomes (prev, merged) and (b, next) becomes (merged, next).
   * `prev` is read from the already-rewritten part, so runs like "a b a b" come out right.
   */
  private mergeWord(w: number, a: number, b: number, merged: number): void {
    const sym = this.words[w];
    const freq = this.freqs[w];
    const n = sym.length;
    let out = 0;
    for (let r = 0; r < n;) {
      if (r + 1 < n && sym[r] === a && sym[r + 1] === b) {
        if (out > 0) {
          const prev = sym[out - 1];
          this.addPair(prev * KEY + a, -freq, w);
          this.addPair(prev * KEY + merged, freq, w);
        }
        if (r + 2 < n) {
          const next = sym[r + 2];
          this.addPair(b * KEY + next, -freq, w);
          this.addPair(merged * KEY + next, freq, w);
        }
        sym[out++] = merged;
        r += 2;
      } else {
        sym[out++] = sym[r++];
      }
    }
    sym.length = out;
  }

  private addPair(key: number, delta: number, word: number): void {
    const count = (this.pairCounts.get(key) ?? 0) + delta;
    if (count <= 0) {
      this.pairCounts.delete(key);
      this.where.delete(key);
      return;
    }
    this.pairCounts.set(key, count);
    if (delta > 0) {
      const list = this.where.get(key);
      if (list === undefined) this.where.set(key, [word]);
      else if (list[list.length - 1] !== word) list.push(word);
      this.touched.add(key);
    }
  }
}
