// Seconds per optimizer step, measured by running a few real steps (on a throw-away copy of the
// run's set-up), so a time budget becomes a number of steps.
import type { SessionOptions } from '../../engine/index.js';
import type { TrainExample } from './batching.js';
import { TrainLoop } from './train-loop.js';
import type { TrainTarget } from './train-target.js';

export interface ProbeOptions {
  target: TrainTarget;
  train: readonly TrainExample[];
  batchSize: number;
  gradAccum: number;
  lr: number;
  seed: number;
  session?: SessionOptions;
}

/** A step slower than this is timed once; faster ones twice. */
const SLOW_STEP_SECONDS = 2;

/** Runs one untimed step (first-run allocations), then times one or two more. */
export async function secondsPerStep(o: ProbeOptions): Promise<number> {
  const loop = await TrainLoop.create({
    target: o.target,
    train: o.train,
    steps: 3,
    batchSize: o.batchSize,
    gradAccum: o.gradAccum,
    lr: o.lr,
    seed: o.seed,
    session: o.session,
  });
  try {
    await loop.run({ untilStep: 1 });
    let t = performance.now();
    await loop.run({ untilStep: 2 });
    const one = (performance.now() - t) / 1000;
    if (one >= SLOW_STEP_SECONDS) return one;
    t = performance.now();
    await loop.run({ untilStep: 3 });
    return (one + (performance.now() - t) / 1000) / 2;
  } finally {
    await loop.close();
  }
}
