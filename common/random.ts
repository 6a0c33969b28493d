// The project's one source of randomness: every seeded choice (data order, FIM cuts, sampling,
// LoRA init, task selection) draws from mulberry32, so the same seed gives the same run anywhere.

/** A seeded uniform generator on [0, 1). */
export type Random = () => number;

/** mulberry32: the same seed gives the same stream on every machine. */
export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** mulberry32 with integer and normal draws. */
export class Rng {
  readonly next: Random;

  constructor(seed: number) {
    this.next = mulberry32(seed);
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return randomInt(this.next, n);
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
}

/** An integer in [0, n). */
export function randomInt(rand: Random, n: number): number {
  return Math.floor(rand() * n);
}

/** An integer in [lo, hi]. */
export function randInt(rand: Random, lo: number, hi: number): number {
  return lo + randomInt(rand, hi - lo + 1);
}

/** FNV-1a over a string's UTF-16 units: a stable 32-bit seed from text. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Murmur3's 32-bit finaliser: spreads every input bit over the whole word. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A generator keyed by a seed and any stream numbers (e.g. epoch and document index),
 * so each document gets its own independent stream and resuming at document k replays nothing.
 */
export function createRng(seed: number, ...stream: number[]): Random {
  let state = mix32((seed >>> 0) ^ 0x9e3779b9);
  for (const s of stream) state = mix32(state ^ mix32((s >>> 0) + 0x632be5ab) ^ Math.floor(s / 2 ** 32));
  return mulberry32(state);
}

interface Swappable<T> {
  length: number;
  [i: number]: T;
}

/** Fisher-Yates in place, from the last element down: the one shuffle every part uses. */
export function shuffleInPlace<T, A extends Swappable<T>>(items: A, rand: Random): A {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(rand, i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return items;
}

/** A shuffled copy. */
export function shuffled<T>(items: readonly T[], rand: Random): T[] {
  return shuffleInPlace<T, T[]>([...items], rand);
}

/** A seeded permutation of 0..n-1. */
export function shuffledIndices(n: number, rand: Random): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return shuffleInPlace<number, Uint32Array>(out, rand);
}
