// Bench helpers: median timing, a printed table and a JSON record per run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** Prints rows grouped by workload with ratios against our best implementation. */
export function report(title: string, rows: Row[], meta: Record<string, unknown>): void {
  console.log(`\n== ${title} ==  (${meta.adapter})`);
  const widths = [44, 22, 11, 16, 14];
  const line = (c: string[]): string => c.map((x, i) => (i < 2 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(' ');
  console.log(line(['workload', 'implementation', 'ms', 'rate', 'crab vs this']));
  const byWork = new Map<string, Row[]>();
  for (const r of rows) byWork.set(r.workload, [...(byWork.get(r.workload) ?? []), r]);
  for (const [w, rs] of byWork) {
    const ours = Math.min(...rs.filter((r) => r.impl.startsWith('crab')).map((r) => r.ms));
    for (const r of rs) {
      const q = r.ms / ours;
      const ratio = r.impl.startsWith('crab') || !Number.isFinite(ours) ? '' : q >= 1 ? `crab ${q.toFixed(2)}× faster` : `crab ${(1 / q).toFixed(2)}× slower`;
      console.log(line([w, r.impl, r.ms.toFixed(r.ms < 10 ? 3 : 1), r.rate !== undefined ? `${r.rate.toFixed(2)} ${r.unit}` : '', [ratio, r.note].filter(Boolean).join('; ')]));
    }
  }
  const dir = join('bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${title}.json`);
  writeFileSync(file, JSON.stringify({ title, date: new Date().toISOString(), ...meta, rows }, null, 2));
  console.log(`\nwrote ${file}`);
}

/** Waits `ms` (lets lavapipe's threads have both cores while the JS thread would spin). */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
