// How long a commit->diff prompt and its diff may be together: the sequence length the adapter
// was trained with (codefudge.json), else the default adapt trains with; never past the model's positions.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CODEFUDGE_META } from '../engine/index.js';
import { DEFAULT_SEQUENCE_LENGTH } from './sequence-format.js';

/** The `seq` an adapter written by `codefudge adapt` was trained with, or undefined. */
export function trainedSequenceLength(adapterDir: string | undefined): number | undefined {
  if (!adapterDir) return undefined;
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(adapterDir, CODEFUDGE_META), 'utf8')) as { settings?: { seq?: unknown } };
    const seq = meta.settings?.seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
  } catch {
    return undefined;
  }
}

export function contextLength(maxPositions: number, adapterDir: string | undefined, asked?: number): number {
  return Math.min(asked ?? trainedSequenceLength(adapterDir) ?? DEFAULT_SEQUENCE_LENGTH, maxPositions);
}
