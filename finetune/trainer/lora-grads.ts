// `inspect lora-grads`: the loss and LoRA gradients of one sequence, for checking against PyTorch/PEFT.
import { attachAdapter, openModelFolder, readPeftAdapter, TrainingSession } from '../../engine/index.js';
import { UserError } from '../../common/index.js';

export interface LoraGrads {
  /** Mean next-token cross-entropy over positions 1..n-1. */
  loss: number;
  /** d loss / d matrix by PEFT key, as nested rows ([r][in] for A, [out][r] for B). */
  grads: Record<string, number[][]>;
}

export async function loraGrads(modelDir: string, adapterDir: string, ids: readonly number[], threads?: number): Promise<LoraGrads> {
  if (ids.length < 2) throw new UserError('--ids needs at least 2 token ids');
  const folder = openModelFolder(modelDir);
  try {
    const attached = attachAdapter(folder.config, readPeftAdapter(adapterDir));
    // PEFT's dropout is off in eval mode; gradients are reported for the deterministic model.
    const session = await TrainingSession.open(
      {
        config: folder.config,
        weights: folder.weights,
        weightsKey: folder.weights.fingerprint(),
        lora: { layout: attached.layout, dropout: 0 },
        gradients: true,
      },
      { threads },
    );
    try {
      const values = new Map(session.trainable.map((t) => [t.name, attached.matrix(t.name)]));
      const row = [...ids];
      const out = await session.run({ ids: [row], labels: [row] }, values);
      const grads: Record<string, number[][]> = {};
      for (const t of session.trainable) {
        const g = out.grads!.get(t.name)!;
        const [rows, cols] = t.shape;
        grads[t.name] = Array.from({ length: rows }, (_, r) => Array.from(g.subarray(r * cols, (r + 1) * cols), (v) => v / out.count));
      }
      return { loss: out.lossSum / out.count, grads };
    } finally {
      await session.release();
    }
  } finally {
    folder.weights.close();
  }
}
