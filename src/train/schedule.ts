/**
 * Learning-rate schedules as pure functions of the step: a factor that multiplies each group's
 * base learning rate.
 * @module
 */

/** Cosine annealing from 1 to `floor/base` over `total` steps, after `warmup` linear steps. */
export interface CosineSchedule {
  total: number;
  warmup?: number;
  /** The smallest learning rate, absolute (as torch's `eta_min`). */
  floor?: number;
}

/**
 * The learning rate at `step` (0-based) for base rate `base`: linear warm-up from base/warmup,
 * then `floor + (base − floor)·(1 + cos(π·t/T))/2` — torch's `CosineAnnealingLR` closed form.
 */
export function cosineLr(base: number, step: number, s: CosineSchedule): number {
  const warm = s.warmup ?? 0;
  const floor = s.floor ?? 0;
  if (step < warm) return (base * (step + 1)) / warm;
  const T = Math.max(1, s.total - warm);
  const t = Math.min(step - warm, T);
  return floor + ((base - floor) * (1 + Math.cos((Math.PI * t) / T))) / 2;
}
