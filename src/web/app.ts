/// <reference lib="dom" />
/**
 * The web app `crab serve` serves: trains the Crab head in the tab on the synthetic corpus's
 * cached features (fetched from the server as a safetensors file) with a live loss curve, the
 * dev score per epoch and the test confusion matrix; predicts an audio file and its transcript
 * with a served run (its checkpoint and encoders loaded from their bytes); shows the adapter, and
 * says what to enable when the browser has no WebGPU. Failures show on the page.
 * `window.crabApp` exposes the same steps to tests.
 * @module
 */
import {
  initDevice, deviceInfo, trainHead, evaluate, NoAdapterError, SafetensorsFile, featureSetFrom, fetchedFiles, modelFileNames, blobSource, urlSource, runFromFiles, predictAudio, parseWav, prepareAudio,
  type FeatureSet, type TrainConfig, type Metrics, type Prediction, type RunStateLike, type ModelFiles,
} from '../browser.js';

interface Info {
  labels: string[];
  config: Partial<TrainConfig>;
  run: { dir: string; labels: string[]; encoders?: RunStateLike['encoders']; finetune: boolean } | null;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function showError(msg: string): void {
  const el = $('error');
  el.textContent = msg;
  el.hidden = false;
}

/** The synthetic corpus's features from the server (computed there once, then cached). */
async function loadFeatures(condition: string, size: number): Promise<FeatureSet> {
  const r = await fetch(`./api/features?condition=${encodeURIComponent(condition)}&size=${size}`);
  if (!r.ok) throw new Error(`the server could not give the features: ${(await r.text()) || r.statusText}`);
  return featureSetFrom(SafetensorsFile.fromBytes(new Uint8Array(await r.arrayBuffer()), `features (${condition}, ${size})`)).set;
}

async function info(): Promise<Info> {
  const r = await fetch('./api/info');
  if (!r.ok) throw new Error(`the server did not answer /api/info (${r.status})`);
  return (await r.json()) as Info;
}

/** The head's cross-attention over time: speech frames (rows, 20 ms each) over tokens (columns), darker = more weight. */
function attentionMap(a: number[][]): HTMLElement {
  const box = document.createElement('div');
  box.id = 'attention';
  const T = a.length;
  const S = a[0]?.length ?? 0;
  const [W, H] = [300, 120];
  const c = document.createElement('canvas');
  c.width = W;
  c.height = H;
  const g = c.getContext('2d')!;
  // Shade from the smallest weight to the largest, so near-uniform attention still shows its structure.
  const flat = a.flat();
  const [min, max] = [Math.min(...flat), Math.max(...flat)];
  const span = Math.max(max - min, 1e-9);
  // Time runs left to right, tokens top to bottom.
  for (let t = 0; t < T; t++) {
    for (let s = 0; s < S; s++) {
      g.fillStyle = `rgba(45,108,223,${(0.05 + (0.95 * (a[t]![s]! - min)) / span).toFixed(3)})`;
      g.fillRect((t * W) / T, (s * H) / S, Math.ceil(W / T), Math.ceil(H / S));
    }
  }
  box.innerHTML = `<div style="font-size:13px;margin-top:10px">cross-attention: speech over ${T} frames (${(T * 0.02).toFixed(2)} s, left to right) attending to ${S} tokens (top to bottom); weights ${min.toFixed(3)}–${max.toFixed(3)}, light to dark</div>`;
  box.append(c);
  return box;
}

/** A line chart of `ys` in an SVG, axes ticked. */
function drawLoss(svg: SVGSVGElement, ys: number[], total: number): void {
  const [W, H, L, B] = [420, 260, 46, 28];
  const max = Math.max(...ys, 1e-9);
  const x = (i: number): number => L + ((W - L - 10) * i) / Math.max(1, total - 1);
  const y = (v: number): number => 10 + (H - B - 10) * (1 - v / max);
  const path = ys.map((v, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join('');
  const ticks = [0, 0.5, 1].map((f) => `<text x="${L - 6}" y="${y(f * max) + 4}" text-anchor="end">${(f * max).toFixed(2)}</text><line x1="${L}" x2="${W - 10}" y1="${y(f * max)}" y2="${y(f * max)}" stroke="#eef0f4"/>`).join('');
  svg.innerHTML = `${ticks}<line x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}" stroke="#8a93a6"/><line x1="${L}" y1="10" x2="${L}" y2="${H - B}" stroke="#8a93a6"/>` +
    `<text x="${(L + W) / 2}" y="${H - 6}" text-anchor="middle">step (${ys.length} of ${total})</text>` +
    `<path id="loss-path" d="${path}" fill="none" stroke="#2d6cdf" stroke-width="2"/>`;
}

function drawConfusion(el: HTMLElement, m: Metrics, labels: string[]): void {
  const max = Math.max(1, ...m.confusion.flat());
  const head = `<tr><th>true \\ predicted</th>${labels.map((l) => `<th>${l}</th>`).join('')}</tr>`;
  const rows = m.confusion.map((row, i) => `<tr><th>${labels[i]}</th>${row.map((v) => `<td style="background:rgba(45,108,223,${(0.85 * v) / max})">${v}</td>`).join('')}</tr>`).join('');
  el.innerHTML = `<table class="confusion">${head}${rows}</table>`;
}

/** Trains and reports; what the Train button runs (and tests call). */
async function train(o: { condition: string; size: number; epochs?: number; maxSteps?: number; config?: Partial<TrainConfig> }): Promise<{ losses: number[]; test: Metrics | null }> {
  const meta = await info();
  const status = $('status');
  status.textContent = 'fetching features…';
  const features = await loadFeatures(o.condition, o.size);
  const cfg = { ...meta.config, ...o.config, ...(o.epochs ? { epochs: o.epochs } : {}) };
  const steps = Math.ceil(features.items.filter((i) => i.split === 'train').length / (cfg.batchSize ?? 32)) * (cfg.epochs ?? 8);
  const total = Math.min(steps, o.maxSteps ?? steps);
  const svg = $('loss') as unknown as SVGSVGElement;
  const losses: number[] = [];
  const t0 = performance.now();
  const r = await trainHead(features, meta.labels, cfg, {
    maxSteps: o.maxSteps,
    onStep: (step, loss) => {
      losses.push(loss);
      drawLoss(svg, losses, total);
      status.textContent = `step ${step}/${total}: loss ${loss.toFixed(4)}  (${(step / ((performance.now() - t0) / 1000)).toFixed(1)} steps/s)`;
    },
    onEpoch: (epoch, dev) => {
      $('scores').textContent = `epoch ${epoch}: dev macro-F1 ${(100 * dev.macroF1).toFixed(1)}`;
    },
  });
  const testItems = features.items.filter((i) => i.split === 'test');
  const test = testItems.length ? (await evaluate(r.crab, testItems, features, meta.labels.length)).metrics : null;
  if (test) {
    drawConfusion($('confusion'), test, meta.labels);
    $('scores').textContent = `test: WA ${(100 * test.accuracy).toFixed(1)}  UA ${(100 * test.uar).toFixed(1)}  macro-F1 ${(100 * test.macroF1).toFixed(1)}`;
  }
  status.textContent = `done: ${losses.length} steps in ${((performance.now() - t0) / 1000).toFixed(1)} s`;
  status.dataset.done = 'true';
  return { losses, test };
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${(await r.text()) || r.statusText}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The adapter's largest storage binding: checkpoints with a larger tensor are refused before download. */
const maxBinding = (): number => deviceInfo().limits.maxStorageBufferBindingSize;

/** A served model folder's files (the server lists what it may give), checkpoints fetched by byte ranges. */
async function servedFolder(kind: 'wavlm' | 'roberta'): Promise<ModelFiles> {
  const names = (await (await fetch(`./api/run/encoders/${kind}/`)).json()) as string[];
  return fetchedFiles(kind, names, (n) => urlSource(new URL(`./api/run/encoders/${kind}/${n}`, location.href).href), { maxBinding: maxBinding() });
}

let runCache: Promise<{ run: ReturnType<typeof runFromFiles>; state: RunStateLike }> | null = null;

/** The served run's head and encoders, built in the page once. */
function servedRun(): Promise<{ run: ReturnType<typeof runFromFiles>; state: RunStateLike }> {
  runCache ??= (async () => {
    const state = JSON.parse(new TextDecoder().decode(await fetchBytes('./api/run/state.json'))) as RunStateLike;
    const model = await SafetensorsFile.openAsync(await urlSource(new URL('./api/run/model.safetensors', location.href).href), 'best/model.safetensors');
    await model.fetchTensors();
    const files = state.encoders?.kind === 'hf' ? { wavlm: await servedFolder('wavlm'), roberta: await servedFolder('roberta') } : {};
    return { run: runFromFiles(state, model, files), state };
  })();
  runCache.catch(() => (runCache = null));
  return runCache;
}

/** The files of a picked folder, by their path below it (`best/state.json`); nothing is read yet. */
function pickedFiles(input: HTMLInputElement): Map<string, File> {
  const out = new Map<string, File>();
  for (const f of Array.from(input.files ?? [])) out.set((f.webkitRelativePath || f.name).split('/').slice(1).join('/') || f.name, f);
  return out;
}

/** A run folder opened from disk (and, for Hugging Face encoders, their folders): its best checkpoint, built in the page. */
async function openRunFolder(runInput: HTMLInputElement, encInput: HTMLInputElement): Promise<string> {
  const files = pickedFiles(runInput);
  const name = runInput.files?.[0]?.webkitRelativePath.split('/')[0] ?? 'the folder';
  const state = files.get('best/state.json');
  const model = files.get('best/model.safetensors');
  if (!state || !model) throw new Error(`${name} has no best/ checkpoint (best/state.json and best/model.safetensors): open a folder written by crab train or crab demo`);
  const st = JSON.parse(await state.text()) as RunStateLike;
  let enc: { wavlm?: ModelFiles; roberta?: ModelFiles } = {};
  if (st.encoders?.kind === 'hf') {
    const all = pickedFiles(encInput);
    // One folder holding both encoders' folders: pick each by its config.json's model_type.
    const dirs = new Map<string, Record<string, File>>();
    for (const [p, b] of all) {
      const i = p.lastIndexOf('/');
      const [dir, file] = i < 0 ? ['', p] : [p.slice(0, i), p.slice(i + 1)];
      (dirs.get(dir) ?? dirs.set(dir, {}).get(dir)!)[file] = b;
    }
    const typeOf = async (f: Record<string, File>): Promise<string> => (f['config.json'] ? (JSON.parse(await f['config.json'].text()) as { model_type?: string }).model_type ?? '' : '');
    const find = async (t: string): Promise<ModelFiles | undefined> => {
      for (const [dir, f] of dirs) {
        if ((await typeOf(f)) === t) return fetchedFiles(dir || t, modelFileNames(Object.keys(f)), (n) => blobSource(f[n]!), { maxBinding: maxBinding() });
      }
      return undefined;
    };
    enc = { wavlm: await find('wavlm'), roberta: await find('roberta') };
    if (!enc.wavlm || !enc.roberta) throw new Error(`${name} reads Hugging Face encoders (${st.encoders.wavlm}, ${st.encoders.roberta}): open a folder holding both model folders (their config.json say model_type wavlm and roberta)`);
  }
  const checkpoint = await SafetensorsFile.openAsync(blobSource(model), `${name}/best/model.safetensors`);
  await checkpoint.fetchTensors();
  const run = runFromFiles(st, checkpoint, enc);
  runCache = Promise.resolve({ run, state: st });
  return `run ${name} (from this computer): ${st.labels.join(', ')}; encoders ${st.encoders?.kind === 'hf' ? `${st.encoders.wavlm} + ${st.encoders.roberta}` : 'the demo\'s tiny ones'}${st.config.finetune ? ' (fine-tuned)' : ''}`;
}

/** An audio file's samples: WAV parsed here as crab does, anything else decoded by the browser (at 48 kHz). */
async function decodeFile(bytes: Uint8Array, name: string): Promise<{ samples: Float32Array; sampleRate: number }> {
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic === 'RIFF' || magic === 'RIFX') return parseWav(bytes, name);
  const ctx = new OfflineAudioContext(1, 1, 48000);
  let buf: AudioBuffer;
  try {
    buf = await ctx.decodeAudioData(bytes.slice().buffer);
  } catch {
    throw new Error(`${name}: not audio this browser can decode`);
  }
  const out = new Float32Array(buf.length);
  for (let c = 0; c < buf.numberOfChannels; c++) buf.getChannelData(c).forEach((v, i) => (out[i]! += v / buf.numberOfChannels));
  return { samples: out, sampleRate: buf.sampleRate };
}

/** `seconds` of the microphone, as the recorder's encoded bytes (the browser decodes them). */
async function record(seconds: number): Promise<Uint8Array> {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error('this page has no microphone access (browsers give it on https or localhost only)');
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (e) {
    throw new Error(`the microphone: ${(e as Error).message} (allow it in the browser's site settings)`);
  }
  const chunks: Blob[] = [];
  const rec = new MediaRecorder(stream);
  rec.ondataavailable = (ev): void => void chunks.push(ev.data);
  const stopped = new Promise<void>((done) => (rec.onstop = (): void => done()));
  rec.start();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  rec.stop();
  await stopped;
  stream.getTracks().forEach((t) => t.stop());
  return new Uint8Array(await new Blob(chunks).arrayBuffer());
}

/** Predicts one utterance with the served run (what the Predict button runs, and tests call). */
async function predict(bytes: Uint8Array, name: string, text: string): Promise<Prediction> {
  const { run, state } = await servedRun();
  const audio = prepareAudio(await decodeFile(bytes, name), { maxSeconds: run.encoders.maxSeconds, normalize: run.encoders.normalize }, name);
  const p = await predictAudio(run.crab, state.labels, run.encoders, audio, text, (state.speechLayers ?? 1) > 1, name, true);
  const el = $('prediction');
  el.dataset.probabilities = JSON.stringify(p.probabilities);
  el.innerHTML = `<div><b>${p.label}</b></div><table class="bars">${Object.entries(p.probabilities)
    .map(([l, v]) => `<tr><td>${l}</td><td style="width:180px"><div class="bar" style="width:${(100 * v).toFixed(1)}%"></div></td><td>${(100 * v).toFixed(1)}%</td></tr>`).join('')}</table>`;
  if (p.attention) el.append(attentionMap(p.attention));
  return p;
}

async function main(): Promise<void> {
  const button = $<HTMLButtonElement>('train');
  try {
    await initDevice();
    const d = deviceInfo();
    $('adapter').textContent = `WebGPU adapter: ${d.name || 'unnamed'}${d.isCpu ? ' (a CPU implementation)' : ''}; subgroups ${d.hasSubgroups ? 'yes' : 'no'}; largest storage binding ${(d.limits.maxStorageBufferBindingSize / 2 ** 20).toFixed(0)} MiB`;
  } catch (e) {
    button.disabled = true;
    $('adapter').textContent = 'no WebGPU';
    showError(e instanceof NoAdapterError ? e.message : `WebGPU could not start: ${(e as Error).message}`);
    return;
  }
  const meta = await info();
  const predictButton = $<HTMLButtonElement>('predict');
  if (meta.run) {
    $('run-info').textContent = `run ${meta.run.dir}: ${meta.run.labels.join(', ')}; encoders ${meta.run.encoders?.kind === 'hf' ? `${meta.run.encoders.wavlm} + ${meta.run.encoders.roberta}` : 'the demo\'s tiny ones'}${meta.run.finetune ? ' (fine-tuned)' : ''}`;
    predictButton.disabled = false;
    $<HTMLButtonElement>('record').disabled = false;
  }
  const folderInput = $<HTMLInputElement>('run-folder');
  folderInput.addEventListener('change', () => {
    $('error').hidden = true;
    openRunFolder(folderInput, $<HTMLInputElement>('encoder-folders'))
      .then((text) => {
        $('run-info').textContent = text;
        predictButton.disabled = false;
        $<HTMLButtonElement>('record').disabled = false;
      })
      .catch((e: unknown) => showError((e as Error).message));
  });
  const recordButton = $<HTMLButtonElement>('record');
  recordButton.addEventListener('click', () => {
    recordButton.disabled = true;
    $('error').hidden = true;
    $('status').textContent = 'recording 4 s…';
    record(4)
      .then((b) => predict(b, 'the microphone recording', ($('transcript') as HTMLInputElement).value))
      .then(() => ($('status').textContent = 'recorded and predicted'))
      .catch((e: unknown) => showError((e as Error).message))
      .finally(() => (recordButton.disabled = false));
  });
  predictButton.addEventListener('click', () => {
    const file = ($('audio') as HTMLInputElement).files?.[0];
    if (!file) return showError('choose an audio file first');
    predictButton.disabled = true;
    $('error').hidden = true;
    file.arrayBuffer()
      .then((b) => predict(new Uint8Array(b), file.name, ($('transcript') as HTMLInputElement).value))
      .catch((e: unknown) => showError((e as Error).message))
      .finally(() => (predictButton.disabled = false));
  });
  button.addEventListener('click', () => {
    button.disabled = true;
    $('error').hidden = true;
    const size = Number(($('size') as HTMLInputElement).value);
    const epochs = Number(($('epochs') as HTMLInputElement).value);
    train({ condition: ($('condition') as HTMLSelectElement).value, size, epochs })
      .catch((e: unknown) => showError((e as Error).message))
      .finally(() => (button.disabled = false));
  });
}

(window as unknown as { crabApp: unknown }).crabApp = { train, predict, ready: main() };
