// Run by adapt-write-errors.test.ts inside a private mount namespace, on a file system that is full
// or read-only: calls each writer `adapt` uses and prints what it threw, one JSON line per writer.
import { join } from 'node:path';
import { AtomicJsonlWriter, UserError, writeTextAtomic } from '../../common/index.js';
import { defaultLoraSpec, makeLoraAdapter, writePeftAdapter } from '../../engine/index.js';
import { CHECKPOINT_DIR, saveCheckpoint, TRAINING_LOG } from '../../finetune/index.js';
import { AdaptLock } from '../../finetune/adapt/lock.js';
import { keepOutOfGit } from '../../finetune/adapt/output-folder.js';
import { writePlan, type RunPlan } from '../../finetune/adapt/run-plan.js';

const root = process.argv[2];
const out = join(root, 'adapter');
const ckpt = join(out, CHECKPOINT_DIR);
const values = new Map([['base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', new Float32Array(64)]]);

const writers: Record<string, () => void> = {
  lock: () => AdaptLock.acquire(out, '/repo').release(),
  gitignore: () => keepOutOfGit(root),
  plan: () => writePlan(ckpt, { format: 1, kind: 'full', head: 'abc', since: null } as RunPlan),
  checkpoint: () =>
    saveCheckpoint(ckpt, {
      state: { step: 1, data: { epoch: 0, index: 8 }, seed: 0, adamStep: 1, losses: [1], evalLosses: [], setup: 'x' },
      values,
      moments: new Map(),
    }),
  adapter: () =>
    writePeftAdapter(
      out,
      makeLoraAdapter(
        defaultLoraSpec({ r: 2, targets: ['q_proj'] }),
        'base',
        new Map([[[...values.keys()][0], { shape: [2, 32], data: values.get([...values.keys()][0])! }]]),
        {
          format: 1,
        },
      ),
    ),
  'training log': () => writeTextAtomic(join(out, TRAINING_LOG), `${JSON.stringify({ loss_curve: [1, 0.5] })}\n`),
  jsonl: () => {
    const w = new AtomicJsonlWriter(join(root, 'export', 'train.jsonl'));
    w.write({ text: 'x'.repeat(100) });
    w.commit();
  },
};

for (const [name, write] of Object.entries(writers)) {
  try {
    write();
    console.log(JSON.stringify({ name, ok: true }));
  } catch (e) {
    console.log(JSON.stringify({ name, user: e instanceof UserError, message: e instanceof UserError ? e.message : (e as Error).stack }));
  }
}
