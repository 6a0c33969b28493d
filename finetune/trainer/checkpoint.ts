// Training checkpoints: trainable tensors and AdamW moments in a safetensors file, and the rest of
// the state (step, data position, seed, loss history) in checkpoint.json, written last: it names
// the tensor file, so a kill at any moment leaves the previous checkpoint whole.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SafetensorsFile, writeSafetensors, type TensorToWrite } from '../../engine/index.js';
import { makeFolder, UserError, writeTextAtomic } from '../../common/index.js';
import type { AdamMoments } from './adamw.js';
import type { DataPosition } from './data-order.js';

export const CHECKPOINT_FILE = 'checkpoint.json';
const FORMAT = 1;

export interface TrainState {
  /** Optimizer steps completed. */
  step: number;
  data: DataPosition;
  /** Every random choice of the run (data order, dropout masks) is a function of this seed and the step. */
  seed: number;
  /** AdamW's step counter (equal to `step` unless a run changed optimizers). */
  adamStep: number;
  losses: number[];
  evalLosses: { step: number; loss: number }[];
  /** Identifies the run's set-up; resuming under another set-up is refused. */
  setup: string;
}

export interface Checkpoint {
  state: TrainState;
  values: Map<string, Float32Array>;
  moments: Map<string, AdamMoments>;
}

const tensorFile = (step: number) => `state-${String(step).padStart(8, '0')}.safetensors`;

export function saveCheckpoint(dir: string, ckpt: Checkpoint): void {
  makeFolder(dir);
  const file = tensorFile(ckpt.state.step);
  const tensors: TensorToWrite[] = [];
  for (const [name, data] of ckpt.values) {
    tensors.push({ name: `param.${name}`, dtype: 'F32', shape: [data.length], data });
    const mom = ckpt.moments.get(name);
    if (mom) {
      tensors.push({ name: `adam_m.${name}`, dtype: 'F32', shape: [data.length], data: mom.m });
      tensors.push({ name: `adam_v.${name}`, dtype: 'F32', shape: [data.length], data: mom.v });
    }
  }
  writeSafetensors(path.join(dir, file), tensors, { format: 'codefudge-checkpoint' });
  writeTextAtomic(path.join(dir, CHECKPOINT_FILE), `${JSON.stringify({ format: FORMAT, tensors: file, ...ckpt.state })}\n`);
  for (const old of fs.readdirSync(dir)) {
    if (/^state-\d+\.safetensors$/.test(old) && old !== file) fs.rmSync(path.join(dir, old), { force: true });
  }
}

/** The checkpoint in `dir`, or undefined when there is none yet. */
export function loadCheckpoint(dir: string): Checkpoint | undefined {
  const pointer = path.join(dir, CHECKPOINT_FILE);
  if (!fs.existsSync(pointer)) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(pointer, 'utf8'));
  } catch (e) {
    throw new UserError(`${pointer} is not valid JSON: ${(e as Error).message}`);
  }
  if (json.format !== FORMAT || typeof json.tensors !== 'string')
    throw new UserError(`${pointer} is not a codefudge checkpoint (format ${FORMAT})`);
  const { format: _f, tensors: file, ...state } = json;
  const st = SafetensorsFile.open(path.join(dir, path.basename(file as string)));
  try {
    const values = new Map<string, Float32Array>();
    const moments = new Map<string, AdamMoments>();
    for (const name of st.names()) {
      if (!name.startsWith('param.')) continue;
      const key = name.slice('param.'.length);
      values.set(key, Float32Array.from(st.float32(name)));
      if (st.has(`adam_m.${key}`))
        moments.set(key, { m: Float32Array.from(st.float32(`adam_m.${key}`)), v: Float32Array.from(st.float32(`adam_v.${key}`)) });
    }
    return { state: state as unknown as TrainState, values, moments };
  } finally {
    st.close();
  }
}
