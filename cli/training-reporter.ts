import type { TrainProgress } from '../finetune/index.js';
import { formatDuration } from '../eval/index.js';

/**
 * Shows a training run: on a terminal one line redrawn in place (bar, loss, tokens/s, ETA);
 * elsewhere (logs, CI) a plain line every 10 s and at each evaluation, so a background run stays readable.
 */
export function trainingReporter(label: string, stream: NodeJS.WriteStream = process.stderr) {
  const live = !!stream.isTTY;
  let lastLine = 0;
  let drawn = false;
  const text = (p: TrainProgress) => {
    const width = 24;
    const filled = Math.round((width * p.step) / p.totalSteps);
    const evalPart = p.evalLoss !== undefined ? ` eval ${p.evalLoss.toFixed(4)}` : '';
    return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)}${evalPart} lr ${p.lr.toExponential(2)} ${Math.round(p.tokensPerSecond)} tok/s ETA ${formatDuration(p.etaSeconds)}`;
  };
  return {
    progress(p: TrainProgress) {
      if (live) {
        stream.write(`\r${text(p)}\x1b[K`);
        drawn = true;
        return;
      }
      const now = performance.now();
      if (p.evalLoss !== undefined || p.step === p.totalSteps || now - lastLine > 10_000) {
        lastLine = now;
        stream.write(text(p) + '\n');
      }
    },
    log(line: string) {
      if (drawn) stream.write('\n');
      drawn = false;
      stream.write(line + '\n');
    },
    finish() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
