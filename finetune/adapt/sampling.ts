// Seeded, reproducible choices of examples: the same seed and data give the same run.
import type { Random } from '../../history/index.js';

export function shuffled<T>(items: readonly T[], rand: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** `n` of `items` in a seeded random order; repeats them when there are fewer than `n`. */
export function take<T>(items: readonly T[], n: number, rand: Random): T[] {
  if (!items.length) return [];
  const order = shuffled(items, rand);
  return Array.from({ length: n }, (_, i) => order[i % order.length]);
}

/** `n` items spread evenly over `items` (all of them when there are no more than `n`). */
export function spreadEvenly<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);
}
