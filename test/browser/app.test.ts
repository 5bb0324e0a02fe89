// The browser build in headless Chromium (WebGPU on SwiftShader), served by `crab serve`'s
// server: training steps of the Crab head in the page equal `crab train`'s in Node (lavapipe)
// within 1e-5 relative; the app trains from its button and draws the loss curve and the
// confusion matrix; it predicts a WAV file with a served run as crab predict does (screenshot in
// test-output/browser.png) and shows bad input on the page; without WebGPU it says what to enable.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticFeatures } from '../../src/data/features.js';
import { SYNTHETIC_LABELS, syntheticCorpus, SYNTH_SEED } from '../../src/data/synthetic.js';
import { encodeWav16 } from '../../src/audio/audio.js';
import { predictOne } from '../../src/train/run.js';
import { SYNTHETIC_DEFAULTS } from '../../src/train/config.js';
import { train, trainHead, InterruptedError, type TrainConfig } from '../../src/train/trainer.js';
import { startServer } from '../../src/commands/serve.js';
import { openPage, chromiumPath, predictInPage } from './browser.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheDir = mkdtempSync(join(tmpdir(), 'crab-browser-'));
const SIZE = 64;
const STEPS = 6;
const CFG: Partial<TrainConfig> = { ...SYNTHETIC_DEFAULTS, epochs: 2, batchSize: 8 };
let server: Awaited<ReturnType<typeof startServer>>;

/** A one-epoch synthetic run to predict with (trained once per file). */
let runOnce: Promise<string> | null = null;
function trainedRun(): Promise<string> {
  runOnce ??= (async () => {
    const runDir = join(cacheDir, 'run-predict');
    const features = await syntheticFeatures({ condition: 'acted', size: SIZE, cacheDir, quiet: true });
    await train(features, [...SYNTHETIC_LABELS], { ...CFG, epochs: 1 }, { runDir, quiet: true, encoders: { kind: 'synthetic', condition: 'acted', size: SIZE } });
    return runDir;
  })();
  return runOnce;
}

beforeAll(async () => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  chromiumPath(); // a clear error when Chromium is missing
  server = await startServer({ port: 0, cacheDir, log: () => undefined });
}, 180_000);
afterAll(async () => {
  await server?.close();
});

describe('browser', () => {
  it(`browser: ${STEPS} training steps of the Crab head in Chromium equal crab train's in Node within 1e-5`, async () => {
    // Node: crab train's loop (run folder, log) and the in-memory loop the page runs.
    const features = await syntheticFeatures({ condition: 'acted', size: SIZE, cacheDir, quiet: true });
    const runDir = join(cacheDir, 'run');
    await expect(train(features, [...SYNTHETIC_LABELS], CFG, { runDir, quiet: true, stopAfterSteps: STEPS })).rejects.toThrow(InterruptedError);
    const fitLosses = readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; loss: number }).filter((r) => r.type === 'step').map((r) => r.loss);
    expect(fitLosses).toHaveLength(STEPS);
    const { transferStats } = await import('../../src/tensor/runtime.js');
    const seen: Array<[number, number]> = [];
    const reads0 = transferStats().reads;
    const { losses: nodeLosses } = await trainHead(features, [...SYNTHETIC_LABELS], CFG, { maxSteps: STEPS, onStep: (step, loss) => void seen.push([step, loss]) });
    expect(nodeLosses).toEqual(fitLosses); // same adapter, same steps: identical
    // Losses are read a few steps at a time (here: at the epoch's end and at the stop), as crab
    // train reads them, not once per step; and each step is still reported, in order.
    expect(transferStats().reads - reads0).toBeLessThan(STEPS);
    expect(seen).toEqual(nodeLosses.map((l, i) => [i + 1, l]));
    // The page: the same features fetched from the server, the same settings.
    const { browser, page, errors } = await openPage(server.url);
    try {
      const got = await page.evaluate(async (o) => {
        const app = (window as unknown as { crabApp: { ready: Promise<void>; train(o: unknown): Promise<{ losses: number[] }> } }).crabApp;
        await app.ready;
        return (await app.train(o)).losses;
      }, { condition: 'acted', size: SIZE, maxSteps: STEPS, config: CFG });
      expect(errors, errors.join("\n")).toEqual([]);
      expect(await page.textContent('#adapter')).toMatch(/WebGPU adapter: .*swiftshader/i);
      expect(got).toHaveLength(STEPS);
      got.forEach((l, i) => expect(Math.abs(l - nodeLosses[i]!) / Math.abs(nodeLosses[i]!), `step ${i + 1}: page ${l}, node ${nodeLosses[i]}`).toBeLessThan(1e-5));
      expect(got).not.toEqual(got.map(() => got[0])); // the loss moves
    } finally {
      await browser.close();
    }
  }, 300_000);

  it('browser: the app trains from its button, draws the loss curve and the confusion matrix', async () => {
    const { browser, page, errors } = await openPage(server.url);
    try {
      await page.waitForFunction(() => !document.getElementById('adapter')!.textContent!.startsWith('looking'));
      await page.selectOption('#condition', 'acted');
      await page.fill('#size', String(SIZE));
      await page.fill('#epochs', '2');
      await page.click('#train');
      await page.waitForSelector('#status[data-done="true"]', { timeout: 240_000 });
      expect(errors, errors.join("\n")).toEqual([]);
      const steps = Number(/done: (\d+) steps/.exec((await page.textContent('#status'))!)![1]);
      expect(steps).toBeGreaterThan(2);
      const points = (await page.getAttribute('#loss-path', 'd'))!.split(/[ML]/).filter(Boolean);
      expect(points).toHaveLength(steps); // one point per step
      expect(points.every((pt) => /^\d+(\.\d+)?,\d+(\.\d+)?$/.test(pt))).toBe(true);
      expect(await page.locator('table.confusion td').count()).toBe(SYNTHETIC_LABELS.length ** 2);
      expect(await page.textContent('#scores')).toMatch(/^test: WA \d/);
    } finally {
      await browser.close();
    }
  }, 300_000);

  it('browser: the app predicts a WAV file with a served run, as crab predict does in Node, and a microphone recording; bad input shows a message (screenshot)', async () => {
    const runDir = await trainedRun();
    const u = syntheticCorpus({ condition: 'acted', size: SIZE, seed: SYNTH_SEED })[3]!;
    const wav = join(cacheDir, 'utterance.wav');
    writeFileSync(wav, encodeWav16(u.audio!, 16000));
    const node = await predictOne(runDir, wav, u.text);
    await expect(startServer({ port: 0, cacheDir, run: join(cacheDir, 'nothing-here') })).rejects.toThrow(/has no best\/ checkpoint/);
    const withRun = await startServer({ port: 0, cacheDir, run: runDir, log: () => undefined });
    // Chromium's fake microphone (a beep) stands in for a real one.
    const { browser, page, errors } = await openPage(withRun.url, ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream']);
    try {
      await page.waitForFunction(() => !(document.getElementById('predict') as HTMLButtonElement).disabled);
      expect(await page.textContent('#run-info')).toContain(runDir);
      await predictInPage(page, wav, u.text, node);
      expect(await page.textContent('#prediction b')).toBe(node.label);
      expect(await page.locator('#prediction .bar').count()).toBe(SYNTHETIC_LABELS.length);
      expect(await page.textContent('#attention')).toMatch(/cross-attention: speech over \d+ frames .* attending to \d+ tokens/);
      expect(errors, errors.join('\n')).toEqual([]);
      mkdirSync(join(root, 'test-output'), { recursive: true });
      await page.screenshot({ path: join(root, 'test-output', 'browser.png'), fullPage: true });
      // The microphone: 4 s recorded, decoded by the browser, resampled and classified.
      await page.evaluate(() => document.getElementById('prediction')!.removeAttribute('data-probabilities'));
      await page.click('#record');
      await page.waitForSelector('#prediction[data-probabilities], #error:not([hidden])', { timeout: 120_000 });
      expect(await page.isHidden('#error'), (await page.textContent('#error')) ?? '').toBe(true);
      const mic = JSON.parse((await page.getAttribute('#prediction', 'data-probabilities'))!) as Record<string, number>;
      expect(Object.values(mic).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      // A file that is not audio: a visible message, not only a console error.
      const junk = join(cacheDir, 'notes.txt');
      writeFileSync(junk, 'this is not audio');
      await page.setInputFiles('#audio', junk);
      await page.click('#predict');
      await page.waitForSelector('#error:not([hidden])');
      expect(await page.textContent('#error')).toMatch(/notes\.txt: not audio this browser can decode/);
    } finally {
      await browser.close();
      await withRun.close();
    }
  }, 300_000);

  it('browser: a run folder opened from disk predicts as crab predict does; a folder without a checkpoint shows a message', async () => {
    const runDir = await trainedRun();
    const u = syntheticCorpus({ condition: 'acted', size: SIZE, seed: SYNTH_SEED })[5]!;
    const wav = join(cacheDir, 'utterance5.wav');
    writeFileSync(wav, encodeWav16(u.audio!, 16000));
    const node = await predictOne(runDir, wav, u.text);
    const { browser, page, errors } = await openPage(server.url);
    try {
      await page.waitForFunction(() => !document.getElementById('adapter')!.textContent!.startsWith('looking'));
      const empty = join(cacheDir, 'empty-run');
      mkdirSync(join(empty, 'notes'), { recursive: true });
      writeFileSync(join(empty, 'notes', 'readme.txt'), 'no checkpoint here');
      await page.setInputFiles('#run-folder', empty);
      await page.waitForSelector('#error:not([hidden])');
      expect(await page.textContent('#error')).toMatch(/empty-run has no best\/ checkpoint/);
      await page.setInputFiles('#run-folder', runDir);
      await page.waitForFunction(() => document.getElementById('run-info')!.textContent!.includes('from this computer'));
      await predictInPage(page, wav, u.text, node);
      expect(errors, errors.join('\n')).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);

  it('browser without WebGPU: the page says what to enable, visibly, and the button is off', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-features=Vulkan,WebGPU'], headless: true });
    try {
      const page = await browser.newPage();
      await page.goto(server.url);
      await page.waitForSelector('#error:not([hidden])');
      expect(await page.textContent('#error')).toMatch(/no WebGPU in this browser .*--enable-unsafe-webgpu/);
      expect(await page.isDisabled('#train')).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
