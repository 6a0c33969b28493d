// `bench lora`: LoRA training throughput on random tokens, all seven projections, and peak memory.
import { defaultLoraSpec, openModelFolder, resolveQuantMode, type QuantMode } from '../engine/index.js';
import { Rng } from '../common/index.js';
import { loraTarget, TrainLoop } from '../finetune/index.js';

export interface BenchLoraOptions {
  model: string;
  batch: number;
  seq: number;
  rank: number;
  steps: number;
  threads?: number;
  /** Untimed steps first (graph warm-up, allocator growth); default 1. */
  warmup?: number;
  /** QLoRA over int4/int8 frozen weights, or none; undefined: the default for the model's size. */
  quant?: QuantMode;
}

export interface BenchLoraResult {
  tokensPerSecond: number;
  /** Mean seconds per optimizer step over the timed steps. */
  secondsPerStep: number;
  /** Peak resident memory of the process. */
  peakRssBytes: number;
  /** Resident memory after each timed step: flat when nothing leaks across steps. */
  rssPerStep: number[];
  losses: number[];
  trainableParameters: number;
  /** The frozen weights' width the run used. */
  quant: QuantMode;
}

export async function benchLora(o: BenchLoraOptions): Promise<BenchLoraResult> {
  const folder = openModelFolder(o.model);
  const warmup = o.warmup ?? 1;
  const total = warmup + o.steps;
  const rng = new Rng(1234);
  const vocab = folder.config.vocabSize;
  const train = Array.from({ length: o.batch * total }, () => ({ ids: Array.from({ length: o.seq }, () => rng.int(vocab)) }));
  const quant = resolveQuantMode(folder.config, o.quant);
  const target = loraTarget(folder, defaultLoraSpec({ r: o.rank, alpha: 2 * o.rank }), undefined, quant);
  const rssPerStep: number[] = [];
  const times: number[] = [];
  let last = 0;
  const loop = await TrainLoop.create({
    target,
    train,
    steps: total,
    batchSize: o.batch,
    lr: 1e-4,
    seed: 0,
    session: { threads: o.threads },
    onProgress: (p) => {
      const now = performance.now();
      if (p.step > warmup) {
        times.push((now - last) / 1000);
        rssPerStep.push(process.memoryUsage.rss());
      }
      last = now;
    },
  });
  try {
    last = performance.now();
    const result = await loop.run();
    const secondsPerStep = times.reduce((a, b) => a + b, 0) / times.length;
    return {
      tokensPerSecond: (o.batch * o.seq) / secondsPerStep,
      secondsPerStep,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      rssPerStep,
      losses: result.losses,
      trainableParameters: [...loop.values.values()].reduce((s, v) => s + v.length, 0),
      quant,
    };
  } finally {
    await loop.close();
    folder.weights.close();
  }
}
