/**
 * Training: the loop (cached features or end to end), optimizer and schedule, run checkpoints,
 * reloading a run, cross-validation and metrics.
 * @module
 */
export * from './optimizer.js';
export * from './schedule.js';
export * from './trainer.js';
export * from './finetune.js';
export * from './run.js';
export * from './cross_validate.js';
export * from './metrics.js';
export * from './run_checkpoint.js';
