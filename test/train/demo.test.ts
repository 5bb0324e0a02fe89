// The demo on a reduced configuration: results.json holds every run (condition, fold, seed,
// variant) and its statistics, which are recomputed here from those runs; report.html holds the
// table, the interval chart, the loss curves, the PCA pictures and the confusion matrices.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runDemo, summarize, type DemoResults } from '../../src/commands/demo.js';
import { mean } from '../../src/report/stats.js';

describe('demo', () => {
  it('demo: speaker folds × variants on one condition; the statistics in results.json follow from its runs', async () => {
    const out = mkdtempSync(join(tmpdir(), 'demo-'));
    const cache = mkdtempSync(join(tmpdir(), 'demo-cache-'));
    await runDemo({ conditions: ['acted'], size: 80, epochs: 2, folds: 2, seeds: 1, variants: ['crab', 'none'], out, cacheDir: cache, quiet: true });
    const r = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as DemoResults;
    expect(r.runs).toHaveLength(4); // 1 condition × 2 folds × 2 variants × 1 seed
    for (const v of ['crab', 'none']) {
      const runs = r.runs.filter((x) => x.variant === v);
      expect(runs.flatMap((x) => x.testSpeakers).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `spk0${i}`)); // every speaker tested once
      for (const x of runs) expect(x.testSpeakers).not.toContain(x.devSpeaker);
      expect(r.summary.acted![v]!.macroF1.mean).toBeCloseTo(mean(runs.map((x) => x.macroF1)), 12);
      expect(r.summary.acted![v]!.macroF1.n).toBe(2);
    }
    // Everything derived is recomputed from the runs alone and must match the file.
    expect(JSON.parse(JSON.stringify(summarize(r.runs, r.settings.variants!)))).toEqual({ summary: r.summary, comparisons: r.comparisons });
    expect(r.comparisons.acted!.map((c) => [c.variant, c.metric])).toEqual([['none', 'macroF1'], ['none', 'uar']]);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const s of ['What this shows, and what it does not', 'Crab − variant, macro-F1 (paired, 95% interval)', 'sign test', 'Macro-F1 with 95% intervals', 'contrastive: fusion', 'PCA', 'with MLCS: speech_pooled', 'without: fusion', 'true ↓ / predicted →']) expect(html, s).toContain(s);
    expect(html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(13); // interval chart, 2 curves, 10 PCA plots, confusion
  }, 240_000);
});
