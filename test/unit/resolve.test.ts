// Model resolution: a folder, the Hugging Face cache layout, and the offline message.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModel, hubCacheDir } from '../../src/model/resolve.js';

describe('resolve', () => {
  it('resolve: a folder, a cached hub snapshot via refs/main, and a clear offline message', () => {
    const root = mkdtempSync(join(tmpdir(), 'hf-'));
    const env = { HF_HOME: root } as NodeJS.ProcessEnv;
    expect(hubCacheDir(env)).toBe(join(root, 'hub'));
    const snap = join(root, 'hub', 'models--FacebookAI--roberta-base', 'snapshots', 'abc123');
    mkdirSync(snap, { recursive: true });
    mkdirSync(join(root, 'hub', 'models--FacebookAI--roberta-base', 'refs'));
    writeFileSync(join(root, 'hub', 'models--FacebookAI--roberta-base', 'refs', 'main'), 'abc123\n');
    writeFileSync(join(snap, 'config.json'), '{}');
    writeFileSync(join(snap, 'model.safetensors'), '');
    writeFileSync(join(snap, 'vocab.json'), '{}');
    expect(() => resolveModel('FacebookAI/roberta-base', ['vocab.json', 'merges.txt'], env)).toThrow(/missing merges\.txt/);
    writeFileSync(join(snap, 'merges.txt'), '');
    expect(resolveModel('FacebookAI/roberta-base', ['vocab.json', 'merges.txt'], env)).toBe(snap);
    expect(resolveModel(snap, [], env)).toBe(snap);
    expect(() => resolveModel('microsoft/wavlm-large', [], env)).toThrow(/not in the Hugging Face cache .*\n.*huggingface-cli download microsoft\/wavlm-large/);
  });
});

describe('download', () => {
  it('ensureModel downloads a missing id from the hub endpoint into the HF cache layout (a loopback server stands in for the hub)', async () => {
    const { createServer } = await import('node:http');
    const { readFileSync, existsSync } = await import('node:fs');
    const { ensureModel } = await import('../../src/model/resolve.js');
    const fx = join(__dirname, '..', 'fixtures', 'roberta');
    const served: string[] = [];
    const server = createServer((req, res) => {
      const m = /^\/test-org\/tiny-roberta\/resolve\/main\/(.+)$/.exec(req.url ?? '');
      const file = m?.[1];
      served.push(file ?? req.url!);
      if (!file || !['config.json', 'model.safetensors', 'vocab.json'].includes(file)) {
        res.writeHead(404);
        res.end();
        return;
      }
      const body = file === 'vocab.json' ? Buffer.from('{}') : readFileSync(join(fx, file));
      res.writeHead(200, { 'content-length': body.length, 'x-repo-commit': 'c0ffee' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    try {
      const root = mkdtempSync(join(tmpdir(), 'hf-dl-'));
      const env = { HF_HOME: root, HF_ENDPOINT: `http://127.0.0.1:${port}` } as NodeJS.ProcessEnv;
      let progress = 0;
      const dir = await ensureModel('test-org/tiny-roberta', ['vocab.json'], { env, onProgress: () => progress++ });
      expect(dir).toBe(join(root, 'hub', 'models--test-org--tiny-roberta', 'snapshots', 'c0ffee'));
      expect(readFileSync(join(dir, 'model.safetensors')).equals(readFileSync(join(fx, 'model.safetensors')))).toBe(true);
      expect(readFileSync(join(root, 'hub', 'models--test-org--tiny-roberta', 'refs', 'main'), 'utf8')).toBe('c0ffee');
      expect(progress).toBeGreaterThan(0);
      expect(existsSync(join(dir, 'model.safetensors.incomplete'))).toBe(false);
      // Cached now: no second request.
      const before = served.length;
      expect(await ensureModel('test-org/tiny-roberta', ['vocab.json'], { env })).toBe(dir);
      expect(served.length).toBe(before);
      // A file the hub does not have is a clear error; offline mode never asks.
      await expect(ensureModel('test-org/tiny-roberta', ['merges.txt'], { env })).rejects.toThrow(/merges\.txt: the hub answered 404/);
      await expect(ensureModel('test-org/other', [], { env: { ...env, HF_HUB_OFFLINE: '1' } })).rejects.toThrow(/not in the Hugging Face cache/);
    } finally {
      server.close();
    }
  });
});
