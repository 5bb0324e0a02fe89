/**
 * Training: the synthetic corpus, feature cache, optimizer and schedule, trainer, metrics,
 * checkpoints, reports and the demo.
 * @module
 */
export * from './synthetic.js';
export * from './features.js';
export * from './optimizer.js';
export * from './schedule.js';
export * from './trainer.js';
export * from './metrics.js';
export * from './checkpoint.js';
export * from './report.js';
export * from './demo.js';
export * from './finetune.js';
