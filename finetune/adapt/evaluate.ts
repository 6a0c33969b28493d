// Mean loss of fixed example sets under given LoRA values, on a loss-only graph opened for the
// occasion and released after, so it never holds the frozen weights beside the training session.
import { TrainingSession, type SessionOptions } from '../../engine/index.js';
import { collate, type TrainExample } from '../trainer/batching.js';
import type { TrainTarget } from '../trainer/train-target.js';

/** Mean cross-entropy over every labelled token of each set; null for an empty set. */
export async function meanLosses(
  target: TrainTarget,
  values: ReadonlyMap<string, Float32Array>,
  sets: ReadonlyArray<readonly TrainExample[]>,
  batchSize: number,
  session?: SessionOptions,
): Promise<Array<number | null>> {
  const s = await TrainingSession.open({ ...target.graph, gradients: false }, session);
  try {
    const out: Array<number | null> = [];
    for (const set of sets) {
      let lossSum = 0;
      let count = 0;
      for (let i = 0; i < set.length; i += batchSize) {
        const r = await s.run(collate(set.slice(i, i + batchSize)), values);
        lossSum += r.lossSum;
        count += r.count;
      }
      out.push(count ? lossSum / count : null);
    }
    return out;
  } finally {
    await s.release();
  }
}
