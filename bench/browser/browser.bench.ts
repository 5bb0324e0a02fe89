// `npm run bench -- browser`: the same two workloads in Node (Dawn on this machine's adapter) and
// in headless Chromium (the page's WebGPU; SwiftShader here), in one run: Crab head training
// steps per second on the synthetic corpus's cached features (batch 32, the demo's head), and a
// WavLM-base-plus-shaped forward (random weights) in audio seconds per second.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromArray, noGrad, tidy } from '../../src/tensor/tensor.js';
import { sync } from '../../src/tensor/runtime.js';
import { deviceInfo } from '../../src/tensor/device.js';
import { syntheticFeatures } from '../../src/data/features.js';
import { SYNTHETIC_LABELS } from '../../src/data/synthetic.js';
import { SYNTHETIC_DEFAULTS } from '../../src/train/config.js';
import { trainHead } from '../../src/train/loop.js';
import { WavLMModel, WAVLM_DEFAULTS } from '../../src/model/wavlm.js';
import { startServer } from '../../src/commands/serve.js';
import { openPage } from '../../test/browser/browser.js';
import { report, type Row } from '../util.js';

const WAVLM = { ...WAVLM_DEFAULTS, hidden_dropout: 0, attention_dropout: 0, feat_proj_dropout: 0, layerdrop: 0, apply_spec_augment: false };

export async function benchBrowser(opts: { quick?: boolean; seconds?: number } = {}): Promise<void> {
  const steps = opts.quick ? 10 : 30;
  const seconds = opts.seconds ?? 2;
  const cacheDir = mkdtempSync(join(tmpdir(), 'crab-bench-browser-'));
  const rows: Row[] = [];
  const cfg = { ...SYNTHETIC_DEFAULTS, epochs: 20 };
  // Node.
  const features = await syntheticFeatures({ condition: 'acted', size: 480, cacheDir, quiet: true });
  await trainHead(features, [...SYNTHETIC_LABELS], cfg, { maxSteps: 2 }); // pipelines compiled
  let t0 = performance.now();
  await trainHead(features, [...SYNTHETIC_LABELS], cfg, { maxSteps: steps });
  const nodeTrain = performance.now() - t0;
  const model = new WavLMModel(WAVLM, 1);
  const wave = fromArray(Float32Array.from({ length: seconds * 16000 }, (_, i) => 0.3 * Math.sin(i * 0.05)), [1, seconds * 16000]);
  const forward = async (): Promise<void> => {
    noGrad(() => tidy(() => model.forward(wave).lastHiddenState));
    await sync();
  };
  await forward();
  t0 = performance.now();
  await forward();
  const nodeWavlm = performance.now() - t0;
  const node = `node (${deviceInfo().name})`;
  // Chromium.
  const server = await startServer({ port: 0, cacheDir, log: () => undefined });
  const { browser, page } = await openPage(server.url);
  try {
    const r = await page.evaluate(async (a) => {
      const crab = await (new Function('u', 'return import(u)') as (u: string) => Promise<any>)('/crab.js');
      await crab.initDevice();
      const bytes = new Uint8Array(await (await fetch('/api/features?condition=acted&size=480')).arrayBuffer());
      const f = crab.featureSetFrom(crab.SafetensorsFile.fromBytes(bytes)).set;
      await crab.trainHead(f, a.labels, a.cfg, { maxSteps: 2 });
      let t = performance.now();
      await crab.trainHead(f, a.labels, a.cfg, { maxSteps: a.steps });
      const train = performance.now() - t;
      const m = new crab.WavLMModel(a.wavlm, 1);
      const w = crab.fromArray(Float32Array.from({ length: a.seconds * 16000 }, (_, i) => 0.3 * Math.sin(i * 0.05)), [1, a.seconds * 16000]);
      const run = async (): Promise<void> => {
        const h = crab.noGrad(() => m.forward(w).lastHiddenState);
        await h.toArray();
        h.dispose();
      };
      await run();
      t = performance.now();
      await run();
      return { train, wavlm: performance.now() - t, adapter: crab.deviceInfo().name };
    }, { labels: [...SYNTHETIC_LABELS], cfg, steps, wavlm: WAVLM, seconds });
    const web = `chromium (${r.adapter})`;
    const head = `Crab head training, ${steps} steps of batch 32 (acted, 480)`;
    const enc = `WavLM-base-plus shapes forward, ${seconds} s of audio`;
    rows.push({ workload: head, impl: node, ms: nodeTrain, rate: steps / (nodeTrain / 1000), unit: 'steps/s' });
    rows.push({ workload: head, impl: web, ms: r.train, rate: steps / (r.train / 1000), unit: 'steps/s' });
    rows.push({ workload: enc, impl: node, ms: nodeWavlm, rate: seconds / (nodeWavlm / 1000), unit: 'audio s/s' });
    rows.push({ workload: enc, impl: web, ms: r.wavlm, rate: seconds / (r.wavlm / 1000), unit: 'audio s/s' });
  } finally {
    await browser.close();
    await server.close();
  }
  report('browser', rows, { adapter: `node: ${deviceInfo().name}; chromium: see rows` });
}
