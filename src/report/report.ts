/**
 * The run report: one self-contained HTML page (learning curves and confusion matrices as inline
 * SVG, tables), viewable offline.
 * @module
 */
import { writeAtomic } from '../util/fs.js';
import type { Metrics } from '../train/metrics.js';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A line chart of one or more series over epochs. */
export function lineChart(title: string, series: Array<{ name: string; values: number[] }>, w = 420, h = 220): string {
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const lo = Math.min(0, ...all);
  const hi = Math.max(...all, lo + 1e-9);
  const n = Math.max(...series.map((s) => s.values.length), 2);
  const x = (i: number): number => 40 + ((w - 60) * i) / (n - 1);
  const y = (v: number): number => h - 30 - ((h - 50) * (v - lo)) / (hi - lo);
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
  const paths = series.map((s, k) => `<polyline fill="none" stroke="${colors[k % 5]}" stroke-width="2" points="${s.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>` +
    `<text x="${w - 150}" y="${20 + 14 * k}" fill="${colors[k % 5]}" font-size="12">${esc(s.name)}</text>`).join('');
  return `<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg"><text x="40" y="14" font-size="13">${esc(title)}</text>` +
    `<line x1="40" y1="${h - 30}" x2="${w - 20}" y2="${h - 30}" stroke="#999"/><line x1="40" y1="20" x2="40" y2="${h - 30}" stroke="#999"/>` +
    `<text x="2" y="${y(hi) + 4}" font-size="10">${hi.toFixed(2)}</text><text x="2" y="${y(lo) + 4}" font-size="10">${lo.toFixed(2)}</text>` +
    `<text x="${w / 2}" y="${h - 8}" font-size="11">epoch</text>${paths}</svg>`;
}

/** A confusion matrix heat map (rows: true labels, columns: predictions). */
export function confusionChart(m: number[][], labels: readonly string[]): string {
  const cell = 46;
  const off = 80;
  const max = Math.max(1, ...m.flat());
  const cells = m.flatMap((row, i) => row.map((v, j) => {
    const a = v / max;
    return `<rect x="${off + j * cell}" y="${off + i * cell}" width="${cell}" height="${cell}" fill="rgba(31,119,180,${a.toFixed(3)})" stroke="#ccc"/>` +
      `<text x="${off + j * cell + cell / 2}" y="${off + i * cell + cell / 2 + 4}" text-anchor="middle" font-size="12" fill="${a > 0.6 ? '#fff' : '#000'}">${v}</text>`;
  })).join('');
  const names = labels.map((l, i) => `<text x="${off - 4}" y="${off + i * cell + cell / 2 + 4}" text-anchor="end" font-size="11">${esc(l)}</text>` +
    `<text x="${off + i * cell + cell / 2}" y="${off - 6}" text-anchor="middle" font-size="11">${esc(l)}</text>`).join('');
  const size = off + cell * labels.length + 10;
  return `<svg width="${size}" height="${size + 10}" xmlns="http://www.w3.org/2000/svg"><text x="4" y="14" font-size="12">true ↓ / predicted →</text>${names}${cells}</svg>`;
}

/** A metrics table row set. */
export function metricsTable(rows: Array<{ name: string; m: Metrics }>): string {
  const td = (v: number): string => `<td>${(100 * v).toFixed(1)}</td>`;
  return `<table><tr><th></th><th>WA (acc)</th><th>UA</th><th>macro-F1</th><th>weighted-F1</th></tr>${rows.map((r) => `<tr><th>${esc(r.name)}</th>${td(r.m.accuracy)}${td(r.m.uar)}${td(r.m.macroF1)}${td(r.m.weightedF1)}</tr>`).join('')}</table>`;
}

/** Writes `path` as a page with `sections` (HTML fragments with headings). */
export function writeReport(path: string, title: string, sections: Array<{ heading: string; html: string }>): void {
  const body = sections.map((s) => `<h2>${esc(s.heading)}</h2>\n${s.html}`).join('\n');
  writeAtomic(path, `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font:14px system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}th{background:#f4f4f4}svg{margin:0.5em 1em 0.5em 0}
</style></head><body><h1>${esc(title)}</h1>\n${body}\n<p style="color:#777">crab-ser · ${new Date().toISOString()}</p></body></html>`);
}
