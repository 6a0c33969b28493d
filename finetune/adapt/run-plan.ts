// An interrupted run's plan, kept beside its checkpoint (run.json): the commit its data came from,
// its resolved settings (steps fixed once, even under a time budget) and the losses before
// training. Running `adapt` again rebuilds the same data and resumes the same run.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeFolder, UserError, writeTextAtomic } from '../../common/index.js';
import type { BaseModelRef } from './adapter-meta.js';
import type { FimLoss } from './fim-sequence.js';

export const PLAN_FILE = 'run.json';

/** The time split as JSON can hold it. */
export type SplitSetting = { cutoff: string } | { holdoutPercent: number };

export interface AdaptSettings {
  rank: number;
  alpha: number;
  targets: string[];
  dropout: number;
  lr: number;
  batch: number;
  gradAccum: number;
  seq: number;
  steps: number;
  warmup: number;
  seed: number;
  split: SplitSetting;
  include: string[] | null;
  exclude: string[];
  commitDiffShare: number;
  replayShare: number;
  fimLoss: FimLoss;
  maxExamples: number;
}

export interface Losses {
  train: number | null;
  heldout: number | null;
}

export interface RunPlan {
  format: 1;
  kind: 'full' | 'refresh';
  /** The commit whose history the run's data comes from. */
  head: string;
  /** A refresh's starting point: the commit the previous adapter was trained through. */
  since: string | null;
  baseModel: BaseModelRef;
  settings: AdaptSettings;
  before: Losses;
  started: string;
  /** Training seconds spent by earlier, interrupted invocations. */
  trainSeconds: number;
}

export function readPlan(dir: string): RunPlan | undefined {
  const file = path.join(dir, PLAN_FILE);
  if (!fs.existsSync(file)) return undefined;
  let plan: RunPlan;
  try {
    plan = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`${file} is not valid JSON (${(e as Error).message}); pass --from-scratch to discard the interrupted run`);
  }
  if (plan?.format !== 1 || typeof plan.head !== 'string' || typeof plan.settings !== 'object') {
    throw new UserError(`${file} is not a codefudge adapt plan; pass --from-scratch to discard the interrupted run`);
  }
  return plan;
}

export function writePlan(dir: string, plan: RunPlan): void {
  makeFolder(dir);
  writeTextAtomic(path.join(dir, PLAN_FILE), `${JSON.stringify(plan, null, 2)}\n`);
}

const FLAG: Record<keyof AdaptSettings, string> = {
  rank: '--rank',
  alpha: '--alpha',
  targets: '--targets',
  dropout: '--dropout',
  lr: '--lr',
  batch: '--batch',
  gradAccum: '--accum',
  seq: '--seq',
  steps: '--steps',
  warmup: '--warmup',
  seed: '--seed',
  split: '--cutoff/--holdout',
  include: '--include',
  exclude: '--exclude',
  commitDiffShare: '--mix',
  replayShare: '--replay',
  fimLoss: '--fim-loss',
  maxExamples: '--max-examples',
};

/** The options given now that differ from the plan's, as "--lr 0.001 (was 0.0002)". */
export function conflicts(plan: AdaptSettings, given: Partial<AdaptSettings>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(given) as Array<[keyof AdaptSettings, unknown]>) {
    if (value === undefined) continue;
    const had = plan[key];
    if (JSON.stringify(value) !== JSON.stringify(had)) out.push(`${FLAG[key]} ${JSON.stringify(value)} (was ${JSON.stringify(had)})`);
  }
  return out;
}
