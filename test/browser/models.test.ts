// WavLM and RoBERTa in the page: the test models' files (config.json, model.safetensors,
// vocab.json, merges.txt) handed to the browser build as bytes, loaded by the same code as under
// Node (config schema, safetensors parser, loader, tokenizer), run on the page's WebGPU, and every
// layer compared with the PyTorch fixtures at the model tolerance (as test/models does in Node).
// RoBERTa also loads from a pytorch_model.bin written by torch.save.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../src/commands/serve.js';
import { Case } from '../fixture.js';
import { expectClose, validRows } from '../helpers.js';
import { tinyRobertaFolder, fixtures } from '../corpus-fixture.js';
import { openPage } from './browser.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let server: Awaited<ReturnType<typeof startServer>>;

/** A folder's files as plain arrays (what page.evaluate can carry). */
const folder = (dir: string): Record<string, number[]> =>
  Object.fromEntries(readdirSync(dir).filter((f) => /^(config\.json|model\.safetensors|vocab\.json|merges\.txt)$/.test(f)).map((f) => [f, Array.from(readFileSync(join(dir, f)))]));

beforeAll(async () => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  server = await startServer({ port: 0, cacheDir: mkdtempSync(join(tmpdir(), 'crab-browser-m-')), log: () => undefined });
}, 180_000);
afterAll(async () => {
  await server?.close();
});

describe('models in the browser', () => {
  it('browser: WavLM (base and large) and RoBERTa from their files in the page match every PyTorch layer', async () => {
    const { browser, page, errors } = await openPage(server.url);
    try {
      for (const variant of ['base', 'large']) {
        const c = new Case(`wavlm/${variant}/io`);
        const [B, S] = c.shape('in.waveform') as [number, number];
        const lengths = [...c.i('in.lengths')];
        const got = await page.evaluate(async (a) => {
          // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a real import() in the page (vitest rewrites import() in test code)
          const crab = await (new Function('u', 'return import(u)') as (u: string) => Promise<any>)('/crab.js');
          await crab.initDevice();
          const files = crab.memoryFiles(`wavlm-${a.variant}`, Object.fromEntries(Object.entries(a.files).map(([k, v]) => [k, Uint8Array.from(v as number[])])));
          const model = crab.wavlmFromFiles(files);
          const out = model.forward(crab.fromArray(Float32Array.from(a.wave), [a.B, a.S]), a.lengths, true);
          const states: number[][] = [];
          for (const h of out.hiddenStates) states.push(Array.from(await h.toArray()) as number[]);
          return { states, T: out.lastHiddenState.shape[1], D: out.lastHiddenState.shape[2], frameLengths: out.frameLengths };
        }, { variant, files: folder(join(fixtures, 'wavlm', variant)), wave: Array.from(c.f('in.waveform')), B, S, lengths });
        expect(got.frameLengths).toEqual([...c.i('out.frame_lengths')]);
        const L = got.states.length - 1;
        for (let i = 0; i < L; i++) {
          const ref = i === L - 1 ? 'out.masked.final' : `out.masked.layer.${i}`;
          expectClose(validRows(got.states[i + 1]!, got.T, got.D, got.frameLengths), validRows(c.f(ref), got.T, got.D, got.frameLengths), 1e-4, 1e-3, `page wavlm ${variant} layer ${i}`);
        }
      }
      // RoBERTa, with a byte-level tokenizer in the same folder (the tokenizer runs in the page too).
      const c = new Case('roberta/io');
      const [B, T] = c.shape('in.input_ids') as [number, number];
      const mask = c.i('in.attention_mask');
      const lengths = Array.from({ length: B }, (_, b) => mask.slice(b * T, (b + 1) * T).reduce((s, v) => s + v, 0));
      const robDir = tinyRobertaFolder(mkdtempSync(join(tmpdir(), 'crab-rob-')));
      const got = await page.evaluate(async (a) => {
        // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a real import() in the page (vitest rewrites import() in test code)
          const crab = await (new Function('u', 'return import(u)') as (u: string) => Promise<any>)('/crab.js');
        const files = crab.memoryFiles('roberta', Object.fromEntries(Object.entries(a.files).map(([k, v]) => [k, Uint8Array.from(v as number[])])));
        const { model, tokenizer } = crab.robertaFromFiles(files);
        const out = model.forward(crab.fromArray(Int32Array.from(a.ids), [a.B, a.T], 'i32'), a.mask, true);
        const states: number[][] = [];
        for (const h of out.hiddenStates) states.push(Array.from(await h.toArray()) as number[]);
        return { states, last: Array.from(await out.lastHiddenState.toArray()) as number[], D: out.lastHiddenState.shape[2], ids: tokenizer.encode('hello there') };
      }, { files: folder(robDir), ids: Array.from(c.i('in.input_ids')), mask: Array.from(mask), B, T });
      const names = ['out.embeddings', 'out.layer.0', 'out.layer.1'];
      names.forEach((n, i) => expectClose(validRows(got.states[i]!, T, got.D, lengths), validRows(c.f(n), T, got.D, lengths), 1e-4, 1e-3, `page roberta ${n}`));
      expectClose(validRows(got.last, T, got.D, lengths), validRows(c.f('out.final'), T, got.D, lengths), 1e-4, 1e-3, 'page roberta final');
      const { ByteLevelBPE } = await import('../../src/model/tokenizer.js');
      expect(got.ids).toEqual(ByteLevelBPE.fromFolder(robDir).encode('hello there')); // the page's tokenizer = Node's
      // The same RoBERTa from pytorch_model.bin (torch.save), read in the page from Blobs by byte
      // ranges, and a deflated archive inflated by the page's DecompressionStream.
      const bin = join(fixtures, 'torchbin');
      const fromBin = await page.evaluate(async (a) => {
        const crab = await (new Function('u', 'return import(u)') as (u: string) => Promise<any>)('/crab.js');
        const blobs = Object.fromEntries(Object.entries(a.files).map(([k, v]) => [k, new Blob([Uint8Array.from(v as number[])])]));
        const names = crab.modelFileNames(Object.keys(blobs));
        if (names.some((n: string) => n.endsWith('.safetensors'))) throw new Error('this check must read pytorch_model.bin only');
        const files = await crab.fetchedFiles('roberta-bin', names, (n: string) => crab.blobSource(blobs[n]));
        const { model } = crab.robertaFromFiles(files);
        const out = model.forward(crab.fromArray(Int32Array.from(a.ids), [a.B, a.T], 'i32'), a.mask);
        const mixed = await crab.TorchBinFile.openAsync(crab.blobSource(new Blob([Uint8Array.from(a.deflated)])), 'mixed-deflated.bin');
        return {
          last: Array.from(await out.lastHiddenState.toArray()) as number[],
          mixed: Object.fromEntries(mixed.names().map((n: string) => [n, { shape: mixed.shape(n), values: Array.from(mixed.get(n)) }])),
        };
      }, {
        files: { 'vocab.json': folder(robDir)['vocab.json'], 'merges.txt': folder(robDir)['merges.txt'], 'config.json': Array.from(readFileSync(join(bin, 'roberta', 'config.json'))), 'pytorch_model.bin': Array.from(readFileSync(join(bin, 'roberta', 'pytorch_model.bin'))) },
        deflated: Array.from(readFileSync(join(bin, 'mixed-deflated.bin'))), ids: Array.from(c.i('in.input_ids')), mask: Array.from(mask), B, T,
      });
      expectClose(validRows(fromBin.last, T, got.D, lengths), validRows(c.f('out.final'), T, got.D, lengths), 1e-4, 1e-3, 'page roberta from pytorch_model.bin');
      const want = JSON.parse(readFileSync(join(bin, 'mixed.json'), 'utf8')) as Record<string, { shape: number[]; values: number[] }>;
      for (const [n, w] of Object.entries(want)) expect(fromBin.mixed[n]).toEqual({ shape: w.shape, values: w.values.map(Math.fround) });
      expect(errors, errors.join('\n')).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 300_000);
});
