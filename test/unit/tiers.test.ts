// The test tiers: every test file sits in a folder a vitest project runs (so none is dropped
// silently), and every kernel stem of the registry has its own test/kernels/<stem>.test.ts.
import { describe, it, expect } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REGISTRY } from '../../src/kernels/registry.js';

const testDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const TIERS = ['unit', 'tensor', 'kernels', 'models', 'train', 'cli', 'browser'];

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    if (e === 'fixtures') return [];
    return statSync(p).isDirectory() ? testFiles(p) : p.endsWith('.test.ts') ? [relative(testDir, p)] : [];
  });
}

describe('tiers', () => {
  it('tiers: every test file is in a tier folder that vitest.config.ts runs', () => {
    const files = testFiles(testDir);
    expect(files.length).toBeGreaterThan(30);
    expect(files.filter((f) => !TIERS.includes(f.split('/')[0]!) || !f.includes('/'))).toEqual([]);
  });
  it('tiers: every kernel stem has test/kernels/<stem>.test.ts', () => {
    const have = new Set(readdirSync(join(testDir, 'kernels')).map((f) => f.replace(/\.test\.ts$/, '')));
    expect(Object.keys(REGISTRY).filter((s) => !have.has(s))).toEqual([]);
  });
});
