// Model resolution: a folder, the Hugging Face cache layout, and the offline message.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveModel, hubCacheDir } from '../src/model/resolve.js';

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
