// The built `crab` command line, spawned as a user runs it: every exit path ends with 0, 1, 2 or
// 130 and one clear line on stderr (no signal, no stack trace, no Dawn start-up lines), paths
// that used to crash run several times, --json prints one parsable document, and Ctrl-C saves a
// run that --resume then finishes.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWav16 } from '../../src/audio/audio.js';
import type { DataCheckJson, TrainJson, EvalJson, PredictJson } from '../../src/commands/json.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const crab = join(root, 'dist', 'crab.js');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'crab-cli-'));
const env = { ...process.env, CRAB_DEBUG: '' };

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}
function run(args: string[], cwd = root): Run {
  const r = spawnSync(process.execPath, [crab, ...args], { cwd, env, encoding: 'utf8', timeout: 110_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
/** One line on stderr, no stack trace, no Dawn start-up warning. */
function oneLine(r: Run): string {
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/^\s+at |artificially reduced|Warning:/m);
  return lines[0]!;
}

beforeAll(() => {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, encoding: 'utf8' });
  expect(b.status, b.stderr).toBe(0);
}, 120_000);

describe('cli', () => {
  it('cli: --help, --version and every command\'s --help exit 0 on stdout', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(run(['--version'])).toMatchObject({ status: 0, stdout: `${pkg.version}\n` });
    const h = run(['--help']);
    expect(h.status).toBe(0);
    for (const c of ['demo', 'train', 'data', 'eval', 'predict', 'embed', 'features', 'serve', 'bench']) {
      expect(h.stdout).toContain(`  ${c} `);
      const ch = run([c, '--help']);
      expect(ch.status, c).toBe(0);
      expect(ch.stdout, c).toMatch(/^crab /);
      expect(ch.stdout, c).toContain('--help');
    }
  });

  it('cli: usage errors exit 2 with one line naming the flag or key, five times each (the device is never opened)', () => {
    const d = tmp();
    writeFileSync(join(d, 'neg.yaml'), 'epochs: -5\n');
    writeFileSync(join(d, 'typo.yaml'), 'crab:\n  hiden: 32\n');
    writeFileSync(join(d, 'h33.yaml'), 'crab:\n  hidden: 33\n');
    const cases: Array<[string[], RegExp]> = [
      [['train', '--dataset', 'synthetic', '--epochs'], /--epochs needs a value/],
      [['train', '--dataset', 'synthetic', '--best-metric', 'foo'], /--best-metric: "foo" is not allowed: expected one of "macroF1"/],
      [['train', '--dataset', 'synthetic', '--condition', 'foo'], /--condition: "foo" is not allowed: expected one of "natural", "acted"/],
      [['train', '--dataset', 'synthetic', '--config', join(d, 'neg.yaml')], /neg\.yaml: epochs: -5 is not allowed: expected > 0/],
      [['train', '--dataset', 'synthetic', '--config', join(d, 'typo.yaml')], /typo\.yaml: crab\.hiden: unknown key \(known: hidden/],
      [['train', '--dataset', 'synthetic', '--config', join(d, 'h33.yaml')], /h33\.yaml: crab\.hidden: 33 is not allowed: expected an even number/],
      [['train', '--dataset', 'synthetic', '--epochs', '-1'], /--epochs: "-1" is not allowed: expected ≥ 1/],
      [['train', '--dataset', 'imdb'], /--dataset: "imdb" is not allowed: expected one of "synthetic", "iemocap"/],
      [['train', '--dataset', 'synthetic', '--hidden', '32', '--config', join(d, 'missing.yaml')], /missing\.yaml not found/],
      [['train', '--dataset', 'meld'], /--data-dir is required for meld/],
      [['train', '--dataset', 'synthetic', '--resume', '--run-dir', join(d, 'none')], /nothing to resume/],
      [['data', 'check', '--dataset', 'manifest'], /--data-dir is required for manifest/],
      [['nope'], /unknown command "nope"/],
      [['eval', '--run', join(d, 'none')], /has no best\/ checkpoint/],
    ];
    for (const [args, msg] of cases) {
      for (let k = 0; k < (args.includes('--epochs') && args.length === 4 ? 5 : 1); k++) {
        const r = run(args);
        expect(r.signal, args.join(' ')).toBeNull();
        expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(2);
        expect(oneLine(r), args.join(' ')).toMatch(msg);
        expect(r.stdout).toBe('');
      }
    }
  });

  it('cli: data check on a 3-row manifest exits 0 five times; --json holds counts, totals and every skipped or missing item', () => {
    const d = tmp();
    writeFileSync(join(d, 'a.wav'), encodeWav16(new Float32Array(8000), 16000));
    writeFileSync(join(d, 'm.csv'), 'path,text,label,split,mood\na.wav,hi,happy,train,x\nb.wav,yo,sad,test,y\na.wav,ok,sad,holdout,z\n');
    for (let k = 0; k < 5; k++) {
      const r = run(['data', 'check', '--dataset', 'manifest', '--data-dir', join(d, 'm.csv')]);
      expect(r.signal).toBeNull();
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/m\.csv: 2 utterances, 2 classes \(happy, sad\)/);
    }
    const j = run(['data', 'check', '--dataset', 'manifest', '--data-dir', join(d, 'm.csv'), '--json']);
    expect(j.status).toBe(0);
    const doc = JSON.parse(j.stdout) as DataCheckJson;
    expect(doc.counts).toEqual({ train: { happy: 1, sad: 0 }, test: { happy: 0, sad: 1 } });
    expect(doc.totals).toEqual({ utterances: 2, perClass: { happy: 1, sad: 1 }, perSplit: { train: 1, test: 1 } });
    expect(doc.missing).toEqual([{ id: 'b.wav#3', file: join(d, 'b.wav'), reason: 'audio file not found' }]);
    expect(doc.skipped.map((s) => [s.line, s.reason.slice(0, 20)])).toEqual([[1, 'column(s) "mood" not'], [4, 'split "holdout" is n']]);
    const typo = run(['data', 'check', '--dataset', 'manifest', '--data-dir', join(d, 'm.csv'), '--labels', 'happy,sadd']);
    expect(typo.status).toBe(1);
    expect(oneLine(typo)).toMatch(/m\.csv:3: label "sad" is not one of happy, sadd/);
  });

  it('cli: data check decodes every clip: a MELD clip that exists but does not decode is named and left out of the counts', () => {
    const d = tmp();
    const header = 'Sr No.,Utterance,Speaker,Emotion,Sentiment,Dialogue_ID,Utterance_ID,Season,Episode,StartTime,EndTime';
    const row = (i: number, emo: string): string => `${i},Line ${i},Joey,${emo},neutral,0,${i},1,1,"00:00:01,000","00:00:03,000"`;
    writeFileSync(join(d, 'train_sent_emo.csv'), [header, row(0, 'joy'), row(1, 'anger'), row(2, 'sadness'), row(3, 'joy')].join('\n'));
    writeFileSync(join(d, 'dev_sent_emo.csv'), header);
    writeFileSync(join(d, 'test_sent_emo.csv'), header);
    mkdirSync(join(d, 'train_splits'));
    for (const i of [0, 1]) writeFileSync(join(d, 'train_splits', `dia0_utt${i}.wav`), encodeWav16(new Float32Array(16000 * (i + 1)), 16000));
    writeFileSync(join(d, 'train_splits', 'dia0_utt2.wav'), Buffer.from('RIFF\x10\x00\x00\x00WAVEjunkjunk')); // exists, does not decode
    writeFileSync(join(d, 'train_splits', 'dia0_utt3.mp4'), Buffer.from('not an mp4 at all')); // neither, with or without ffmpeg
    const r = run(['data', 'check', '--dataset', 'meld', '--data-dir', d, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as DataCheckJson;
    expect(doc.decoded).toBe(true);
    expect(doc.undecodable.map((u) => u.id)).toEqual(['train_dia0_utt2', 'train_dia0_utt3']);
    expect(doc.undecodable[0]!.reason).toMatch(/dia0_utt2\.wav: not a readable WAV file/);
    expect(doc.undecodable[1]!.reason).toMatch(/dia0_utt3\.mp4: .*ffmpeg/);
    expect(doc.totals.utterances).toBe(2);
    expect(doc.counts.train).toMatchObject({ joy: 1, anger: 1, sadness: 0 });
    expect(doc.seconds).toMatchObject({ total: 3, min: 1, max: 2, unknown: 0 });
    const text = run(['data', 'check', '--dataset', 'meld', '--data-dir', d]);
    expect(text.stdout).toMatch(/meld: 2 utterances/);
    expect(text.stdout).toMatch(/audio: 0 missing, 2 undecodable \(left out of the counts\); durations of 2 decoded files/);
    expect(text.stdout).toMatch(/undecodable: train_dia0_utt2: /);
    // --headers-only: the old, fast check (counts every clip that exists).
    const quick = JSON.parse(run(['data', 'check', '--dataset', 'meld', '--data-dir', d, '--json', '--headers-only']).stdout) as DataCheckJson;
    expect(quick).toMatchObject({ decoded: false, undecodable: [], totals: { utterances: 4 } });
  });

  it('cli: a failure in a GPU command exits 1 with one line; CRAB_DEBUG adds the stack', () => {
    const d = tmp();
    mkdirSync(join(d, 'best'), { recursive: true });
    writeFileSync(join(d, 'best', 'state.json'), '{ not json');
    const r = run(['eval', '--run', d]);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    expect(oneLine(r)).toMatch(/^crab: .*JSON/);
    const dbg = spawnSync(process.execPath, [crab, 'eval', '--run', d], { cwd: root, env: { ...process.env, CRAB_DEBUG: '1' }, encoding: 'utf8' });
    expect(dbg.status).toBe(1);
    expect(dbg.stderr).toMatch(/^\s+at /m);
  });

  it('cli: train --json on the synthetic corpus, Ctrl-C saves and exits 130, --resume finishes, eval and predict --json', async () => {
    const d = tmp();
    const runDir = join(d, 'run');
    const cache = join(d, 'cache');
    const base = ['train', '--dataset', 'synthetic', '--size', '80', '--epochs', '4', '--run-dir', runDir, '--cache-dir', cache];
    // Ctrl-C after the first epoch: the run saves and stops with 130, the message on its own line.
    // stderr goes to a file, as a shell's `2> log` does (Dawn's start-up lines can only be hidden
    // on a terminal, a file or a pipe, not on the socket Node gives a child by default).
    const log = join(d, 'stderr.txt');
    const fd = openSync(log, 'w');
    const child = spawn(process.execPath, [crab, ...base], { cwd: root, env, stdio: ['ignore', 'ignore', fd] });
    closeSync(fd);
    let err = '';
    const status = await new Promise<number | null>((resolve) => {
      const poll = setInterval(() => {
        err = readFileSync(log, 'utf8');
        if (/epoch 1: train loss/.test(err) && !child.killed) child.kill('SIGINT');
      }, 100);
      child.on('exit', (code) => {
        clearInterval(poll);
        err = readFileSync(log, 'utf8');
        resolve(code);
      });
    });
    expect(status, err).toBe(130);
    expect(err).toMatch(/\ninterrupted: saved to .*last; continue with --resume\n$/);
    expect(err).not.toMatch(/artificially reduced/);
    expect(err).toMatch(/epoch 1\/4 \[#+\] \d+\/\d+ .*ETA|epoch 1\/4 \[#+\] \d+\/\d+ .* mean loss/);
    // A new run in the used folder is refused; a resume with other settings names the difference.
    expect(run(base).status).toBe(2);
    const other = run([...base.map((a) => (a === '4' ? '5' : a)), '--resume']);
    expect(other.status).toBe(2);
    expect(oneLine(other)).toMatch(/config epochs: 4 → 5/);
    const r = run([...base, '--resume', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as TrainJson;
    expect(doc.runDir).toBe(runDir);
    expect(doc.best?.metric).toBe('macroF1');
    expect(doc.test?.labels).toEqual(['neutral', 'happy', 'angry', 'sad']);
    const epochs = readFileSync(join(runDir, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.type === 'epoch');
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')).config.crab.hidden).toBe(32); // the synthetic defaults
    const ev = run(['eval', '--run', runDir, '--cache-dir', cache, '--json']);
    expect(ev.status, ev.stderr).toBe(0);
    const e = JSON.parse(ev.stdout) as EvalJson;
    expect(e.scores.macroF1).toBeCloseTo(doc.test!.macroF1, 10);
    expect(existsSync(e.report)).toBe(true);
    writeFileSync(join(d, 'x.wav'), encodeWav16(Float32Array.from({ length: 16000 }, (_, i) => 0.2 * Math.sin(i / 9)), 16000));
    const p = run(['predict', join(d, 'x.wav'), '--run', runDir, '--text', 'i am so happy', '--json']);
    expect(p.status, p.stderr).toBe(0);
    const pj = JSON.parse(p.stdout) as PredictJson;
    expect(Object.keys(pj.probabilities)).toEqual(['neutral', 'happy', 'angry', 'sad']);
    expect(Object.values(pj.probabilities).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  }, 240_000);

  it('cli: serve prints its address, answers, refuses a used port (exit 2) and stops on Ctrl-C with exit 0', async () => {
    const p = spawn(process.execPath, [crab, 'serve', '--port', '0', '--cache-dir', tmp()], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.on('exit', (code, signal) => r({ code, signal })));
    const url = await new Promise<string>((ok, bad) => {
      let out = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /crab serve: (http:\/\/\S+)/.exec(out);
        if (m) ok(m[1]!);
      });
      setTimeout(() => bad(new Error(`no address printed: ${out}`)), 30_000);
    });
    const info = (await (await fetch(`${url}api/info`)).json()) as { labels: string[] };
    expect(info.labels).toEqual(['neutral', 'happy', 'angry', 'sad']);
    expect((await fetch(`${url}index.html`)).status).toBe(200);
    expect((await fetch(`${url}../package.json`)).status).toBe(404);
    const used = run(['serve', '--port', new URL(url).port]);
    expect(used.status).toBe(2);
    expect(oneLine(used)).toMatch(/--port \d+ is in use/);
    p.kill('SIGINT');
    expect(await exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});

