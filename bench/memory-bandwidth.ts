import { compiledGraph } from '../engine/graph-cache.js';
import { Builder } from '../engine/graph/builder.js';
import { openSession, ort } from '../engine/session.js';

/**
 * Read bandwidth as the inference runtime sees it: onnxruntime sums a buffer far larger than
 * the caches, with the same threads a decode uses. Decode must stream every weight once per
 * token, so weight bytes / this bandwidth is the fastest a decode step can be.
 */
export async function measureReadBandwidth(bytes = 1 << 30, repeats = 5): Promise<number> {
  const n = bytes / 4;
  // Row sums of a [rows, n/rows] matrix: the rows are split over the threads, as a decode's GEMVs are.
  const rows = 256;
  const path = compiledGraph({ kind: 'bandwidth-probe', rows }, () => {
    const b = new Builder('float32');
    const x = b.input('x', 'float32', [rows, 'n']);
    b.output(b.sum(x, [1], false), 'sum');
    return b;
  });
  const session = await openSession(path);
  const data = new Float32Array(n).fill(1);
  const feeds = { x: new ort.Tensor('float32', data, [rows, n / rows]) };
  await session.run(feeds);
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  await session.release();
  return bytes / best;
}
