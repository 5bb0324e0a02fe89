/**
 * Data: utterances, the synthetic corpus and the real-corpus loaders, the encoders behind
 * features, the feature cache, batching and embedding extraction.
 * @module
 */
export * from './utterance.js';
export * from './synthetic.js';
export * from './corpora.js';
export * from './encoders.js';
export * from './features.js';
export * from './feature_cache.js';
export * from './probe.js';
export * from './batch.js';
export * from './embed.js';
