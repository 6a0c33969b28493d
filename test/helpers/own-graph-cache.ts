// For tests that count the graphs a load compiles. scripts/run-tests.mjs runs several test files in
// one process, so they share process.env and one graph cache: a graph another file compiled would be
// a cache hit here. The test points the cache at a folder of its own while it runs.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Runs `fn` with `$CODEFUDGE_CACHE` at a fresh folder under `root`; `graphs()` lists what it compiled. */
export async function withOwnGraphCache<T>(root: string, fn: (graphs: () => string[]) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(root, 'graph-cache-'));
  const saved = process.env.CODEFUDGE_CACHE;
  process.env.CODEFUDGE_CACHE = dir;
  const graphs = () => (existsSync(join(dir, 'graphs')) ? readdirSync(join(dir, 'graphs')).sort() : []);
  try {
    return await fn(graphs);
  } finally {
    if (saved === undefined) delete process.env.CODEFUDGE_CACHE;
    else process.env.CODEFUDGE_CACHE = saved;
  }
}
