import { hash32, mulberry32, randInt, type Random } from '../common/index.js';
import type { SnapshotFile } from './snapshot.js';

/** prefix-suffix-middle or suffix-prefix-middle order; the prompt template is the engine's business. */
export type FimMode = 'psm' | 'spm';
/** A random character span, whole lines, or an indented block (e.g. a function body). */
export type FimSpan = 'char' | 'line' | 'block';

/** prefix + middle + suffix is the file's text exactly. */
export interface FimExample {
  kind: 'fim';
  split: 'train';
  /** The commit the file was read at. */
  sha: string;
  path: string;
  blob: string;
  prefix: string;
  middle: string;
  suffix: string;
  mode: FimMode;
  span: FimSpan;
}

export interface FimOptions {
  /** Same seed, same files: same examples. Default 0. */
  seed?: number;
  /** One example per this many lines of a file, at least one. Default 40. */
  linesPerExample?: number;
  /** At most this many examples from one file. Default 16. */
  maxPerFile?: number;
  /** Longest character span. Default 512. */
  maxMiddleChars?: number;
  /** Most lines in a line span. Default 3. */
  maxLineSpan?: number;
  /** Longest block span in lines. Default 40. */
  maxBlockLines?: number;
  /** Share of examples in SPM order. Default 0.5. */
  spmRate?: number;
  /** Relative weights of the span kinds. Default 1 each. */
  spanWeights?: Partial<Record<FimSpan, number>>;
}

export interface Span {
  start: number;
  end: number;
}

/** Line starts and indentation of a text, for choosing line and block spans. */
class LineTable {
  readonly starts: number[] = [];

  constructor(readonly text: string) {
    for (let i = 0; i < text.length;) {
      this.starts.push(i);
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    }
  }

  get count(): number {
    return this.starts.length;
  }

  end(i: number): number {
    return i + 1 < this.starts.length ? this.starts[i + 1] : this.text.length;
  }

  blank(i: number): boolean {
    return this.text.slice(this.starts[i], this.end(i)).trim() === '';
  }

  indent(i: number): number {
    let n = 0;
    for (let p = this.starts[i]; p < this.text.length && (this.text[p] === ' ' || this.text[p] === '\t'); p++) n++;
    return n;
  }
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** A random span of 1..maxChars characters that is not all whitespace and does not split a surrogate pair. */
export function charSpan(text: string, rand: Random, maxChars: number): Span | null {
  if (text.trim() === '') return null;
  for (let attempt = 0; attempt < 8; attempt++) {
    let start = randInt(rand, 0, text.length - 1);
    let end = start + randInt(rand, 1, Math.min(maxChars, text.length - start));
    if (isLowSurrogate(text.charCodeAt(start))) start--;
    if (end < text.length && isLowSurrogate(text.charCodeAt(end))) end++;
    if (text.slice(start, end).trim() !== '') return { start, end };
  }
  return null;
}

/** 1..maxLines whole lines (with their newlines) starting at a random non-blank line. */
function lineSpan(table: LineTable, rand: Random, maxLines: number): Span | null {
  const candidates: number[] = [];
  for (let i = 0; i < table.count; i++) if (!table.blank(i)) candidates.push(i);
  if (!candidates.length) return null;
  const first = candidates[randInt(rand, 0, candidates.length - 1)];
  const last = Math.min(table.count, first + randInt(rand, 1, maxLines)) - 1;
  return { start: table.starts[first], end: table.end(last) };
}

/**
 * The indented blocks of a text: each starts at a line indented deeper than the non-blank line
 * before it and runs over the following lines indented at least as deep (blank lines inside
 * included, trailing ones not).
 */
export function blockSpans(text: string, maxLines: number): Span[] {
  const t = new LineTable(text);
  const spans: Span[] = [];
  let prev = -1;
  for (let j = 0; j < t.count; j++) {
    if (t.blank(j)) continue;
    const opens = prev >= 0 && t.indent(j) > t.indent(prev);
    prev = j;
    if (!opens) continue;
    const depth = t.indent(j);
    let last = j;
    for (let m = j + 1; m < t.count && m - j < maxLines; m++) {
      if (t.blank(m)) continue;
      if (t.indent(m) < depth) break;
      last = m;
    }
    // Cut off by maxLines while still inside the block: not a whole block.
    const next = last + 1;
    let after = next;
    while (after < t.count && t.blank(after)) after++;
    if (after < t.count && t.indent(after) >= depth) continue;
    spans.push({ start: t.starts[j], end: t.end(last) });
  }
  return spans;
}

function pickKind(rand: Random, weights: Record<FimSpan, number>): FimSpan {
  const kinds: FimSpan[] = ['char', 'line', 'block'];
  const total = kinds.reduce((s, k) => s + Math.max(0, weights[k]), 0);
  let r = rand() * total;
  for (const k of kinds) {
    r -= Math.max(0, weights[k]);
    if (r < 0) return k;
  }
  return 'char';
}

/** FIM examples from one file, reproducible from (seed, blob). */
export function fimExamples(file: SnapshotFile, opts: FimOptions = {}): FimExample[] {
  const text = file.text;
  if (text.trim() === '') return [];
  const rand = mulberry32(hash32(`${opts.seed ?? 0}:${file.blob}`));
  const table = new LineTable(text);
  const weights = { char: 1, line: 1, block: 1, ...opts.spanWeights };
  const count = Math.min(opts.maxPerFile ?? 16, Math.max(1, Math.ceil(table.count / (opts.linesPerExample ?? 40))));
  let blocks: Span[] | null = null;
  const out: FimExample[] = [];
  for (let n = 0; n < count; n++) {
    let kind = pickKind(rand, weights);
    let span: Span | null = null;
    if (kind === 'block') {
      blocks ??= blockSpans(text, opts.maxBlockLines ?? 40);
      span = blocks.length ? blocks[randInt(rand, 0, blocks.length - 1)] : null;
      if (!span) kind = 'line';
    }
    if (kind === 'line') {
      span = lineSpan(table, rand, opts.maxLineSpan ?? 3);
      if (!span) kind = 'char';
    }
    if (kind === 'char') span = charSpan(text, rand, opts.maxMiddleChars ?? 512);
    if (!span) continue;
    out.push({
      kind: 'fim',
      split: 'train',
      sha: file.sha,
      path: file.path,
      blob: file.blob,
      prefix: text.slice(0, span.start),
      middle: text.slice(span.start, span.end),
      suffix: text.slice(span.end),
      mode: rand() < (opts.spmRate ?? 0.5) ? 'spm' : 'psm',
      span: kind,
    });
  }
  return out;
}
