import { mulberry32, type Random } from '../../engine/index.js';

/** A seeded uniform random number generator on [0, 1). */
export type Rng = Random;

/** Murmur3's 32-bit finaliser: spreads every input bit over the whole word. */
function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A mulberry32 generator keyed by a seed and any stream numbers (e.g. epoch and document index),
 * so each document gets its own independent stream and resuming at document k replays nothing.
 */
export function createRng(seed: number, ...stream: number[]): Rng {
  let state = mix32(seed >>> 0 ^ 0x9e3779b9);
  for (const s of stream) state = mix32(state ^ mix32((s >>> 0) + 0x632be5ab) ^ Math.floor(s / 2 ** 32));
  return mulberry32(state);
}

/** An integer in [0, n). */
export function randomInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** A Fisher-Yates shuffle of 0..n-1. */
export function shuffledIndices(n: number, rng: Rng): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomInt(rng, i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
