import { UserError } from '../../common/index.js';
import { BYTE_TO_CHAR, CHAR_TO_BYTE } from './byte-level.js';
import type { BpeModel } from './bpe-model.js';
import { forEachPreToken } from './pretokenize.js';

const KEY = 1 << 20;
/** Past this many cached pre-tokens the cache starts over, so memory stays bounded on huge inputs. */
const CACHE_LIMIT = 500_000;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Encodes text with a byte-level BPE model exactly as @huggingface/tokenizers (the tokenizer of @huggingface/transformers) does with the same
 * tokenizer.json (split on special tokens, pre-tokenize, then at each step merge the lowest-ranked
 * adjacent pair, leftmost first), but fast: ids throughout and a cache per pre-token.
 */
export class BpeEncoder {
  readonly vocabSize: number;
  private readonly tokens: string[];
  private readonly specialIds = new Map<string, number>();
  private readonly specialSplit: RegExp | null;
  private readonly byteIds = new Int32Array(256);
  /** (left id, right id) -> rank * KEY + merged id */
  private readonly mergeOf = new Map<number, number>();
  private readonly cache = new Map<string, Int32Array>();
  private readonly utf8 = new TextEncoder();
  private scratch = new Uint8Array(1024);

  constructor(model: BpeModel) {
    if (model.vocab.length >= KEY) throw new UserError(`vocabulary too large for the encoder (${model.vocab.length} tokens)`);
    this.tokens = model.vocab;
    this.vocabSize = model.vocab.length;
    const idOf = new Map<string, number>();
    model.vocab.forEach((t, id) => {
      if (!idOf.has(t)) idOf.set(t, id);
    });
    for (const s of model.specialTokens) {
      const id = idOf.get(s);
      if (id === undefined) throw new UserError(`special token ${s} is not in the vocabulary`);
      this.specialIds.set(s, id);
    }
    for (let b = 0; b < 256; b++) {
      const id = idOf.get(BYTE_TO_CHAR[b]);
      if (id === undefined) throw new UserError(`byte 0x${b.toString(16)} has no token: not a byte-level vocabulary`);
      this.byteIds[b] = id;
    }
    model.merges.forEach(([a, b], rank) => {
      const left = idOf.get(a);
      const right = idOf.get(b);
      const merged = idOf.get(a + b);
      if (left === undefined || right === undefined || merged === undefined) {
        throw new UserError(`merge "${a} ${b}" names a token missing from the vocabulary`);
      }
      const key = left * KEY + right;
      // transformers keeps the last rank of a repeated merge
      this.mergeOf.set(key, rank * KEY + merged);
    });
    // Longest special first, as the tokenizers' trie splitter prefers the longest match.
    const specials = [...this.specialIds.keys()].sort((x, y) => y.length - x.length);
    this.specialSplit = specials.length ? new RegExp(specials.map(escapeRegExp).join('|'), 'g') : null;
  }

  /** The id of a special token, e.g. `<|endoftext|>`. */
  specialId(token: string): number {
    const id = this.specialIds.get(token);
    if (id === undefined) throw new UserError(`the tokenizer has no special token ${token}`);
    return id;
  }

  /** Encodes like transformers' `encode(text, {add_special_tokens: false})`: special-token text becomes the special id. */
  encode(text: string): number[] {
    const out: number[] = [];
    const split = this.specialSplit;
    if (split === null) {
      this.encodeInto(text, out);
      return out;
    }
    split.lastIndex = 0;
    let prev = 0;
    for (let m = split.exec(text); m !== null; m = split.exec(text)) {
      if (m.index > prev) this.encodeInto(text.slice(prev, m.index), out);
      out.push(this.specialIds.get(m[0])!);
      prev = m.index + m[0].length;
    }
    if (prev < text.length) this.encodeInto(text.slice(prev), out);
    return out;
  }

  /** Encodes text as plain text: a literal `<|endoftext|>` in a source file stays ordinary bytes. For training data. */
  encodeOrdinary(text: string): number[] {
    const out: number[] = [];
    this.encodeInto(text, out);
    return out;
  }

  /** Appends the ordinary encoding of `text` to `out`. */
  encodeInto(text: string, out: number[]): void {
    forEachPreToken(text, (piece) => {
      const ids = this.encodePiece(piece);
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    });
  }

  /** Decodes ids to text like transformers' ByteLevel decoder (invalid UTF-8 becomes U+FFFD). */
  decode(ids: ArrayLike<number>): string {
    const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
    let text = '';
    let bytes: number[] = [];
    const flush = () => {
      if (bytes.length) text += decoder.decode(Uint8Array.from(bytes));
      bytes = [];
    };
    for (let i = 0; i < ids.length; i++) {
      const token = this.tokens[ids[i]];
      if (token === undefined) throw new UserError(`token id ${ids[i]} is outside the vocabulary`);
      if (this.specialIds.get(token) === ids[i]) {
        flush();
        text += token;
        continue;
      }
      for (let j = 0; j < token.length; j++) bytes.push(CHAR_TO_BYTE.get(token.charCodeAt(j))!);
    }
    flush();
    return text;
  }

  private encodePiece(piece: string): Int32Array {
    const cached = this.cache.get(piece);
    if (cached !== undefined) return cached;
    const ids = this.bpe(this.toBytes(piece));
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  private toBytes(piece: string): Uint8Array {
    if (this.scratch.length < piece.length * 3) this.scratch = new Uint8Array(piece.length * 3);
    const { written } = this.utf8.encodeInto(piece, this.scratch);
    return this.scratch.subarray(0, written);
  }

  /**
   * Merges the lowest-ranked adjacent pair, leftmost on ties, until none is left: the same order as
   * transformers' priority queue (rank first, then original position). Quadratic in the piece's
   * length, which the pre-tokenizer keeps short, and each distinct piece is done once.
   */
  private bpe(bytes: Uint8Array): Int32Array {
    const sym = new Int32Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) sym[i] = this.byteIds[bytes[i]];
    let n = sym.length;
    const mergeOf = this.mergeOf;
    while (n > 1) {
      let best = Infinity;
      let at = -1;
      for (let i = 0; i + 1 < n; i++) {
        const m = mergeOf.get(sym[i] * KEY + sym[i + 1]);
        if (m !== undefined && m < best) {
          best = m;
          at = i;
        }
      }
      if (at < 0) break;
      sym[at] = best % KEY;
      sym.copyWithin(at + 1, at + 2, n);
      n--;
    }
    return sym.slice(0, n);
  }
}
