// Learning-rate schedule: linear warm-up, then cosine decay, as transformers'
// get_cosine_schedule_with_warmup (plus an optional floor).

export interface ScheduleOptions {
  peakLr: number;
  warmupSteps: number;
  totalSteps: number;
  /** The decay ends at peakLr * minLrRatio instead of 0. */
  minLrRatio?: number;
}

/** The learning rate of optimizer step `step` (0-based): step/warmup during warm-up, then half a cosine. */
export function cosineWithWarmup(opts: ScheduleOptions, step: number): number {
  const { peakLr, warmupSteps, totalSteps } = opts;
  const floor = opts.minLrRatio ?? 0;
  if (step < warmupSteps) return (peakLr * step) / Math.max(1, warmupSteps);
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return peakLr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
