// Examples to micro-batches: right-padded rows, padding masked out of attention and labels.
import { UserError } from '../../common/index.js';
import { type TrainingBatch } from '../../engine/index.js';

const IGNORE = -100;

/** A token sequence to learn; labels aligned with ids (-100: not predicted), default every token. */
export interface TrainExample {
  ids: readonly number[];
  labels?: readonly number[];
}

/** Checks every example can contribute to the loss (some label after the first token). */
export function checkExamples(examples: readonly TrainExample[], vocabSize: number, what: string): void {
  if (examples.length === 0) throw new UserError(`no ${what} examples`);
  examples.forEach((e, i) => {
    if (e.labels && e.labels.length !== e.ids.length)
      throw new UserError(`${what} example ${i} has ${e.ids.length} ids but ${e.labels.length} labels`);
    const bad = e.ids.find((t) => !Number.isInteger(t) || t < 0 || t >= vocabSize);
    if (bad !== undefined) throw new UserError(`${what} example ${i} has token id ${bad}, not in the model's vocabulary of ${vocabSize}`);
    const labels = e.labels ?? e.ids;
    if (!labels.some((l, p) => p > 0 && l !== IGNORE))
      throw new UserError(`${what} example ${i} has nothing to predict (needs 2 tokens and a label after the first)`);
  });
}

/** Pads `examples` on the right to the longest one. */
export function collate(examples: readonly TrainExample[], padId = 0): TrainingBatch & { tokens: number } {
  const seq = Math.max(...examples.map((e) => e.ids.length));
  const pad = (row: readonly number[], fill: number) => [...row, ...new Array<number>(seq - row.length).fill(fill)];
  return {
    ids: examples.map((e) => pad(e.ids, padId)),
    labels: examples.map((e) => pad(e.labels ?? e.ids, IGNORE)),
    attention: examples.map((e) => pad(new Array<number>(e.ids.length).fill(1), 0)),
    tokens: examples.reduce((s, e) => s + e.ids.length, 0),
  };
}
