import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Graph } from './graph/graph.js';
import { writeOnnxModel } from './graph/onnx-writer.js';

/** Bumped whenever the graph builder or the model code changes what it emits, so stale graphs are rebuilt. */
const GRAPH_FORMAT = 14;

/** `$CODEFUDGE_CACHE`, else `$XDG_CACHE_HOME/codefudge`, else `~/.cache/codefudge`. */
export function cacheRoot(): string {
  if (process.env.CODEFUDGE_CACHE) return process.env.CODEFUDGE_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'codefudge');
}

export function graphKey(parts: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify({ format: GRAPH_FORMAT, parts }))
    .digest('hex')
    .slice(0, 24);
}

/** The path of the compiled ONNX model for `parts`, building and writing it on a cache miss. */
export function compiledGraph(parts: unknown, build: () => Graph): string {
  const dir = join(cacheRoot(), 'graphs', graphKey(parts));
  const model = join(dir, 'model.onnx');
  if (existsSync(model)) return model;
  return writeOnnxModel(build(), dir);
}
