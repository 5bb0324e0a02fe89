/**
 * The run report: one self-contained HTML page (learning curves and confusion matrices as inline
 * SVG, tables), viewable offline.
 * @module
 */
import { writeAtomic } from '../util/fs.js';
import type { Metrics } from '../train/metrics.js';

const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];

/** About `n` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((st) => st >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

const fmtTick = (v: number): string => (Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2));

interface Frame {
  w: number;
  h: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  x: (v: number) => number;
  y: (v: number) => number;
}

/** A plot frame: axes with ticks and labels, the plot area, and room on the right for a legend. */
function frame(o: { title: string; xLabel: string; yLabel: string; xDomain: [number, number]; yDomain: [number, number]; xTicks?: number[]; yTicks?: boolean; legend?: number; w?: number; h?: number }): { f: Frame; svg: string } {
  const w = o.w ?? 560;
  const h = o.h ?? 280;
  const left = 58;
  const right = o.legend ? 40 + Math.min(230, 7 * o.legend) : 16; // room for the marker (31 px) and the longest name
  const top = 28;
  const bottom = 44;
  const [x0, x1] = o.xDomain;
  const [y0, y1] = o.yDomain;
  const x = (v: number): number => left + ((w - left - right) * (v - x0)) / (x1 - x0 || 1);
  const y = (v: number): number => h - bottom - ((h - top - bottom) * (v - y0)) / (y1 - y0 || 1);
  const xt = (o.xTicks ?? niceTicks(x0, x1)).map((v) => `<line x1="${x(v)}" y1="${h - bottom}" x2="${x(v)}" y2="${h - bottom + 4}" stroke="#666"/><text x="${x(v)}" y="${h - bottom + 16}" text-anchor="middle" font-size="11">${fmtTick(v)}</text>`).join('');
  const yt = o.yTicks === false ? '' : niceTicks(y0, y1).map((v) => `<line x1="${left - 4}" y1="${y(v)}" x2="${w - right}" y2="${y(v)}" stroke="#eee"/><text x="${left - 7}" y="${y(v) + 4}" text-anchor="end" font-size="11">${fmtTick(v)}</text>`).join('');
  const svg = `<text x="${left}" y="16" font-size="13" font-weight="600">${esc(o.title)}</text>${yt}${xt}` +
    `<line x1="${left}" y1="${h - bottom}" x2="${w - right}" y2="${h - bottom}" stroke="#666"/><line x1="${left}" y1="${top}" x2="${left}" y2="${h - bottom}" stroke="#666"/>` +
    `<text x="${(left + w - right) / 2}" y="${h - 8}" text-anchor="middle" font-size="12">${esc(o.xLabel)}</text>` +
    `<text transform="translate(14 ${(top + h - bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(o.yLabel)}</text>`;
  return { f: { w, h, left, right, top, bottom, x, y }, svg };
}

/** A legend in the right margin, outside the plot area. */
function legend(f: Frame, names: string[], marker: 'line' | 'dot' = 'line'): string {
  return names.map((n, k) => {
    const yy = f.top + 8 + 16 * k;
    const x0 = f.w - f.right + 10;
    const m = marker === 'line' ? `<line x1="${x0}" y1="${yy}" x2="${x0 + 16}" y2="${yy}" stroke="${COLORS[k % COLORS.length]}" stroke-width="2.5"/>`
      : `<circle cx="${x0 + 8}" cy="${yy}" r="4" fill="${COLORS[k % COLORS.length]}"/>`;
    return `${m}<text x="${x0 + 21}" y="${yy + 4}" font-size="11">${esc(n)}</text>`;
  }).join('');
}

const svgOpen = (w: number, h: number): string => `<svg viewBox="0 0 ${w} ${h}" width="${w}" style="max-width:100%;height:auto" xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif">`;

/** A line chart of one or more series over epochs (1-based), axes labelled and ticked, legend outside. */
export function lineChart(title: string, series: Array<{ name: string; values: number[] }>, w = 560, h = 280, yLabel = 'value', xLabel = 'epoch'): string {
  const all = series.flatMap((s) => s.values).filter(Number.isFinite);
  const n = Math.max(...series.map((s) => s.values.length), 2);
  const lo = all.length ? Math.min(...all) : 0;
  const hi = all.length ? Math.max(...all) : 1;
  const pad = (hi - lo) * 0.05 || 0.05;
  const xTicks = niceTicks(1, n, Math.min(n - 1, 8)).filter((v) => Number.isInteger(v));
  const { f, svg } = frame({ title, xLabel, yLabel, xDomain: [1, n], yDomain: [lo - pad, hi + pad], xTicks, legend: Math.max(...series.map((s) => s.name.length)), w, h });
  const lines = series.map((s, k) => `<polyline fill="none" stroke="${COLORS[k % COLORS.length]}" stroke-width="2" points="${s.values.map((v, i) => `${f.x(i + 1).toFixed(1)},${f.y(v).toFixed(1)}`).join(' ')}"/>`).join('');
  return `${svgOpen(f.w, f.h)}${svg}${lines}${legend(f, series.map((s) => s.name))}</svg>`;
}

/**
 * Means with 95% intervals, one row per item and one coloured mark per group (e.g. variants ×
 * conditions), on a shared horizontal axis in the table's units.
 */
export function intervalChart(title: string, rows: Array<{ label: string; points: Array<{ group: string; mean: number; lo: number; hi: number }> }>, xLabel: string, w = 620): string {
  const groups = [...new Set(rows.flatMap((r) => r.points.map((p) => p.group)))];
  const vals = rows.flatMap((r) => r.points.flatMap((p) => [p.lo, p.hi]));
  const lo = Math.min(0, ...vals);
  const hi = Math.max(...vals, lo + 1);
  const rowH = 26;
  const labelW = 230;
  const h = 36 + 44 + rowH * rows.length;
  const inner = frame({ title, xLabel, yLabel: '', xDomain: [lo, hi], yDomain: [0, 1], yTicks: false, legend: Math.max(...groups.map((g) => g.length)), w: w - labelW + 58, h });
  const f = inner.f;
  const shift = labelW - 58;
  const marks = rows.map((r, i) => {
    const yy = f.top + rowH * (i + 0.5);
    const label = `<text x="${-shift + 4}" y="${yy + 4}" font-size="12">${esc(r.label)}</text>`;
    return label + r.points.map((p) => {
      const k = groups.indexOf(p.group);
      const dy = (k - (groups.length - 1) / 2) * 7;
      const c = COLORS[k % COLORS.length];
      return `<line x1="${f.x(p.lo)}" y1="${yy + dy}" x2="${f.x(p.hi)}" y2="${yy + dy}" stroke="${c}" stroke-width="2"/><circle cx="${f.x(p.mean)}" cy="${yy + dy}" r="4" fill="${c}"/>`;
    }).join('');
  }).join('');
  return `${svgOpen(w, h)}<g transform="translate(${shift} 0)">${inner.svg}${marks}${legend(f, groups, 'dot')}</g></svg>`;
}

/** Points coloured by class on their two coordinates (e.g. PCA scores), legend outside. */
export function scatterChart(title: string, points: Array<{ x: number; y: number; cls: number }>, classes: readonly string[], w = 300, h = 260, axis: [string, string] = ['PC 1', 'PC 2']): string {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const padX = (Math.max(...xs) - Math.min(...xs)) * 0.05 || 1;
  const padY = (Math.max(...ys) - Math.min(...ys)) * 0.05 || 1;
  const { f, svg } = frame({ title, xLabel: axis[0], yLabel: axis[1], xDomain: [Math.min(...xs) - padX, Math.max(...xs) + padX], yDomain: [Math.min(...ys) - padY, Math.max(...ys) + padY], legend: Math.max(...classes.map((c) => c.length)), w, h });
  const dots = points.map((p) => `<circle cx="${f.x(p.x).toFixed(1)}" cy="${f.y(p.y).toFixed(1)}" r="2.6" fill="${COLORS[p.cls % COLORS.length]}" fill-opacity="0.75"/>`).join('');
  return `${svgOpen(f.w, f.h)}${svg}${dots}${legend(f, [...classes], 'dot')}</svg>`;
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
  return `${svgOpen(size, size + 10)}<text x="4" y="14" font-size="12">true ↓ / predicted →</text>${names}${cells}</svg>`;
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
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1200px;padding:0 1em}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}svg{margin:0.5em 1em 0.5em 0;vertical-align:top}
.ci{color:#666;font-size:12px}.row{display:flex;flex-wrap:wrap;gap:0 1.5em}.grid{display:flex;flex-wrap:wrap}.grid svg{width:19%;min-width:230px;margin:0.3em 0.5% 0.3em 0}.row>div{flex:1 1 480px;min-width:0}.scroll{overflow-x:auto}h3{margin:0.8em 0 0.2em}
</style></head><body><h1>${esc(title)}</h1>\n${body}\n<p style="color:#777">crab-ser · ${new Date().toISOString()}</p></body></html>`);
}
