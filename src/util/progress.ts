/**
 * A small progress line: redrawn in place on a terminal, one line per completion elsewhere
 * (logs, CI). Shows done/total, rate, the time left and any fields given (mean loss, lr, …).
 * @module
 */
export class Progress {
  private start = performance.now();
  private last = 0;
  constructor(private readonly label: string, private readonly total: number, private readonly out: NodeJS.WriteStream = process.stderr) {}
  update(done: number, fields: Record<string, string | number> = {}): void {
    const now = performance.now();
    const finished = done >= this.total;
    if (!finished && now - this.last < 200) return;
    this.last = now;
    const rate = done / Math.max(1e-3, (now - this.start) / 1000);
    const width = 24;
    const fill = Math.round((width * done) / Math.max(1, this.total));
    const extra = Object.entries(fields).map(([k, v]) => `${k} ${typeof v === 'number' ? fmtNum(v) : v}`).join('  ');
    const eta = finished ? `${fmtTime((now - this.start) / 1000)}` : `ETA ${fmtTime((this.total - done) / Math.max(rate, 1e-9))}`;
    const line = `${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${this.total}  ${rate.toFixed(1)}/s  ${eta}  ${extra}`;
    if (this.out.isTTY) this.out.write(`\r${line.padEnd(this.out.columns ? this.out.columns - 1 : 100)}${finished ? '\n' : ''}`);
    else if (finished) this.out.write(`${line}\n`);
  }
}

function fmtNum(v: number): string {
  return Math.abs(v) >= 0.01 && Math.abs(v) < 1e4 ? v.toFixed(4) : v.toExponential(2);
}

/** Seconds as `42s`, `3m05s` or `1h02m`. */
export function fmtTime(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  const s = Math.round(sec);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
