// A run on Hugging Face encoders (the WavLM-base and RoBERTa test models as HF folders), served
// by `crab serve --run`: the page fetches the checkpoints by HTTP byte ranges, header first, and
// predicts as `crab predict` does in Node; a checkpoint with a tensor over the adapter's binding
// limit is refused by name before any of its tensor data is fetched.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../src/commands/serve.js';
import { loadManifest } from '../../src/data/corpora.js';
import { corpusFeatures } from '../../src/data/feature_cache.js';
import { SYNTHETIC_LABELS, syntheticCorpus } from '../../src/data/synthetic.js';
import { encodeWav16 } from '../../src/audio/audio.js';
import { train } from '../../src/train/trainer.js';
import { predictOne } from '../../src/train/run.js';
import { tinyRobertaFolder, writeManifest, fixtures } from '../corpus-fixture.js';
import { openPage, predictInPage } from './browser.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'crab-hf-run-'));
let server: Awaited<ReturnType<typeof startServer>>;
let runDir: string;
const wavlm = join(fixtures, 'wavlm', 'base');

beforeAll(async () => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  writeManifest(dir, [], 40);
  const roberta = tinyRobertaFolder(dir);
  const ds = loadManifest(join(dir, 'manifest.csv'), { labels: [...SYNTHETIC_LABELS] });
  const { features } = await corpusFeatures(ds, { wavlm, roberta, cacheDir: join(dir, 'cache'), quiet: true });
  runDir = join(dir, 'run');
  await train(features, ds.labels, { crab: { hidden: 8, fusionHidden: 8, contrastiveDim: 8 }, epochs: 1, batchSize: 8 },
    { runDir, quiet: true, encoders: { kind: 'hf', wavlm, roberta, maxSeconds: 12, normalize: false } });
  server = await startServer({ port: 0, cacheDir: join(dir, 'cache'), run: runDir, log: () => undefined });
}, 300_000);
afterAll(async () => {
  await server?.close();
});

describe('a run on Hugging Face encoders in the browser', () => {
  it('browser: the page reads checkpoints by byte ranges, header first, predicts as crab predict does, and refuses an oversized tensor before fetching it', async () => {
    const u = syntheticCorpus({ condition: 'acted', size: 40, seed: 3 })[2]!;
    const wav = join(dir, 'u.wav');
    writeFileSync(wav, encodeWav16(u.audio!, 16000));
    const node = await predictOne(runDir, wav, u.text);
    const { browser, page, errors } = await openPage(server.url);
    try {
      // Header first: opening WavLM's checkpoint reads only its header.
      const size = statSync(join(wavlm, 'model.safetensors')).size;
      const r = await page.evaluate(async (a) => {
        const crab = await (new Function('u', 'return import(u)') as (u: string) => Promise<any>)('/crab.js');
        await crab.initDevice();
        let read = 0;
        const base = await crab.urlSource(`${a.url}api/run/encoders/wavlm/model.safetensors`);
        const counted = { size: base.size, read: async (b: number, e: number) => ((read += e - b), base.read(b, e)) };
        const f = await crab.SafetensorsFile.openAsync(counted, 'wavlm/model.safetensors');
        const afterHeader = read;
        let refused = '';
        try {
          await crab.fetchedFiles('wavlm', ['config.json', 'model.safetensors'], async (n: string) => (n === 'model.safetensors' ? counted : crab.urlSource(`${a.url}api/run/encoders/wavlm/${n}`)), { maxBinding: 4096 });
        } catch (e) {
          refused = (e as Error).message;
        }
        const afterRefusal = read;
        await f.fetchTensors();
        return { names: f.names().length, afterHeader, afterRefusal, all: read, first: Array.from(f.float32(f.names()[0]).slice(0, 4)) as number[], firstName: f.names()[0] as string, refused };
      }, { url: server.url });
      expect(r.names).toBeGreaterThan(20);
      expect(r.afterHeader).toBeLessThan(0.05 * size);
      expect(r.refused).toMatch(/wavlm\/model\.safetensors: .* is \d+\.\d MiB, more than this adapter's largest storage binding .*nothing of it was downloaded/);
      expect(r.afterRefusal - r.afterHeader).toBeLessThan(0.05 * size); // the second header only
      expect(r.all - r.afterRefusal).toBeGreaterThan(0.9 * size);
      const { SafetensorsFile } = await import('../../src/model/safetensors.js');
      expect(r.first).toEqual(Array.from(SafetensorsFile.open(join(wavlm, 'model.safetensors')).float32(r.firstName).slice(0, 4)));
      // The app: the run and its encoders from the server, then a prediction.
      await page.waitForFunction(() => !(document.getElementById('predict') as HTMLButtonElement).disabled);
      await predictInPage(page, wav, u.text, node);
      expect(errors, errors.join('\n')).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);
});
