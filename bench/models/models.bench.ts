// `npm run bench -- roberta` and `npm run bench -- wavlm`: a roberta-base / wavlm-base-plus sized
// model with random weights — forward and forward+backward throughput and peak GPU bytes — and,
// in the same run, the same shapes in PyTorch on the CPU (Debian's python3-torch, found or
// installed by this script; never a project dependency).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromArray, tidy, noGrad, Rng, Tensor } from '../../src/tensor/tensor.js';
import { sync, profileKernels, kernelProfile, scopeProfile, transferStats } from '../../src/tensor/runtime.js';
import { memoryStats, resetPeak } from '../../src/tensor/pool.js';
import { deviceInfo } from '../../src/tensor/device.js';
import { mean, square, backward } from '../../src/kernels/index.js';
import { RobertaModel, ROBERTA_DEFAULTS } from '../../src/model/roberta.js';
import { WavLMModel, WAVLM_DEFAULTS } from '../../src/model/wavlm.js';
import { time, report, type Row } from '../util.js';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Finds python3 with torch; as root with apt, installs Debian's python3-torch and OpenBLAS (without
 * it Debian's torch runs on the reference BLAS, ~40× slower, which would flatter us).
 */
function torchPython(): string | null {
  const ok = (py: string): boolean => spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
  const openblas = existsSync('/usr/lib/x86_64-linux-gnu/openblas-pthread') || existsSync('/usr/lib/aarch64-linux-gnu/openblas-pthread');
  const root = process.getuid?.() === 0 && existsSync('/usr/bin/apt-get');
  if (root && (!openblas || !ok('/usr/bin/python3'))) {
    console.error('installing the PyTorch peer: apt-get install python3-torch libopenblas0-pthread (bench only)…');
    spawnSync('apt-get', ['install', '-y', '-qq', 'python3-torch', 'libopenblas0-pthread'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  for (const py of ['/usr/bin/python3', 'python3']) if (ok(py)) return py;
  console.error('PyTorch peer skipped: install Debian\'s python3-torch (apt-get install python3-torch) to compare');
  return null;
}

function torchPeer(args: string[]): { forward_ms: number; train_ms: number; threads: number; torch: string; saved_bytes: number } | null {
  const py = torchPython();
  const script = [join(here, 'peers', 'torch_models.py'), join(here, '..', 'bench', 'peers', 'torch_models.py'), 'bench/peers/torch_models.py'].find(existsSync);
  if (!py || !script) return null;
  const r = spawnSync(py, [script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.error(`PyTorch peer failed: ${r.stderr.trim().split('\n').at(-1)}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
}

/**
 * Runs crab's measurement between two runs of the PyTorch peer and adds PyTorch's rows with the
 * mean of the two. This machine's speed drifts by up to 1.5× within minutes, and a ratio against
 * one peer run taken minutes after crab's absorbed that drift; the note shows both runs, so a
 * drift during the bench is visible in its output.
 */
async function bracketedByTorch(rows: Row[], w: string, units: number, unit: string, args: string[], crab: () => Promise<void>): Promise<void> {
  const before = torchPeer(args);
  await crab();
  const runs = before ? [before, torchPeer(args)].filter((r) => r !== null) : [];
  if (!runs.length) return;
  const p = runs[0]!;
  const impl = `pytorch ${p.torch} cpu (${p.threads} threads)`;
  const row = (what: string, key: 'forward_ms' | 'train_ms', extra: string): Row => {
    const ms = runs.reduce((s, r) => s + r[key], 0) / runs.length;
    const each = runs.map((r) => (r[key] / 1000).toFixed(2)).join(' s before crab, ') + (runs.length > 1 ? ' s after' : ' s');
    return { workload: `${w} ${what}`, impl, ms, rate: units / (ms / 1000), unit: `${unit}/s`, note: `${each}${extra}` };
  };
  rows.push(row('forward', 'forward_ms', ''));
  rows.push(row('forward+backward', 'train_ms', `; activations saved for the backward ${(p.saved_bytes / 2 ** 20).toFixed(0)} MiB`));
}

/**
 * GPU time of one more run of `fn` from timestamp queries (undefined without them). A single long
 * wait's wall time is bounded below by the runtime's sleep-before-wait estimate, learnt from the
 * warm-up; the GPU time is the kernels' own.
 */
async function gpuTime(fn: () => Promise<void>, what = ''): Promise<number | undefined> {
  if (!profileKernels(true)) return undefined;
  kernelProfile(true);
  scopeProfile(true);
  const t0 = transferStats();
  await fn();
  profileKernels(false);
  const t1 = transferStats();
  const prof = kernelProfile(true);
  const scopes = scopeProfile(true);
  const total = [...prof.values()].reduce((s, e) => s + e.ms, 0);
  if (what) {
    printProfile(what, prof, total, { uploads: t1.uploads - t0.uploads, uploadBytes: t1.uploadBytes - t0.uploadBytes, reads: t1.reads - t0.reads, readBytes: t1.readBytes - t0.readBytes });
    printScopes(scopes, total);
  }
  return total;
}

/** GPU time and dispatches per model part (the scopes the models mark: embeddings, each layer, …), forward and backward. */
function printScopes(scopes: Map<string, { count: number; ms: number }>, total: number): void {
  const key = (s: string): string => s.replace(/\d+/g, (d) => d.padStart(4, '0'));
  console.error('      per part (GPU ms, dispatches):');
  for (const [scope, e] of [...scopes].sort((a, b) => key(a[0]).localeCompare(key(b[0])))) {
    console.error(`        ${(scope || '(outside the model: loss, seeds)').padEnd(44)} ${e.ms.toFixed(0).padStart(7)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${String(e.count).padStart(5)}`);
  }
}

/** GPU time per kernel stem (entries folded into their stem), dispatches, and host↔GPU transfers of one step. */
function printProfile(what: string, prof: Map<string, { count: number; ms: number }>, total: number, io: { uploads: number; uploadBytes: number; reads: number; readBytes: number }): void {
  const stems = new Map<string, { count: number; ms: number }>();
  for (const [label, e] of prof) {
    const stem = label.split('.')[0]!;
    const t = stems.get(stem) ?? { count: 0, ms: 0 };
    t.count += e.count;
    t.ms += e.ms;
    stems.set(stem, t);
  }
  const dispatches = [...stems.values()].reduce((s, e) => s + e.count, 0);
  console.error(`    ${what}: GPU ${total.toFixed(0)} ms in ${dispatches} dispatches; host→GPU ${io.uploads} writes (${(io.uploadBytes / 2 ** 20).toFixed(1)} MiB), GPU→host ${io.reads} reads (${(io.readBytes / 2 ** 10).toFixed(1)} KiB)`);
  for (const [stem, e] of [...stems].sort((a, b) => b[1].ms - a[1].ms)) {
    console.error(`      ${stem.padEnd(16)} ${e.ms.toFixed(0).padStart(7)} ms ${((100 * e.ms) / total).toFixed(1).padStart(5)}%  ${String(e.count).padStart(5)} dispatches`);
  }
}

async function measure(rows: Row[], workload: string, units: number, unit: string, fwd: () => Tensor, model: { parameters(): Tensor[] }, reps: number): Promise<void> {
  const base = memoryStats().liveBytes;
  resetPeak();
  const forward = async (): Promise<void> => {
    noGrad(() => tidy(() => fwd()));
    await sync();
  };
  const f = await time(forward, reps, 1);
  const fPeak = memoryStats().peakBytes - base;
  const fGpu = await gpuTime(forward, `${workload} forward, per kernel stem`);
  const gpuNote = (ms: number | undefined): string => (ms === undefined ? '' : `, GPU time ${(ms / 1000).toFixed(1)} s (${(units / (ms / 1000)).toFixed(2)} ${unit}/s)`);
  console.error(`  ${workload} forward: ${(f / 1000).toFixed(1)} s (${(units / (f / 1000)).toFixed(2)} ${unit}/s)${gpuNote(fGpu)}, peak ${(fPeak / 2 ** 20).toFixed(0)} MiB`);
  resetPeak();
  // Bytes the tape holds for the backward once the forward is done (activation memory).
  let held = 0;
  const train = async (): Promise<void> => {
    tidy(() => {
      const loss = mean(square(fwd()));
      held = memoryStats().liveBytes - base;
      backward(loss);
    });
    await sync();
    for (const p of model.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  };
  const t = await time(train, reps, 1);
  const tPeak = memoryStats().peakBytes - base;
  const tGpu = await gpuTime(train, `${workload} forward+backward, per kernel stem`);
  console.error(`  ${workload} forward+backward: ${(t / 1000).toFixed(1)} s (${(units / (t / 1000)).toFixed(2)} ${unit}/s)${gpuNote(tGpu)}, peak ${(tPeak / 2 ** 20).toFixed(0)} MiB, held for the backward ${(held / 2 ** 20).toFixed(0)} MiB`);
  rows.push({ workload: `${workload} forward`, impl: 'crab', ms: f, gpuMs: fGpu, rate: units / (f / 1000), unit: `${unit}/s`, note: `peak ${(fPeak / 2 ** 20).toFixed(0)} MiB${gpuNote(fGpu)}` });
  rows.push({ workload: `${workload} forward+backward`, impl: 'crab', ms: t, gpuMs: tGpu, rate: units / (t / 1000), unit: `${unit}/s`, note: `peak ${(tPeak / 2 ** 20).toFixed(0)} MiB, activations held for the backward ${(held / 2 ** 20).toFixed(0)} MiB${gpuNote(tGpu)}` });
}

export async function benchRoberta(opts: { quick?: boolean } = {}): Promise<void> {
  const [B, T] = [8, 128];
  const rows: Row[] = [];
  const model = new RobertaModel({ ...ROBERTA_DEFAULTS, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }, 1);
  const g = new Rng(2);
  const ids = fromArray(Int32Array.from({ length: B * T }, () => 3 + Math.floor(g.next() * 50000)), [B, T], 'i32');
  const w = `roberta-base B${B}×${T}`;
  await bracketedByTorch(rows, w, B * T, 'tokens', ['roberta', String(B), String(T)],
    () => measure(rows, w, B * T, 'tokens', () => model.forward(ids).lastHiddenState, model, opts.quick ? 1 : 2));
  report('roberta', rows, { adapter: deviceInfo().name });
}

export async function benchWavlm(opts: { quick?: boolean; clips?: number; seconds?: number } = {}): Promise<void> {
  const [B, seconds] = [opts.clips ?? 4, opts.seconds ?? 8];
  const rows: Row[] = [];
  const model = new WavLMModel({ ...WAVLM_DEFAULTS, hidden_dropout: 0, attention_dropout: 0, feat_proj_dropout: 0, layerdrop: 0 }, 1);
  const g = new Rng(3);
  const S = 16000 * seconds;
  const wave = fromArray(Float32Array.from({ length: B * S }, () => 0.1 * g.normal()), [B, S]);
  const w = `wavlm-base-plus ${B} clips × ${seconds} s`;
  await bracketedByTorch(rows, w, B * seconds, 'audio s', ['wavlm', String(B), String(seconds)],
    () => measure(rows, w, B * seconds, 'audio s', () => model.forward(wave).lastHiddenState, model, 1));
  report('wavlm', rows, { adapter: deviceInfo().name });
}
