// Bench helpers: median timing, a printed table and a JSON record per run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';

/** Median wall time (ms) of `reps` runs of `fn` after `warmup` runs. `fn` must await completion. */
export async function time(fn: () => Promise<unknown>, reps = 3, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

/** One measured row. */
export interface Row {
  workload: string;
  impl: string;
  ms: number;
  /** GPU time of the same run from timestamp queries, where measured. */
  gpuMs?: number;
  /** Derived rate (GFLOP/s, GB/s, µs, …) and its unit. */
  rate?: number;
  unit?: string;
  note?: string;
}

/**
 * How `a` compares with `b` in time, in words that cannot contradict themselves: the ratio is
 * always ≥ 1 and the word says which way ("1.37× faster", "1.37× slower", "as fast").
 */
export function compareTime(aMs: number, bMs: number): string {
  const q = bMs / aMs;
  if (!Number.isFinite(q)) return '';
  if (Math.abs(q - 1) < 0.005) return 'as fast';
  return q > 1 ? `${q.toFixed(2)}× faster` : `${(1 / q).toFixed(2)}× slower`;
}

/** Where results go: `--out FILE`, else `runs/bench/<suite>-<date>.json` (untracked, so a run never dirties the repository). */
export const benchOptions = { out: '', json: false };

/**
 * Prints rows grouped by workload — time, rate, and crab's best row against each other row — and
 * writes them as JSON. With `--json` the document goes to stdout and the table to stderr.
 */
export function report(title: string, rows: Row[], meta: Record<string, unknown>): void {
  const print = (l: string): void => void (benchOptions.json ? process.stderr : process.stdout).write(`${l}\n`);
  print(`\n== ${title} ==  (${meta.adapter})`);
  const widths = [44, 22, 11, 11, 18, 28];
  const line = (c: string[]): string => c.map((x, i) => (i < 2 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(' ');
  print(line(['workload', 'implementation', 'wall ms', 'GPU ms', 'rate or size', 'crab (best row) vs this']));
  const byWork = new Map<string, Row[]>();
  for (const r of rows) byWork.set(r.workload, [...(byWork.get(r.workload) ?? []), r]);
  for (const [w, rs] of byWork) {
    const ours = Math.min(...rs.filter((r) => r.impl.startsWith('crab')).map((r) => r.ms));
    for (const r of rs) {
      const vs = r.impl.startsWith('crab') || !Number.isFinite(ours) ? '' : `crab ${compareTime(ours, r.ms)}`;
      print(line([w, r.impl, r.ms.toFixed(r.ms < 10 ? 3 : 1), r.gpuMs !== undefined ? r.gpuMs.toFixed(r.gpuMs < 10 ? 3 : 1) : '', r.rate !== undefined ? `${r.rate.toFixed(2)} ${r.unit}` : '', vs]));
      if (r.note) print(`    ${r.note}`);
    }
  }
  const date = new Date().toISOString();
  const doc = { title, date, ...meta, rows };
  const file = benchOptions.out || join('runs', 'bench', `${title}-${date.slice(0, 10)}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(doc, null, 2));
  print(`\nwrote ${file}`);
  if (benchOptions.json) process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

/** Waits `ms` (lets lavapipe's threads have both cores while the JS thread would spin). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
