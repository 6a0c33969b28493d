// The KV cache between forward passes: each layer's keys and values for the tokens seen so far,
// sequence-major, [batch, length, kvHeads, headDim], so that a batch-1 cache is a prefix view of a
// growable buffer and a forward pass appends its new tokens in place.
//
// Why this layout: onnxruntime-node copies every graph output into a fresh ArrayBuffer. When the
// graph returned the whole concatenated cache, every decoded token copied all of it into new,
// page-faulting memory: at 768 positions of the 0.5B shape, 19 MB and about 25 ms a token, more
// than the weights' own time. Now the graph returns only the new tokens' keys and values.
import { ort } from './session.js';

/** One layer's keys (or values) in a buffer with room to grow; `used` rows are written. */
interface KvStore {
  data: Float32Array;
  used: number;
}

export interface KvCache {
  batch: number;
  length: number;
  /** `past_key_values.N.key|value` -> [batch, length, kvHeads, headDim]. */
  tensors: Map<string, ort.Tensor>;
  /** Batch 1: the buffers the tensors view. A cache whose length is below a store's `used` shares it read-only. */
  stores?: Map<string, KvStore>;
}

export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
}

export function kvNames(shape: KvShape): string[] {
  const names: string[] = [];
  for (let i = 0; i < shape.numLayers; i++) names.push(`past_key_values.${i}.key`, `past_key_values.${i}.value`);
  return names;
}

/** The graph output holding the new tokens' part of `name`'s cache. */
export function presentName(name: string): string {
  return name.replace(/^past_key_values\./, 'present.');
}

export function emptyKvCache(shape: KvShape, batch: number): KvCache {
  const tensors = new Map<string, ort.Tensor>();
  for (const name of kvNames(shape))
    tensors.set(name, new ort.Tensor('float32', new Float32Array(0), [batch, 0, shape.numKvHeads, shape.headDim]));
  return { batch, length: 0, tensors };
}

/**
 * Each batch row's first `keep` positions of `src` (rows of `length` positions) into `dst` (rows of
 * `dstLength` positions), at the start of each row; `row` floats per position.
 */
function copyPrefixes(
  src: Float32Array,
  length: number,
  dst: Float32Array,
  dstLength: number,
  batch: number,
  keep: number,
  row: number,
): void {
  for (let b = 0; b < batch; b++) dst.set(src.subarray(b * length * row, (b * length + keep) * row), b * dstLength * row);
}

/** Rows of headroom a grown store gets: a completion's decode steps then append without copying. */
const HEADROOM_ROWS = 128;

/**
 * `cache` followed by `added` new tokens, whose keys and values are `fresh(name)`, [batch, added,
 * kvHeads, headDim]. At batch 1 they are written in place after the cache's rows when its store
 * ends there; otherwise (the store is shared with a longer cache, or full) the rows are copied
 * into a new store first, so no other cache ever sees its rows change.
 */
export function appendKv(cache: KvCache, shape: KvShape, added: number, fresh: (name: string) => Float32Array): KvCache {
  const row = shape.numKvHeads * shape.headDim;
  const length = cache.length + added;
  const dims = (n: number) => [cache.batch, n, shape.numKvHeads, shape.headDim];
  const tensors = new Map<string, ort.Tensor>();
  if (cache.batch !== 1) {
    for (const [name, past] of cache.tensors) {
      const out = new Float32Array(cache.batch * length * row);
      copyPrefixes(past.data as Float32Array, cache.length, out, length, cache.batch, cache.length, row);
      copyPrefixes(fresh(name), added, out.subarray(cache.length * row), length, cache.batch, added, row);
      tensors.set(name, new ort.Tensor('float32', out, dims(length)));
    }
    return { batch: cache.batch, length, tensors };
  }
  const stores = new Map<string, KvStore>();
  for (const [name, past] of cache.tensors) {
    let store = cache.stores?.get(name);
    if (!store || store.used !== cache.length || store.data.length < length * row) {
      const data = new Float32Array((length + Math.max(HEADROOM_ROWS, length >> 2)) * row);
      data.set((past.data as Float32Array).subarray(0, cache.length * row));
      store = { data, used: cache.length };
    }
    store.data.set(fresh(name), cache.length * row);
    store.used = length;
    stores.set(name, store);
    tensors.set(name, new ort.Tensor('float32', store.data.subarray(0, length * row), dims(length)));
  }
  return { batch: 1, length, tensors, stores };
}

/**
 * The first `length` positions of `cache`: what a new prompt sharing only that much of the old one
 * can reuse. With `take`, the caller gives `cache` up (and any longer cache on its buffers): the next
 * append writes over its rows past `length` instead of copying the rows it keeps.
 */
export function truncateKv(cache: KvCache, length: number, take = false): KvCache {
  if (take && cache.batch === 1) for (const store of cache.stores?.values() ?? []) store.used = Math.min(store.used, length, cache.length);
  if (length >= cache.length) return cache;
  const tensors = new Map<string, ort.Tensor>();
  for (const [name, t] of cache.tensors) {
    const [batch, , heads, dim] = t.dims as number[];
    const src = t.data as Float32Array;
    const row = heads * dim;
    let data: Float32Array;
    if (batch === 1) data = src.subarray(0, length * row);
    else {
      data = new Float32Array(batch * length * row);
      copyPrefixes(src, cache.length, data, length, batch, length, row);
    }
    tensors.set(name, new ort.Tensor('float32', data, [batch, length, heads, dim]));
  }
  return { batch: cache.batch, length, tensors, stores: cache.stores };
}

/** A cache holding rows `rows` of `cache` (in that order, repeats allowed): beam search reorders with it. */
export function selectKvRows(cache: KvCache, rows: number[]): KvCache {
  const tensors = new Map<string, ort.Tensor>();
  for (const [name, t] of cache.tensors) {
    const [, len, heads, dim] = t.dims as number[];
    const rowSize = len * heads * dim;
    const src = t.data as Float32Array;
    const dst = new Float32Array(rows.length * rowSize);
    rows.forEach((r, i) => dst.set(src.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize));
    tensors.set(name, new ort.Tensor('float32', dst, [rows.length, len, heads, dim]));
  }
  return { batch: rows.length, length: cache.length, tensors };
}
