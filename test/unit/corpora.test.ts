// Corpus loaders on small fake corpora with the real layouts: counts, label mapping, folds,
// skipped items with their reasons, clear errors for a wrong folder.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadIemocap, loadMeld, loadMspPodcast, loadManifest, loadDataset, parseCsv, checkDataset, formatDataReport } from '../../src/data/corpora.js';
import { embeddingNames } from '../../src/data/embed.js';
import { encodeWav16 } from '../../src/audio/audio.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'corpus-'));
const put = (p: string, text: string | Buffer): void => {
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, text);
};
const wav = (s: number): Buffer => encodeWav16(new Float32Array(Math.round(16000 * s)), 16000);

function fakeIemocap(): string {
  const root = tmp();
  for (let n = 1; n <= 5; n++) {
    const dialog = `Ses0${n}F_impro01`;
    const ev = join(root, `Session${n}`, 'dialog', 'EmoEvaluation');
    const codes = n === 1 ? ['neu', 'exc', 'xxx', 'ang', 'bogus'] : ['sad', 'hap', 'fru'];
    const lines = ['% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]', ''];
    codes.forEach((c, i) => {
      const id = `${dialog}_${i % 2 ? 'M' : 'F'}00${i}`;
      lines.push(`[${6 + i}.2901 - ${8 + i}.2357]\t${id}\t${c}\t[2.5000, 2.5000, 2.5000]`, `C-E1:\tNeutral;\t()`, '');
      put(join(root, `Session${n}`, 'sentences', 'wav', dialog, `${id}.wav`), wav(0.5 + i * 0.25));
    });
    put(join(ev, `${dialog}.txt`), lines.join('\n'));
    mkdirSync(join(ev, 'Categorical'), { recursive: true }); // sub-folders are not label files
    put(join(ev, 'Categorical', `${dialog}_e1_cat.txt`), 'ignored');
    const tr = codes.map((_, i) => `${dialog}_${i % 2 ? 'M' : 'F'}00${i} [00${6 + i}.2901-00${8 + i}.2357]:  Line number ${i}.`);
    if (n !== 3) put(join(root, `Session${n}`, 'dialog', 'transcriptions', `${dialog}.txt`), tr.join('\n'));
  }
  return root;
}

describe('datasets', () => {
  it('iemocap: 4-class mapping (exc → happy), xxx/fru left out with a count, unknown codes reported, leave-one-session-out folds', () => {
    const root = fakeIemocap();
    const ds = loadIemocap(root, 2);
    // session 1: neu, exc, ang kept (xxx dropped, bogus reported); sessions 2–5: sad, hap kept (fru dropped)
    expect(ds.utterances).toHaveLength(3 + 4 * 2);
    expect(ds.labels).toEqual(['neutral', 'angry', 'sad', 'happy']);
    const s1 = ds.utterances.filter((u) => u.speaker.startsWith('Ses01')).map((u) => ds.labels[u.label]);
    expect(s1).toEqual(['neutral', 'happy', 'angry']);
    expect(ds.utterances.filter((u) => u.split === 'test').every((u) => u.speaker.startsWith('Ses02'))).toBe(true);
    expect(ds.utterances.filter((u) => u.speaker.startsWith('Ses02')).every((u) => u.split === 'test')).toBe(true);
    expect(ds.issues.some((i) => /unknown emotion code "bogus"/.test(i.problem) && i.line! > 0)).toBe(true);
    expect(ds.issues.some((i) => /5 utterances with labels outside the 4-class protocol/.test(i.problem))).toBe(true);
    expect(ds.issues.some((i) => /transcript file missing/.test(i.problem) && i.file.includes('Session3'))).toBe(true);
    expect(ds.utterances[0]!.text).toBe('Line number 0.');
    const r = checkDataset(ds);
    expect(r.missingAudio).toEqual([]);
    expect(r.seconds.min).toBeCloseTo(0.5, 3);
    expect(formatDataReport(ds, r)).toMatch(/iemocap-fold2: 11 utterances/);
    // Per-session counts: session 1 neutral, happy (exc), angry; sessions 2–5 sad and happy.
    expect(r.groups?.name).toBe('session');
    expect(r.groups?.counts).toEqual({
      Ses01: { neutral: 1, angry: 1, sad: 0, happy: 1 }, Ses02: { neutral: 0, angry: 0, sad: 1, happy: 1 }, Ses03: { neutral: 0, angry: 0, sad: 1, happy: 1 },
      Ses04: { neutral: 0, angry: 0, sad: 1, happy: 1 }, Ses05: { neutral: 0, angry: 0, sad: 1, happy: 1 },
    });
    expect(formatDataReport(ds, r)).toMatch(/\nsession +neutral +angry +sad +happy +total\nSes01 +1 +1 +0 +1 +3\n/);
  });
  it('iemocap: a wrong --data-dir says what it expected', () => {
    const root = tmp();
    mkdirSync(join(root, 'Session1', 'dialog', 'EmoEvaluation'), { recursive: true });
    expect(() => loadIemocap(root)).toThrow(/expected Session\{1-5\}\/dialog\/EmoEvaluation\/\*\.txt; missing for session\(s\) 2, 3, 4, 5/);
    expect(() => loadIemocap(join(root, 'nope'))).toThrow(/not a folder; expected IEMOCAP_full_release/);
  });
  it('meld: CSV with quotes and commas, missing clips and bad cuts reported, .wav preferred over .mp4', () => {
    const root = tmp();
    const header = 'Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime';
    put(join(root, 'train_sent_emo.csv'), `${header}\n1,"Oh, really? ""No"" way",Chandler,surprise,positive,0,0,8,21,"00:16:16,059","00:16:21,731"\n2,Hi,Joey,joy,positive,0,1,8,21,"00:16:22,000","00:20:22,000"\n3,Hey,Ross,boredom,neutral,0,2,8,21,"00:00:01,000","00:00:02,000"\n`);
    put(join(root, 'dev_sent_emo.csv'), `${header}\n1,Okay,Monica,neutral,neutral,110,7,1,1,"00:00:01,000","00:00:02,000"\n`);
    put(join(root, 'test_sent_emo.csv'), `${header}\n1,Why?,Rachel,anger,negative,3,0,1,1,"00:00:01,000","00:00:03,000"\n`);
    put(join(root, 'train_splits', 'dia0_utt0.mp4'), 'x');
    put(join(root, 'train_splits', 'dia0_utt0.wav'), wav(0.5));
    put(join(root, 'train_splits', 'dia0_utt1.mp4'), 'x');
    put(join(root, 'output_repeated_splits_test', 'dia3_utt0.mp4'), 'x');
    const ds = loadMeld(root);
    expect(ds.utterances.map((u) => [u.split, ds.labels[u.label], u.text])).toEqual([['train', 'surprise', 'Oh, really? "No" way'], ['test', 'anger', 'Why?']]);
    expect(ds.utterances[0]!.audioPath!.endsWith('.wav')).toBe(true);
    expect(ds.issues.map((i) => i.problem)).toEqual([
      expect.stringMatching(/dia0_utt1 is a 240 s cut/), expect.stringMatching(/unknown emotion "boredom"/), expect.stringMatching(/dev clip dia110_utt7 is missing/),
    ]);
    expect(ds.issues[1]!.line).toBe(4);
    expect(ds.primaryMetric).toBe('weightedF1');
  });
  it('msp-podcast: 8 classes, O and X counted out, splits mapped, missing transcripts reported, every test set counted, missing audio left out', () => {
    const root = tmp();
    put(join(root, 'Labels', 'labels_consensus.csv'), 'FileName,EmoClass,EmoAct,EmoVal,EmoDom,SpkrID,Gender,Split_Set\n' +
      'MSP-PODCAST_0001_0008.wav,N,2.2,4.0,2.6,30,Male,Test1\nMSP-PODCAST_0001_0009.wav,H,4,5,4,30,Male,Train\nMSP-PODCAST_0002_0001.wav,X,1,1,1,31,Female,Train\n' +
      'MSP-PODCAST_0002_0002.wav,O,1,1,1,31,Female,Development\nMSP-PODCAST_0002_0003.wav,C,1,1,1,31,Female,Development\nMSP-PODCAST_0003_0001.wav,A,1,1,1,32,Male,Test2\n');
    put(join(root, 'Transcripts', 'MSP-PODCAST_0001_0008.txt'), 'hello there\n');
    for (const f of ['0001_0008', '0001_0009', '0002_0003', '0003_0001']) put(join(root, 'Audios', `MSP-PODCAST_${f}.wav`), wav(0.5));
    const ds = loadMspPodcast(root);
    expect(ds.utterances.map((u) => [u.id, ds.labels[u.label], u.split])).toEqual([
      ['MSP-PODCAST_0001_0008', 'neutral', 'test'], ['MSP-PODCAST_0001_0009', 'happy', 'train'], ['MSP-PODCAST_0002_0003', 'contempt', 'dev'],
    ]);
    expect(ds.utterances[0]!.text).toBe('hello there');
    expect(ds.issues.filter((i) => /EmoClass (X|O)/.test(i.problem))).toHaveLength(2);
    expect(ds.issues.filter((i) => /transcript missing/.test(i.problem))).toHaveLength(2);
    // Every test set is counted; Test1 is the test split unless another is chosen.
    expect(ds.issues.filter((i) => /^test set/.test(i.problem)).map((i) => i.problem)).toEqual(['test set Test1: 1 rows (the test split)', 'test set Test2: 1 rows (left out; choose it with --test-set Test2)']);
    const t2 = loadMspPodcast(root, { testSet: 'Test2' });
    expect(t2.utterances.filter((u) => u.split === 'test').map((u) => [u.id, t2.labels[u.label]])).toEqual([['MSP-PODCAST_0003_0001', 'angry']]);
    expect(() => loadMspPodcast(root, { testSet: 'Test3' })).toThrow(/no rows in test set Test3; the file has Test1, Test2/);
    // Missing audio is reported and left out.
    rmSync(join(root, 'Audios', 'MSP-PODCAST_0001_0009.wav'));
    const gone = loadMspPodcast(root);
    expect(gone.utterances.map((u) => u.id)).toEqual(['MSP-PODCAST_0001_0008', 'MSP-PODCAST_0002_0003']);
    expect(gone.issues.some((i) => i.file.endsWith('MSP-PODCAST_0001_0009.wav') && /audio missing .*\(Train\); left out/.test(i.problem))).toBe(true);
    // A file that disappears after loading is still caught by the check.
    expect(checkDataset(ds).missingAudio).toEqual([join(root, 'Audios', 'MSP-PODCAST_0001_0009.wav')]);
  });
  it('manifest: CSV and JSONL, relative paths, unknown labels and bad splits reported with their line', () => {
    const root = tmp();
    put(join(root, 'clips', 'a.wav'), wav(1));
    put(join(root, 'm.csv'), 'path,text,label,speaker,split\nclips/a.wav,"hi, you",happy,s1,train\nclips/b.wav,bye,sad,s2,test\nclips/c.wav,x,sad,s2,holdout\n');
    const ds = loadManifest(join(root, 'm.csv'));
    expect(ds.labels).toEqual(['happy', 'sad']);
    expect(ds.utterances.map((u) => u.split)).toEqual(['train', 'test']);
    expect(ds.utterances[0]!.audioPath).toBe(join(root, 'clips', 'a.wav'));
    expect(ds.issues[0]).toMatchObject({ line: 4, problem: expect.stringMatching(/split "holdout"/) });
    put(join(root, 'm.jsonl'), '{"path": "clips/a.wav", "text": "hi", "label": "happy"}\n{"path": "clips/a.wav", "label": "angry"}\n');
    // A label outside the declared set is an error naming the file and line (it used to be skipped).
    expect(() => loadManifest(join(root, 'm.jsonl'), { labels: ['happy', 'sad'] })).toThrow(/m\.jsonl:2: label "angry" is not one of happy, sad/);
    put(join(root, 'bad.jsonl'), '{"path": "x"\n');
    expect(() => loadManifest(join(root, 'bad.jsonl'))).toThrow(/bad\.jsonl:1: not a JSON object/);
  });
  it('manifest: a typo in a declared label set, an empty label and unused columns are named with file and line', () => {
    const root = tmp();
    put(join(root, 'm.csv'), 'path,text,label,speaker,split,mood\na.wav,hi,happy,s1,train,x\nb.wav,yo,hapy,s2,train,y\n');
    expect(() => loadManifest(join(root, 'm.csv'), { labels: ['happy', 'sad'] })).toThrow(/m\.csv:3: label "hapy" is not one of happy, sad/);
    const undeclared = loadManifest(join(root, 'm.csv'));
    expect(undeclared.labels).toEqual(['happy', 'hapy']); // printed with counts by crab data check
    expect(undeclared.issues[0]).toMatchObject({ line: 1, problem: expect.stringMatching(/column\(s\) "mood" not used/) });
    put(join(root, 'e.csv'), 'path,text,label\na.wav,hi,happy\nb.wav,yo,\n');
    expect(() => loadManifest(join(root, 'e.csv'))).toThrow(/e\.csv:3: empty label/);
    put(join(root, 'x.csv'), 'path,text,label\na.wav,hi,happy,extra\n');
    expect(loadManifest(join(root, 'x.csv')).issues[0]).toMatchObject({ line: 2, problem: expect.stringMatching(/4 fields where the header has 3/) });
    put(join(root, 'j.jsonl'), '{"path": "a.wav", "label": "happy", "emotion_score": 3}\n');
    expect(loadManifest(join(root, 'j.jsonl')).issues[0]).toMatchObject({ line: 1, problem: expect.stringMatching(/field\(s\) "emotion_score" not used/) });
  });
  it('synthetic: data check counts the embedded corpus by split and class', () => {
    const ds = loadDataset('synthetic', '', { condition: 'acted', size: 80 });
    const r = checkDataset(ds);
    expect(ds.utterances).toHaveLength(80);
    expect(Object.values(r.counts).flatMap((row) => Object.values(row)).reduce((a, b) => a + b, 0)).toBe(80);
    expect(r.missingAudio).toEqual([]);
  });
  it('embedding names: paths below the shared folder, extensions only where stems collide', () => {
    expect(embeddingNames(['/d/s1/x.wav', '/d/s2/x.wav', '/d/y.wav'])).toEqual(['s1/x', 's2/x', 'y']);
    expect(embeddingNames(['/d/a.wav', '/d/a.flac', '/d/b.wav'])).toEqual(['a.wav', 'a.flac', 'b']);
    expect(embeddingNames(['/only/one.wav'])).toEqual(['one']);
  });
  it('parseCsv: quoted newlines keep the starting line number', () => {
    expect(parseCsv('a,b\n"x\ny",2\nz,3\n')).toEqual([{ line: 1, cells: ['a', 'b'] }, { line: 2, cells: ['x\ny', '2'] }, { line: 4, cells: ['z', '3'] }]);
  });
});
