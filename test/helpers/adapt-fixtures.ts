// Shared by the adapt tests: a tiny model, and a repository whose files follow one learnable
// pattern (accessor methods), so training on its history must lower the held-out loss.
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AdaptOptions } from '../../finetune/index.js';
import { makeTinyModel } from './tiny-model.js';
import { ScriptedRepo } from './scripted-repo.js';

export const BIN = resolve('bin/codefudge.js');

const NAMES = [
  'name',
  'size',
  'color',
  'width',
  'height',
  'depth',
  'speed',
  'owner',
  'title',
  'label',
  'value',
  'count',
  'price',
  'weight',
  'score',
  'level',
  'limit',
  'index',
  'shape',
  'style',
  'phase',
  'order',
  'state',
  'scale',
];

/** A class with accessors for two names: what every commit of the pattern repository adds. */
export function patternFile(i: number): string {
  const names = [NAMES[i % NAMES.length], NAMES[(i * 7 + 3) % NAMES.length]];
  return `class Thing${i}:\n${names.map((n) => `    def get_${n}(self):\n        return self._${n}\n`).join('\n')}`;
}

export function addPatternCommits(repo: ScriptedRepo, from: number, count: number): string[] {
  const shas: string[] = [];
  for (let i = from; i < from + count; i++) {
    repo.write(`pkg/thing${i}.py`, patternFile(i));
    shas.push(repo.commit(`Add Thing${i}`));
  }
  return shas;
}

export function patternRepo(commits: number): ScriptedRepo {
  const repo = new ScriptedRepo('cf-adapt-');
  repo.write('README.md', '# things\n');
  addPatternCommits(repo, 0, commits);
  return repo;
}

/** A temp root with its own graph cache (set in this process and passed to child processes). */
export function testRoot(prefix: string): { root: string; env: NodeJS.ProcessEnv } {
  const root = fs.mkdtempSync(join(tmpdir(), prefix));
  process.env.CODEFUDGE_CACHE = join(root, 'cache');
  return { root, env: { ...process.env, CODEFUDGE_CACHE: join(root, 'cache') } };
}

export function tinyModel(dir: string, seed = 3): string {
  // Tied embeddings give the frozen head a wide logit range; an untied random head caps what LoRA can fit.
  makeTinyModel(dir, { architecture: 'Qwen2ForCausalLM', layers: 2, hidden: 32, heads: 4, kvHeads: 2, ffn: 48, seed, tied: true });
  return dir;
}

/** Settings that train the tiny model in about a second. */
export const FAST: Partial<AdaptOptions> = {
  steps: 40,
  lr: 1e-2,
  seq: 128,
  batch: 8,
  gradAccum: 1,
  fimLoss: 'all',
  split: { holdoutPercent: 20 },
  session: { threads: 1 },
};

/** The same settings as CLI flags. */
export const FAST_FLAGS = [
  '--steps',
  '40',
  '--lr',
  '1e-2',
  '--seq',
  '128',
  '--batch',
  '8',
  '--accum',
  '1',
  '--fim-loss',
  'all',
  '--holdout',
  '20%',
  '--threads',
  '1',
];
