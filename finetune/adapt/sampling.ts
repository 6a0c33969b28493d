// Seeded, reproducible choices of examples: the same seed and data give the same run.
import { shuffled, type Random } from '../../common/index.js';

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
