/**
 * Corpora behind one interface: IEMOCAP, MELD, MSP-Podcast 2.0 and a CSV/JSONL manifest, with
 * the label and split conventions of the literature. Nothing is dropped silently: every skipped
 * utterance is counted in `issues` with its file (and line) and the reason.
 * @module
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, resolve, basename, extname } from 'node:path';
import type { Utterance } from './utterance.js';
import type { ProbeResult } from './probe.js';
import { Rng } from '../tensor/rng.js';
import { syntheticCorpus, SYNTHETIC_LABELS, SYNTH_SEED, type SyntheticOptions } from './synthetic.js';

/** Something a loader skipped or found wrong. */
export interface DataIssue {
  file: string;
  line?: number;
  problem: string;
}

/** A loaded corpus. */
export interface Dataset {
  name: string;
  labels: string[];
  utterances: Utterance[];
  issues: DataIssue[];
  /** The metric papers report for this corpus. */
  primaryMetric: 'accuracy' | 'uar' | 'macroF1' | 'weightedF1';
  /** A grouping the corpus is counted by besides the splits (IEMOCAP: its five sessions). */
  groupBy?: { name: string; of: (u: Utterance) => string };
}

const expectDir = (dir: string, what: string): void => {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${dir}: not a folder; expected ${what}`);
};

/** Deterministic dev split: a seeded ~10% of `train` utterances move to `dev`. */
function carveDev(utts: Utterance[], seed: number): void {
  const g = new Rng(seed);
  for (const u of utts) if (u.split === 'train' && g.next() < 0.1) u.split = 'dev';
}

// ---------------------------------------------------------------------------------------------
// IEMOCAP

const IEMOCAP_CODES = ['ang', 'hap', 'sad', 'neu', 'exc', 'fru', 'fea', 'sur', 'dis', 'oth', 'xxx'];
/** The standard 4-class protocol: excited merged into happy. */
const IEMOCAP_4: Record<string, string> = { neu: 'neutral', ang: 'angry', sad: 'sad', hap: 'happy', exc: 'happy' };
const IEMOCAP_LINE = /^\[(\d+\.\d+) - (\d+\.\d+)\]\t(\w+)\t(\w+)\t\[(\d+\.\d+), (\d+\.\d+), (\d+\.\d+)\]$/;
const TRANSCRIPT_LINE = /^(\S+) \[[\d.]+-[\d.]+\]:\s?(.*)$/;

/**
 * IEMOCAP_full_release: 4 classes (neutral, angry, sad, happy+excited), 5,531 utterances.
 * Leave-one-session-out: fold k (1–5) tests on session k; a seeded 10% of the other sessions is
 * the dev split (for early stopping); the rest trains.
 */
export function loadIemocap(dir: string, fold = 1): Dataset {
  expectDir(dir, 'IEMOCAP_full_release with Session1 … Session5');
  if (!(fold >= 1 && fold <= 5)) throw new Error(`IEMOCAP: fold ${fold} is not in 1–5`);
  const missing = [1, 2, 3, 4, 5].filter((n) => !existsSync(join(dir, `Session${n}`, 'dialog', 'EmoEvaluation')));
  if (missing.length) throw new Error(`${dir}: expected Session{1-5}/dialog/EmoEvaluation/*.txt; missing for session(s) ${missing.join(', ')}`);
  const labels = ['neutral', 'angry', 'sad', 'happy'];
  const issues: DataIssue[] = [];
  const utterances: Utterance[] = [];
  let dropped = 0;
  for (let n = 1; n <= 5; n++) {
    const evalDir = join(dir, `Session${n}`, 'dialog', 'EmoEvaluation');
    for (const f of readdirSync(evalDir).filter((x) => x.endsWith('.txt')).sort()) {
      const file = join(evalDir, f);
      if (!statSync(file).isFile()) continue; // top level only (Categorical/, Attribute/ are folders)
      const dialog = basename(f, '.txt');
      const texts = new Map<string, string>();
      const tfile = join(dir, `Session${n}`, 'dialog', 'transcriptions', `${dialog}.txt`);
      if (existsSync(tfile)) {
        readFileSync(tfile, 'utf8').split(/\r?\n/).forEach((l) => {
          const m = TRANSCRIPT_LINE.exec(l.trim());
          if (m) texts.set(m[1]!, m[2]!.trim());
        });
      } else issues.push({ file: tfile, problem: 'transcript file missing (texts left empty)' });
      readFileSync(file, 'utf8').split(/\r?\n/).forEach((raw, i) => {
        const m = IEMOCAP_LINE.exec(raw.trimEnd());
        if (!m) return; // header and per-annotator lines
        const [, , , id, code] = m as unknown as [string, string, string, string, string];
        if (!IEMOCAP_CODES.includes(code)) {
          issues.push({ file, line: i + 1, problem: `unknown emotion code "${code}" for ${id}` });
          return;
        }
        const label = IEMOCAP_4[code];
        if (!label) {
          dropped++;
          return;
        }
        const gender = id.split('_').at(-1)![0];
        if (!texts.has(id)) issues.push({ file: tfile, problem: `no transcript line for ${id}` });
        utterances.push({
          id, label: labels.indexOf(label), text: texts.get(id) ?? '', speaker: `Ses0${n}${gender}`,
          split: n === fold ? 'test' : 'train', audioPath: join(dir, `Session${n}`, 'sentences', 'wav', dialog, `${id}.wav`),
        });
      });
    }
  }
  if (dropped) issues.push({ file: dir, problem: `${dropped} utterances with labels outside the 4-class protocol (fru, fea, sur, dis, oth, xxx) left out` });
  carveDev(utterances, 1000 + fold);
  // Speakers are named by session and gender (Ses01F): the session is the first five characters.
  return { name: `iemocap-fold${fold}`, labels, utterances, issues, primaryMetric: 'uar', groupBy: { name: 'session', of: (u) => u.speaker.slice(0, 5) } };
}

// ---------------------------------------------------------------------------------------------
// CSV

/** RFC 4180 CSV (quoted fields, doubled quotes, newlines inside quotes); returns rows with their line numbers. */
export function parseCsv(text: string): Array<{ line: number; cells: string[] }> {
  const rows: Array<{ line: number; cells: string[] }> = [];
  let cells: string[] = [];
  let cell = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const src = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        cell += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      cells.push(cell);
      if (cells.length > 1 || cells[0] !== '') rows.push({ line: rowLine, cells });
      cells = [];
      cell = '';
      line++;
      rowLine = line;
    } else cell += c;
  }
  if (cell !== '' || cells.length) {
    cells.push(cell);
    rows.push({ line: rowLine, cells });
  }
  return rows;
}

function csvWithHeader(file: string, required: string[], o: { known?: string[]; issues?: DataIssue[] } = {}): Array<{ line: number; get: (col: string) => string }> {
  if (!existsSync(file)) throw new Error(`${file} not found`);
  const rows = parseCsv(readFileSync(file, 'utf8'));
  const head = rows.shift();
  const header = head?.cells.map((h) => h.trim()) ?? [];
  const miss = required.filter((r) => !header.includes(r));
  if (miss.length) throw new Error(`${file}: header lacks column(s) ${miss.join(', ')} (found: ${header.join(', ')})`);
  // Columns and cells nothing reads are reported, not dropped silently.
  if (o.known && o.issues) {
    const extra = header.filter((h) => !o.known!.includes(h));
    if (extra.length) o.issues.push({ file, line: head!.line, problem: `column(s) ${extra.map((c) => `"${c}"`).join(', ')} not used (the manifest reads ${o.known.join(', ')})` });
    for (const r of rows) if (r.cells.length > header.length) o.issues.push({ file, line: r.line, problem: `${r.cells.length} fields where the header has ${header.length}; the extra ones are not used` });
  }
  const idx = new Map(header.map((h, i) => [h, i]));
  return rows.map((r) => ({ line: r.line, get: (col: string) => (r.cells[idx.get(col)!] ?? '').trim() }));
}

// ---------------------------------------------------------------------------------------------
// MELD

const MELD_LABELS = ['neutral', 'joy', 'sadness', 'anger', 'surprise', 'fear', 'disgust'];
const MELD_SPLITS: Array<[Utterance['split'], string, string]> = [
  ['train', 'train_sent_emo.csv', 'train_splits'],
  ['dev', 'dev_sent_emo.csv', 'dev_splits_complete'],
  ['test', 'test_sent_emo.csv', 'output_repeated_splits_test'],
];

function clock(s: string): number {
  const m = /^(\d+):(\d+):(\d+)[,.](\d+)$/.exec(s);
  return m ? +m[1]! * 3600 + +m[2]! * 60 + +m[3]! + +m[4]! / 1000 : NaN;
}

/**
 * MELD.Raw: 7 emotions, the official train/dev/test CSVs; audio from `dia{D}_utt{U}.mp4` (through
 * ffmpeg) or a `.wav` of the same name beside it. Missing clips and cuts longer than
 * `maxSeconds` (the known multi-minute bad cuts) are reported and skipped.
 */
export function loadMeld(dir: string, o: { maxSeconds?: number } = {}): Dataset {
  expectDir(dir, 'MELD.Raw with train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv');
  const issues: DataIssue[] = [];
  const utterances: Utterance[] = [];
  const maxS = o.maxSeconds ?? 60;
  for (const [split, csv, clips] of MELD_SPLITS) {
    const file = join(dir, csv);
    for (const r of csvWithHeader(file, ['Utterance', 'Speaker', 'Emotion', 'Dialogue_ID', 'Utterance_ID', 'StartTime', 'EndTime'])) {
      const emo = r.get('Emotion').toLowerCase();
      const label = MELD_LABELS.indexOf(emo);
      if (label < 0) {
        issues.push({ file, line: r.line, problem: `unknown emotion "${r.get('Emotion')}"` });
        continue;
      }
      const stem = `dia${r.get('Dialogue_ID')}_utt${r.get('Utterance_ID')}`;
      const wav = join(dir, clips, `${stem}.wav`);
      const mp4 = join(dir, clips, `${stem}.mp4`);
      const audioPath = existsSync(wav) ? wav : existsSync(mp4) ? mp4 : null;
      if (!audioPath) {
        issues.push({ file, line: r.line, problem: `${split} clip ${stem} is missing (looked for ${mp4} and .wav)` });
        continue;
      }
      const dur = clock(r.get('EndTime')) - clock(r.get('StartTime'));
      if (dur > maxS) {
        issues.push({ file, line: r.line, problem: `${stem} is a ${dur.toFixed(0)} s cut (bad segmentation), skipped` });
        continue;
      }
      utterances.push({ id: `${split}_${stem}`, label, text: r.get('Utterance'), speaker: r.get('Speaker'), split, audioPath });
    }
  }
  return { name: 'meld', labels: MELD_LABELS, utterances, issues, primaryMetric: 'weightedF1' };
}

// ---------------------------------------------------------------------------------------------
// MSP-Podcast 2.0

const MSP_CODES = ['A', 'S', 'H', 'U', 'F', 'D', 'C', 'N'];
const MSP_LABELS = ['angry', 'sad', 'happy', 'surprise', 'fear', 'disgust', 'contempt', 'neutral'];
const MSP_SPLITS: Record<string, Utterance['split']> = { Train: 'train', Development: 'dev' };

/**
 * MSP-Podcast 2.0: `Labels/labels_consensus.csv`, 8 classes (O and X dropped and counted),
 * splits Train / Development, and one of the test sets (`Test1`, `Test2`, …; default Test1, as the
 * challenge does) as the test split. Every test set in the file is counted in the issues, the
 * others left out; utterances whose audio file is missing are reported and left out.
 */
export function loadMspPodcast(dir: string, o: { testSet?: string } = {}): Dataset {
  const testSet = o.testSet ?? 'Test1';
  expectDir(dir, 'the MSP-Podcast folder with Labels/, Audios/, Transcripts/');
  const file = join(dir, 'Labels', 'labels_consensus.csv');
  const issues: DataIssue[] = [];
  const utterances: Utterance[] = [];
  const dropped: Record<string, number> = {};
  const testCounts: Record<string, number> = {};
  for (const r of csvWithHeader(file, ['FileName', 'EmoClass', 'SpkrID', 'Split_Set'])) {
    const name = r.get('FileName');
    const code = r.get('EmoClass');
    const splitName = r.get('Split_Set');
    const isTest = /^Test\d+$/.test(splitName);
    if (isTest) testCounts[splitName] = (testCounts[splitName] ?? 0) + 1;
    const split = isTest ? (splitName === testSet ? 'test' : null) : MSP_SPLITS[splitName];
    if (!split && !isTest) {
      issues.push({ file, line: r.line, problem: `unknown Split_Set "${splitName}" for ${name}` });
      continue;
    }
    if (code === 'O' || code === 'X') {
      dropped[code] = (dropped[code] ?? 0) + 1;
      continue;
    }
    const label = MSP_CODES.indexOf(code);
    if (label < 0) {
      issues.push({ file, line: r.line, problem: `unknown EmoClass "${code}" for ${name}` });
      continue;
    }
    if (!split) continue; // another test set: counted above
    const stem = basename(name, extname(name));
    const audioPath = join(dir, 'Audios', name);
    if (!existsSync(audioPath)) {
      issues.push({ file: audioPath, problem: `audio missing for ${name} (${splitName}); left out` });
      continue;
    }
    const tfile = join(dir, 'Transcripts', `${stem}.txt`);
    let text = '';
    if (existsSync(tfile)) text = readFileSync(tfile, 'utf8').trim();
    else issues.push({ file: tfile, problem: `transcript missing for ${name} (text left empty)` });
    utterances.push({ id: stem, label, text, speaker: r.get('SpkrID'), split, audioPath });
  }
  for (const [c, n] of Object.entries(dropped)) issues.push({ file, problem: `${n} utterances with EmoClass ${c} (${c === 'O' ? 'other' : 'no agreement'}) left out` });
  const sets = Object.keys(testCounts).sort();
  if (!sets.includes(testSet)) throw new Error(`${file}: no rows in test set ${testSet}; the file has ${sets.length ? sets.join(', ') : 'no test set'}`);
  for (const t of sets) issues.push({ file, problem: `test set ${t}: ${testCounts[t]} rows${t === testSet ? ' (the test split)' : ` (left out; choose it with --test-set ${t})`}` });
  return { name: 'msp-podcast', labels: MSP_LABELS, utterances, issues, primaryMetric: 'macroF1' };
}

// ---------------------------------------------------------------------------------------------
// Manifest

/** The fields a manifest row may have. */
export const MANIFEST_FIELDS = ['path', 'text', 'label', 'speaker', 'split'];

/**
 * A CSV (header with path, text, label and optionally speaker, split) or JSONL (objects with the
 * same keys). Paths are relative to the manifest. `labels` declares the label set and its order;
 * a row whose label is outside it — a typo such as `hapy` — is an error naming the file and line.
 * Without it the set is every label the rows use, sorted (`crab data check` prints it with
 * counts), and an empty label is an error. Columns and fields nothing reads are reported as
 * issues. Without a split column, a seeded 80/10/10 split is drawn.
 */
export function loadManifest(file: string, o: { labels?: string[] } = {}): Dataset {
  if (!existsSync(file)) throw new Error(`${file} not found`);
  const base = dirname(resolve(file));
  const rows: Array<{ line: number; get: (k: string) => string }> = [];
  const issues: DataIssue[] = [];
  if (file.endsWith('.jsonl') || file.endsWith('.json')) {
    readFileSync(file, 'utf8').split(/\r?\n/).forEach((l, i) => {
      if (!l.trim()) return;
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(l);
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not a JSON object (${(e as Error).message})`);
      }
      rows.push({ line: i + 1, get: (k) => (obj[k] === undefined || obj[k] === null ? '' : String(obj[k])) });
      const extra = Object.keys(obj).filter((k) => !MANIFEST_FIELDS.includes(k));
      if (extra.length) issues.push({ file, line: i + 1, problem: `field(s) ${extra.map((k) => `"${k}"`).join(', ')} not used (the manifest reads ${MANIFEST_FIELDS.join(', ')})` });
    });
    for (const r of rows) for (const k of ['path', 'label']) if (!r.get(k)) throw new Error(`${file}:${r.line}: missing "${k}"`);
  } else rows.push(...csvWithHeader(file, ['path', 'text', 'label'], { known: MANIFEST_FIELDS, issues }));
  for (const r of rows) if (!r.get('label')) throw new Error(`${file}:${r.line}: empty label; every row needs one${o.labels ? ` of ${o.labels.join(', ')}` : ''}`);
  const labels = o.labels ?? [...new Set(rows.map((r) => r.get('label')))].sort();
  const g = new Rng(17);
  const utterances: Utterance[] = [];
  for (const r of rows) {
    const label = labels.indexOf(r.get('label'));
    if (label < 0) throw new Error(`${file}:${r.line}: label "${r.get('label')}" is not one of ${labels.join(', ')} (the declared labels; fix the row or declare the label)`);
    const s = r.get('split');
    const split = (['train', 'dev', 'test'].includes(s) ? s : s === '' ? (g.next() < 0.8 ? 'train' : g.next() < 0.5 ? 'dev' : 'test') : null) as Utterance['split'] | null;
    if (!split) {
      issues.push({ file, line: r.line, problem: `split "${s}" is not train, dev or test` });
      continue;
    }
    utterances.push({ id: `${basename(r.get('path'))}#${r.line}`, label, text: r.get('text'), speaker: r.get('speaker') || 'unknown', split, audioPath: resolve(base, r.get('path')) });
  }
  return { name: basename(file), labels, utterances, issues, primaryMetric: 'macroF1' };
}

// ---------------------------------------------------------------------------------------------
// Checking

/** Counts and problems of a dataset, before anyone spends hours training. */
export interface DataReport {
  counts: Record<string, Record<string, number>>;
  /** Counts per group and class, where the corpus has a grouping (IEMOCAP: per session). */
  groups?: { name: string; counts: Record<string, Record<string, number>> };
  missingAudio: string[];
  /** Clips that exist but did not decode (when every clip was decoded); left out of the counts. */
  undecodable: Array<{ id: string; file: string; reason: string }>;
  /** Whether every clip was decoded (durations of all formats), or only WAV headers read. */
  decoded: boolean;
  emptyText: number;
  seconds: { total: number; min: number; max: number; unknown: number };
  issues: DataIssue[];
}

/** WAV duration from the header alone, or null for other formats / unreadable files. */
function wavSeconds(path: string): number | null {
  try {
    const fd = readFileSync(path);
    if (fd.toString('ascii', 0, 4) !== 'RIFF') return null;
    let p = 12;
    let byteRate = 0;
    while (p + 8 <= fd.length) {
      const id = fd.toString('ascii', p, p + 4);
      const size = fd.readUInt32LE(p + 4);
      if (id === 'fmt ') byteRate = fd.readUInt32LE(p + 16);
      if (id === 'data') return byteRate ? Math.min(size, fd.length - p - 8) / byteRate : null;
      p += 8 + size + (size % 2);
    }
  } catch {
    return null;
  }
  return null;
}

/**
 * Per-class and per-split counts, missing files, empty transcripts and durations. With `probe`
 * (every clip decoded, {@link probeCorpus}), durations cover every format and clips that did
 * not decode are reported and left out of the counts; without it, WAV headers give durations.
 */
export function checkDataset(ds: Dataset, probe?: ProbeResult): DataReport {
  const counts: Record<string, Record<string, number>> = {};
  const missingAudio: string[] = [];
  let emptyText = 0;
  const secs: number[] = [];
  let unknown = 0;
  const bad = new Set(probe?.undecodable.map((x) => x.id));
  for (const u of ds.utterances) {
    if (bad.has(u.id)) continue;
    const row = (counts[u.split] ??= Object.fromEntries(ds.labels.map((l) => [l, 0])));
    row[ds.labels[u.label]!]!++;
    if (!u.text) emptyText++;
    if (u.audioPath) {
      if (!existsSync(u.audioPath)) missingAudio.push(u.audioPath);
      else {
        const s = probe ? probe.seconds.get(u.id) ?? null : wavSeconds(u.audioPath);
        if (s === null) unknown++;
        else secs.push(s);
      }
    }
  }
  let groups: DataReport['groups'];
  if (ds.groupBy) {
    const g: Record<string, Record<string, number>> = {};
    for (const u of [...ds.utterances].sort((a, b) => ds.groupBy!.of(a).localeCompare(ds.groupBy!.of(b)))) {
      const row = (g[ds.groupBy.of(u)] ??= Object.fromEntries(ds.labels.map((l) => [l, 0])));
      row[ds.labels[u.label]!]!++;
    }
    groups = { name: ds.groupBy.name, counts: g };
  }
  return {
    counts, missingAudio, undecodable: probe?.undecodable ?? [], decoded: !!probe, emptyText, issues: ds.issues, ...(groups ? { groups } : {}),
    seconds: { total: secs.reduce((a, b) => a + b, 0), min: secs.length ? Math.min(...secs) : 0, max: secs.length ? Math.max(...secs) : 0, unknown },
  };
}

/** The report as text. */
export function formatDataReport(ds: Dataset, r: DataReport): string {
  const lines = [`${ds.name}: ${ds.utterances.length - r.undecodable.length} utterances, ${ds.labels.length} classes (${ds.labels.join(', ')}); papers report ${ds.primaryMetric}`];
  const w = Math.max(8, ...ds.labels.map((l) => l.length));
  lines.push(`${'split'.padEnd(6)} ${ds.labels.map((l) => l.padStart(w)).join(' ')}   total`);
  for (const [split, row] of Object.entries(r.counts)) {
    const vals = ds.labels.map((l) => row[l]!);
    lines.push(`${split.padEnd(6)} ${vals.map((v) => String(v).padStart(w)).join(' ')}   ${vals.reduce((a, b) => a + b, 0)}`);
  }
  if (r.groups) {
    lines.push(`${r.groups.name.padEnd(6)} ${ds.labels.map((l) => l.padStart(w)).join(' ')}   total`);
    for (const [g, row] of Object.entries(r.groups.counts)) {
      const vals = ds.labels.map((l) => row[l]!);
      lines.push(`${g.padEnd(6)} ${vals.map((v) => String(v).padStart(w)).join(' ')}   ${vals.reduce((a, b) => a + b, 0)}`);
    }
  }
  const measured = ds.utterances.length - r.missingAudio.length - r.undecodable.length - r.seconds.unknown;
  lines.push(`audio: ${r.missingAudio.length} missing${r.decoded ? `, ${r.undecodable.length} undecodable (left out of the counts)` : ''}; ` +
    `durations of ${measured} ${r.decoded ? 'decoded' : 'WAV'} files: ${(r.seconds.total / 3600).toFixed(2)} h, ${r.seconds.min.toFixed(2)}–${r.seconds.max.toFixed(2)} s` +
    (r.seconds.unknown ? ` (${r.seconds.unknown} non-WAV files not measured; without --headers-only every clip is decoded)` : ''));
  lines.push(`transcripts: ${r.emptyText} empty`);
  for (const m of r.missingAudio.slice(0, 10)) lines.push(`  missing: ${m}`);
  if (r.missingAudio.length > 10) lines.push(`  … and ${r.missingAudio.length - 10} more missing`);
  for (const m of r.undecodable.slice(0, 10)) lines.push(`  undecodable: ${m.id}: ${m.reason}`);
  if (r.undecodable.length > 10) lines.push(`  … and ${r.undecodable.length - 10} more undecodable`);
  lines.push(`issues: ${r.issues.length}`);
  for (const i of r.issues.slice(0, 20)) lines.push(`  ${i.file}${i.line ? `:${i.line}` : ''}: ${i.problem}`);
  if (r.issues.length > 20) lines.push(`  … and ${r.issues.length - 20} more`);
  return lines.join('\n');
}

/** The corpora `loadDataset` knows. */
export const DATASETS = ['synthetic', 'iemocap', 'meld', 'msp-podcast', 'manifest'] as const;
/** A corpus name. */
export type DatasetName = (typeof DATASETS)[number];

/**
 * Loads a corpus by name. `dataDir` is the corpus folder (manifest: its file); the synthetic
 * corpus needs none and takes `condition` and `size`.
 */
export function loadDataset(name: DatasetName, dataDir: string, o: { fold?: number; labels?: string[]; testSet?: string; condition?: SyntheticOptions['condition']; size?: number } = {}): Dataset {
  switch (name) {
    case 'synthetic': {
      const condition = o.condition ?? 'natural';
      const utterances = syntheticCorpus({ condition, size: o.size ?? 480, seed: SYNTH_SEED });
      return { name: `synthetic-${condition}`, labels: [...SYNTHETIC_LABELS], utterances, issues: [], primaryMetric: 'macroF1' };
    }
    case 'iemocap': return loadIemocap(dataDir, o.fold ?? 1);
    case 'meld': return loadMeld(dataDir);
    case 'msp-podcast': return loadMspPodcast(dataDir, { testSet: o.testSet });
    case 'manifest': return loadManifest(dataDir, { labels: o.labels });
  }
}
