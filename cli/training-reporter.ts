import { ProgressBar } from './progress-bar.js';
import type { TrainProgress } from '../finetune/index.js';

/** A training run on stderr: the shared progress bar with loss, the latest eval loss (and its step), lr and tokens/s; info lines between. */
export function trainingReporter(label: string) {
  const bar = new ProgressBar({ unit: 'steps', logEveryMs: 10_000 });
  let active = false;
  // Kept between evaluations: a bar logged every few seconds (no TTY) would rarely land on an eval step.
  let lastEval: string | undefined;
  const end = () => {
    if (active) bar.finish(bar.line());
    active = false;
  };
  return {
    progress(p: TrainProgress) {
      if (!active) bar.start(label, p.totalSteps, p.step - 1);
      active = true;
      if (p.evalLoss !== undefined) lastEval = `${p.evalLoss.toFixed(4)}@${p.step}`;
      bar.update(p.step, {
        loss: p.loss.toFixed(4),
        ...(lastEval !== undefined ? { eval: lastEval } : {}),
        lr: p.lr.toExponential(2),
        'tok/s': p.tokensPerSecond.toFixed(0),
      });
    },
    log(line: string) {
      end();
      process.stderr.write(line + '\n');
    },
    finish: end,
  };
}
