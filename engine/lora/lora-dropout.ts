// Dropout whose mask is a pure function of (seed, salt, element index), computed inside the graph:
// a run is reproducible and resumable from the step alone, with no random state to save.
import type { Builder } from '../graph/builder.js';
import type { Value } from '../graph/graph.js';

const M31 = 0x7fffffff;
const SEED_MULT = 0x9e3779b1;
const MIX_MULT = 0x45d9f3b;
const SALT_MULT = 0x27d4eb2d;

/**
 * The 31-bit hash of element `index` for `seed` and `salt`, as the graph computes it (all values
 * stay below 2^31 before a multiply, so int64 never overflows). Exported so tests and callers can
 * reproduce a mask outside the graph.
 */
export function dropoutHash(seed: number, salt: number, index: number): number {
  const key = (BigInt(seed) * BigInt(SEED_MULT) + BigInt((salt * SALT_MULT) % 2 ** 31)) & BigInt(M31);
  let h = (BigInt(index) & BigInt(M31)) ^ key;
  for (let round = 0; round < 2; round++) h = (((h >> 16n) ^ h) * BigInt(MIX_MULT)) & BigInt(M31);
  return Number((h >> 16n) ^ h);
}

/** Dropout keeps an element when its hash is at least this. */
export function dropoutThreshold(p: number): number {
  return Math.round(p * 2 ** 31);
}

function bitwise(b: Builder, op: 'BitwiseAnd' | 'BitwiseXor', x: Value, y: Value): Value {
  return b.emit(op, [x, y], [{ dtype: 'int64', shape: x.shape }])[0];
}

/**
 * `x` [N, in] with elements dropped with probability `p` and the rest scaled by 1/(1-p), as
 * torch.nn.Dropout in training mode. `seed` is an int64 scalar graph input (below 2^31) that the
 * trainer sets per step; `salt` tells modules apart so each gets its own mask.
 */
export function hashedDropout(b: Builder, x: Value, p: number, seed: Value, salt: number): Value {
  const i64 = (v: number) => b.constant('int64', [], [v]);
  const inDim = x.shape[1];
  if (typeof inDim !== 'number') throw new Error('hashedDropout needs a known feature size');
  const rows = b.squeeze(b.shapeOf(x, 0, 1), [0]);
  const rowIds = b.unsqueeze(b.range(i64(0), rows, i64(1), x.shape[0]), [1]);
  const colIds = b.constant(
    'int64',
    [1, inDim],
    Array.from({ length: inDim }, (_, i) => i),
  );
  const index = bitwise(b, 'BitwiseAnd', b.add(b.mul(rowIds, i64(inDim)), colIds), i64(M31));
  const key = bitwise(b, 'BitwiseAnd', b.add(b.mul(seed, i64(SEED_MULT)), i64((salt * SALT_MULT) % 2 ** 31)), i64(M31));
  const shift = (h: Value) => bitwise(b, 'BitwiseXor', b.div(h, i64(65536)), h);
  let h = bitwise(b, 'BitwiseXor', index, key);
  for (let round = 0; round < 2; round++) h = bitwise(b, 'BitwiseAnd', b.mul(shift(h), i64(MIX_MULT)), i64(M31));
  h = shift(h);
  const keep = b.compare('GreaterOrEqual', h, i64(dropoutThreshold(p)));
  const mask = b.mul(b.cast(keep, x.dtype), b.scalar(1 / (1 - p), x));
  return b.mul(x, mask);
}
