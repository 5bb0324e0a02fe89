/**
 * A deterministic synthetic bimodal emotion corpus — the embedded default that needs no data
 * files. Each utterance has audio (16 kHz) and a transcript.
 *
 * Audio: a glottal pulse train at a speaker-dependent F0 with an emotion-dependent contour,
 * through three formant resonators (speaker-scaled, vowel per syllable), syllable envelopes at
 * an emotion-dependent rate, aspiration noise, and a spectral tilt (one-pole filter).
 * Emotions move F0 level and range, contour slope, speaking rate, energy and brightness.
 * Text: carrier sentences; an emotion's lexical cue appears in only part of the utterances, so
 * neither modality alone decides the label.
 * Conditions: `acted` — balanced classes, strong cues; `natural` — imbalanced (neutral ≫ others),
 * weak prosodic cues with per-utterance jitter, fewer lexical cues and some conflicting ones.
 * Splits are by speaker (speaker-independent, like leave-one-session-out).
 * @module
 */
import { Rng } from '../tensor/rng.js';
import type { Utterance } from './utterance.js';

export type { Utterance } from './utterance.js';

/** The corpus' seed (the demo's corpus; part of the feature cache key). */
export const SYNTH_SEED = 1234;

/** Labels of the synthetic corpus. */
export const SYNTHETIC_LABELS = ['neutral', 'happy', 'angry', 'sad'] as const;

/** Generator settings. */
export interface SyntheticOptions {
  condition: 'acted' | 'natural';
  /** Utterances in all (default 480). */
  size?: number;
  /** Speakers (default 8: 6 train, 1 dev, 1 test). */
  speakers?: number;
  seed?: number;
  /** Duration range in seconds (default 0.8–1.3). */
  minSeconds?: number;
  maxSeconds?: number;
}

interface Prosody {
  f0: number; // multiplier on the speaker's F0
  range: number; // semitone excursion
  slope: number; // contour slope (semitones over the utterance)
  rate: number; // syllables per second
  energy: number;
  bright: number; // 0 = dark (steep tilt) … 1 = bright
}

const PROSODY: Record<(typeof SYNTHETIC_LABELS)[number], Prosody> = {
  neutral: { f0: 1.0, range: 2, slope: -1, rate: 4.0, energy: 0.5, bright: 0.45 },
  happy: { f0: 1.25, range: 6, slope: 3, rate: 5.0, energy: 0.7, bright: 0.65 },
  angry: { f0: 1.15, range: 5, slope: -2, rate: 5.5, energy: 1.0, bright: 0.9 },
  sad: { f0: 0.85, range: 1, slope: -4, rate: 2.8, energy: 0.3, bright: 0.15 },
};

const CARRIERS = [
  'i went to the store on tuesday', 'the meeting starts at nine tomorrow', 'she told me about the new job',
  'we took the train across the city', 'the package arrived this morning', 'he called his brother last night',
  'they moved into the house in june', 'i read the letter twice', 'the results came out today', 'you left your keys on the table',
];
const CUES: Record<(typeof SYNTHETIC_LABELS)[number], string[]> = {
  neutral: ['okay', 'i see', 'right'],
  happy: ['this is wonderful', 'i am so glad', 'that is great news'],
  angry: ['this is ridiculous', 'i am furious', 'stop doing that'],
  sad: ['i miss them', 'i feel so alone', 'it hurts so much'],
};
// [F1, F2, F3] in Hz of five vowels.
const VOWELS = [[730, 1090, 2440], [270, 2290, 3010], [530, 1840, 2480], [570, 840, 2410], [300, 870, 2240]] as const;

const SR = 16000;

/** Class shares of the natural condition (neutral ≫ others). */
const NATURAL_SHARES = [0.55, 0.2, 0.1, 0.15];

/** The corpus: utterances with audio and text, deterministic for a seed. */
export function syntheticCorpus(o: SyntheticOptions): Utterance[] {
  const size = o.size ?? 480;
  const nSpk = o.speakers ?? 8;
  const rng = new Rng(o.seed ?? 1234);
  const natural = o.condition === 'natural';
  const speakers = Array.from({ length: nSpk }, (_, i) => ({
    id: `spk${String(i).padStart(2, '0')}`,
    f0: i % 2 ? 200 + 40 * rng.next() : 105 + 30 * rng.next(),
    formant: i % 2 ? 1.12 + 0.08 * rng.next() : 0.95 + 0.08 * rng.next(),
    split: (i === nSpk - 1 ? 'test' : i === nSpk - 2 ? 'dev' : 'train') as Utterance['split'],
  }));
  const out: Utterance[] = [];
  for (let n = 0; n < size; n++) {
    const spk = speakers[n % nSpk]!;
    // Acted: every speaker cycles through the classes (balanced per speaker and split).
    const label = natural ? pick(NATURAL_SHARES, rng.next()) : Math.floor(n / nSpk) % SYNTHETIC_LABELS.length;
    const emo = SYNTHETIC_LABELS[label]!;
    // Prosodic cue strength: strong when acted; weak, jittered and sometimes another emotion's when natural.
    const strength = natural ? 0.55 : 1;
    const shown = natural && rng.next() < 0.1 ? SYNTHETIC_LABELS[Math.floor(rng.next() * 4)]! : emo;
    const p = blend(PROSODY.neutral, PROSODY[shown], strength, natural ? rng : null);
    const seconds = (o.minSeconds ?? 0.8) + ((o.maxSeconds ?? 1.3) - (o.minSeconds ?? 0.8)) * rng.next();
    const audio = synthesize(spk.f0, spk.formant, p, seconds, rng);
    // Text: carrier plus (sometimes) a lexical cue; natural speech has fewer cues and some wrong ones.
    let text = CARRIERS[Math.floor(rng.next() * CARRIERS.length)]!;
    const cueP = natural ? 0.35 : 0.6;
    const r = rng.next();
    if (r < cueP) text = `${choose(CUES[emo], rng)} ${text}`;
    else if (natural && r < cueP + 0.1) text = `${choose(CUES[SYNTHETIC_LABELS[Math.floor(rng.next() * 4)]!], rng)} ${text}`;
    out.push({ id: `${o.condition}_${String(n).padStart(4, '0')}`, speaker: spk.id, label, text, split: spk.split, audio });
  }
  return out;
}

function pick(shares: number[], u: number): number {
  let acc = 0;
  for (let i = 0; i < shares.length; i++) {
    acc += shares[i]!;
    if (u < acc) return i;
  }
  return shares.length - 1;
}
function choose<T>(xs: readonly T[], rng: Rng): T {
  return xs[Math.floor(rng.next() * xs.length)]!;
}

function blend(base: Prosody, target: Prosody, s: number, jitter: Rng | null): Prosody {
  const j = (v: number, amount: number): number => (jitter ? v * (1 + amount * (2 * jitter.next() - 1)) : v);
  const mix = (k: keyof Prosody): number => base[k] + s * (target[k] - base[k]);
  return {
    f0: j(mix('f0'), 0.08), range: j(mix('range'), 0.4), slope: mix('slope') + (jitter ? 2 * (2 * jitter.next() - 1) : 0),
    rate: j(mix('rate'), 0.15), energy: j(mix('energy'), 0.3), bright: Math.min(1, Math.max(0, j(mix('bright'), 0.3))),
  };
}

/** Source–filter synthesis of one utterance. */
function synthesize(f0Base: number, formantScale: number, p: Prosody, seconds: number, rng: Rng): Float32Array {
  const n = Math.round(seconds * SR);
  const y = new Float32Array(n);
  const sylLen = SR / p.rate;
  // Resonator state per formant.
  const st = [[0, 0], [0, 0], [0, 0]];
  let phase = 0;
  let tilt = 0;
  const vowelOf = (s: number): readonly number[] => VOWELS[(s * 7 + 3) % VOWELS.length]!;
  for (let i = 0; i < n; i++) {
    const t = i / n;
    const syl = Math.floor(i / sylLen);
    const inSyl = (i % sylLen) / sylLen;
    // F0 contour: slope over the utterance plus a per-syllable excursion.
    const semis = p.slope * (t - 0.5) + p.range * Math.sin(Math.PI * inSyl) * (syl % 2 ? 1 : -0.5);
    const f0 = f0Base * p.f0 * 2 ** (semis / 12);
    phase += f0 / SR;
    let src = 0;
    if (phase >= 1) {
      phase -= 1;
      src = 1; // glottal pulse
    }
    const env = Math.sin(Math.PI * Math.min(1, inSyl * 1.25)) ** 2;
    const excite = (src * 0.9 + 0.05 * (2 * rng.next() - 1)) * env;
    let v = 0;
    const f = vowelOf(syl);
    for (let k = 0; k < 3; k++) {
      const fc = f[k]! * formantScale;
      const bw = 80 + 40 * k;
      const r = Math.exp((-Math.PI * bw) / SR);
      const c = 2 * r * Math.cos((2 * Math.PI * fc) / SR);
      const o = (1 - r) * excite + c * st[k]![0]! - r * r * st[k]![1]!;
      st[k]![1] = st[k]![0]!;
      st[k]![0] = o;
      v += o / (k + 1);
    }
    // Spectral tilt: dark voices are low-passed more.
    const a = 0.2 + 0.75 * (1 - p.bright);
    tilt = a * tilt + (1 - a) * v;
    y[i] = p.energy * (p.bright * v + (1 - p.bright) * tilt) * 4 + 0.003 * (2 * rng.next() - 1);
  }
  return y;
}

/** A word-level vocabulary for the synthetic transcripts (RoBERTa-style special ids). */
export class WordVocab {
  readonly ids = new Map<string, number>([['<s>', 0], ['<pad>', 1], ['</s>', 2], ['<unk>', 3]]);
  constructor(texts: Iterable<string>) {
    for (const t of texts) for (const w of t.split(/\s+/)) if (w && !this.ids.has(w)) this.ids.set(w, this.ids.size);
  }
  get size(): number {
    return this.ids.size;
  }
  /** `<s> words </s>`. */
  encode(text: string): number[] {
    return [0, ...text.split(/\s+/).filter(Boolean).map((w) => this.ids.get(w) ?? 3), 2];
  }
}
