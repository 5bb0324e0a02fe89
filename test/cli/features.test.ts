// Sharded feature extraction, as users run it on several machines: `crab features --shard K/N`
// in separate processes at the same time gives the same bytes as one process computing every
// shard; a shard killed midway resumes after its last part and ends byte-identical to an
// uninterrupted one; `crab train` names the shards a cache lacks, then reads the complete cache.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, existsSync, rmSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyRobertaFolder, writeManifest, fixtures } from '../corpus-fixture.js';
import { SYNTHETIC_LABELS } from '../../src/data/synthetic.js';
import type { FeaturesJson } from '../../src/commands/json.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const crab = join(root, 'dist', 'crab.js');
const env = { ...process.env, CRAB_DEBUG: '' };

interface Run { status: number | null; stdout: string; stderr: string }
/** Runs crab to its end, asynchronously (so that several can run at once). */
function run(args: string[]): Promise<Run> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [crab, ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** Every file under a cache folder (relative path → bytes). */
function files(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string, rel: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, readFileSync(join(d, e.name)));
    }
  };
  walk(dir, '');
  return out;
}

let corpus: string;
let common: string[];
beforeAll(() => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
  corpus = mkdtempSync(join(tmpdir(), 'crab-shards-'));
  writeManifest(corpus, ['wav/broken.wav,hello,sad,spk00,train'], 40);
  writeFileSync(join(corpus, 'wav', 'broken.wav'), Buffer.from('RIFF....WAVEdata'));
  common = ['--dataset', 'manifest', '--data-dir', join(corpus, 'manifest.csv'), '--labels', SYNTHETIC_LABELS.join(','),
    '--wavlm', join(fixtures, 'wavlm', 'large'), '--roberta', tinyRobertaFolder(corpus), '--part-size', '4'];
}, 120_000);

describe('crab features', () => {
  it('features: 3 shards made by 3 processes at once are byte-identical to one process making all 3; train names a missing shard, then reads the cache', async () => {
    const [a, b] = [join(corpus, 'cache-a'), join(corpus, 'cache-b')];
    const shards = await Promise.all([0, 1, 2].map((k) => run(['features', ...common, '--cache-dir', a, '--shard', `${k}/3`, '--json'])));
    const docs = shards.map((r) => {
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as FeaturesJson;
    });
    docs.forEach((d, k) => expect(d.computed).toEqual([k]));
    expect(docs.flatMap((d) => d.skipped.map((s) => s.id))).toEqual(['broken.wav#42']); // in exactly one shard
    const one = await run(['features', ...common, '--cache-dir', b, '--shards', '3']);
    expect(one.status, one.stderr).toBe(0);
    expect(one.stdout).toMatch(/complete \(3 shard\(s\), 41 utterances\)/);
    const [fa, fb] = [files(a), files(b)];
    expect([...fa.keys()].sort()).toEqual([...fb.keys()].sort());
    expect([...fa.keys()].filter((f) => f.endsWith('.safetensors'))).toHaveLength(3);
    for (const [f, bytes] of fa) expect(bytes.equals(fb.get(f)!), f).toBe(true);
    // Rerunning skips finished shards; another shard count for the same cache is refused.
    const again = await run(['features', ...common, '--cache-dir', a, '--json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ shards: 3, computed: [], alreadyDone: [0, 1, 2], missing: [] });
    const other = await run(['features', ...common, '--cache-dir', a, '--shard', '0/4']);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/planned as 3 shard\(s\), not 4/);

    // crab train with the same flags reads the cache; without shard 1 it names it and stops.
    const [cacheDir] = readdirSync(a);
    const s1 = join(a, cacheDir!, 'shard-0001-of-0003.safetensors');
    renameSync(s1, `${s1}.away`);
    const trainArgs = ['train', ...common.filter((x, i) => x !== '--part-size' && common[i - 1] !== '--part-size'), '--cache-dir', a, '--epochs', '1', '--hidden', '8', '--batch-size', '8'];
    const lacking = await run([...trainArgs, '--run-dir', join(corpus, 'run1')]);
    expect(lacking.status).toBe(2);
    expect(lacking.stderr).toMatch(/lacks 1: 1\/3\. Make them with `crab features --shard K\/3`/);
    renameSync(`${s1}.away`, s1);
    const ok = await run([...trainArgs, '--run-dir', join(corpus, 'run2'), '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toMatch(/skipped broken\.wav#42: .*broken\.wav/);
    expect(ok.stderr).not.toMatch(/features \(/); // nothing recomputed
  }, 300_000);

  it('features: a shard killed midway resumes after its last part and ends byte-identical to an uninterrupted one', async () => {
    const [c, d] = [join(corpus, 'cache-c'), join(corpus, 'cache-d')];
    const whole = await run(['features', ...common, '--cache-dir', d]);
    expect(whole.status, whole.stderr).toBe(0);
    // Kill (SIGKILL: no chance to clean up) once two parts are on disk.
    const p = spawn(process.execPath, [crab, 'features', ...common, '--cache-dir', c], { cwd: root, env, stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((r) => p.on('exit', (_code, sig) => r(sig)));
    let partDir = '';
    for (let i = 0; i < 2000 && !partDir; i++) {
      await new Promise((r) => setTimeout(r, 20));
      const sub = existsSync(c) ? readdirSync(c) : [];
      const cand = sub.length ? join(c, sub[0]!, 'shard-0000-of-0001.partial') : '';
      if (cand && existsSync(join(cand, 'part-00001.safetensors'))) partDir = cand;
    }
    p.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(partDir).not.toBe('');
    const dir = dirname(partDir);
    expect(existsSync(join(dir, 'shard-0000-of-0001.safetensors'))).toBe(false);
    const parts = readdirSync(partDir).filter((f) => f.endsWith('.safetensors')).length;
    expect(parts).toBeGreaterThanOrEqual(2);
    const resumed = await run(['features', ...common, '--cache-dir', c]);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(new RegExp(`resuming after ${4 * parts} of 41 utterances`));
    expect(existsSync(partDir)).toBe(false);
    const [fc, fd] = [files(c), files(d)];
    expect([...fc.keys()].sort()).toEqual([...fd.keys()].sort());
    for (const [f, bytes] of fc) expect(bytes.equals(fd.get(f)!), f).toBe(true);
    rmSync(c, { recursive: true });
  }, 300_000);
});
