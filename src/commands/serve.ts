/**
 * `crab serve`: the web app on localhost — the browser build (`dist/browser/`), and the synthetic
 * corpus's cached features the page trains the Crab head on (computed here once, on this
 * machine's adapter, then read from the cache).
 * @module
 */
import { createServer, type Server } from 'node:http';
import { readFileSync, existsSync, readdirSync, statSync, createReadStream } from 'node:fs';
import { join, dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initDevice } from '../tensor/device.js';
import { syntheticFeatures, featuresPath } from '../data/features.js';
import { SYNTHETIC_LABELS } from '../data/synthetic.js';
import { SYNTHETIC_DEFAULTS } from '../train/config.js';
import { readState } from '../train/run_checkpoint.js';
import type { TrainState } from '../train/trainer.js';
import { resolveModel } from '../model/resolve.js';
import { modelFileNames, MODEL_FILE } from '../model/model_files.js';
import { parseFlags, type FlagTable } from '../util/flags.js';
import { usage, UsageError, type Command } from './common.js';

const FLAGS = {
  port: { type: 'int', min: 0, default: 8080, arg: 'N', help: 'the port (0: any free one)' },
  host: { type: 'string', default: '127.0.0.1', arg: 'ADDR', help: 'the address to listen on (0.0.0.0: every interface)' },
  'cache-dir': { type: 'string', arg: 'DIR', default: '.cache/crab-ser', help: 'feature cache (as crab train)' },
  run: { type: 'string', arg: 'DIR', help: 'a run folder (crab train or demo) the page predicts with' },
} satisfies FlagTable;

/** Files of a model folder the page may fetch (nothing else is served from it). */

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json', '.json': 'application/json' };

/** The browser build: `dist/browser` beside the running bundle, or under the package root. */
function browserDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const d of [join(here, 'browser'), join(here, '..', '..', 'dist', 'browser'), join(process.cwd(), 'dist', 'browser')]) if (existsSync(join(d, 'index.html'))) return d;
  throw new Error('the browser build is missing (dist/browser/index.html): run `npm run build`');
}

/** A run folder's best checkpoint state and, for Hugging Face encoders, their folders. */
function servedRun(dir: string): { state: TrainState; encoderDirs: { wavlm?: string; roberta?: string } } {
  if (!existsSync(join(dir, 'best', 'state.json')) || !existsSync(join(dir, 'best', 'model.safetensors'))) {
    throw new UsageError(`serve: --run: ${dir} has no best/ checkpoint (a folder written by crab train or crab demo)`);
  }
  const state = readState<TrainState>(join(dir, 'best'));
  if (!state.encoders) throw new UsageError(`serve: --run: ${dir} does not record its encoders (trained by an older version); retrain it`);
  const spec = state.encoders;
  return { state, encoderDirs: spec.kind === 'hf' ? { wavlm: resolveModel(spec.wavlm), roberta: resolveModel(spec.roberta) } : {} };
}

/** Options of {@link startServer}. */
export interface ServeOptions {
  port: number;
  host?: string;
  cacheDir: string;
  /** A run folder to predict with (its best/ checkpoint and, for Hugging Face encoders, their folders). */
  run?: string;
  /** Log each request's failures (default: stderr). */
  log?: (line: string) => void;
}

/**
 * Starts the web app's server; resolves when it listens, with its URL. Routes: the static files
 * of the browser build; `/api/info` (labels and the synthetic corpus's training settings);
 * `/api/features?condition=acted|natural&size=N` (the cached features, safetensors bytes).
 */
export async function startServer(o: ServeOptions): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const root = browserDir();
  const run = o.run ? servedRun(o.run) : null;
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  // One feature computation at a time (they share the GPU device).
  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, type: string, body: string | Uint8Array): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    // A file, or the byte range asked for (a page reads a checkpoint's header before its tensors).
    const sendFile = (path: string): void => {
      const size = statSync(path).size;
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (!m) {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size, 'accept-ranges': 'bytes', 'cache-control': 'no-store' });
        createReadStream(path).pipe(res);
        return;
      }
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start >= size || end < start) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      res.writeHead(206, { 'content-type': 'application/octet-stream', 'content-range': `bytes ${start}-${end}/${size}`, 'content-length': end - start + 1, 'cache-control': 'no-store' });
      createReadStream(path, { start, end }).pipe(res);
    };
    const fail = (status: number, msg: string): void => send(status, 'text/plain; charset=utf-8', msg);
    if (url.pathname === '/api/info') {
      send(200, TYPES['.json']!, JSON.stringify({ labels: SYNTHETIC_LABELS, config: SYNTHETIC_DEFAULTS, run: run ? { dir: o.run, labels: run.state.labels, encoders: run.state.encoders, finetune: !!run.state.config.finetune } : null }));
      return;
    }
    if (url.pathname.startsWith('/api/run/')) {
      if (!run) return fail(404, 'no run is served: start crab serve with --run DIR');
      const rest = url.pathname.slice('/api/run/'.length);
      if (rest === 'state.json' || rest === 'model.safetensors') return sendFile(join(o.run!, 'best', rest));
      const m = /^encoders\/(wavlm|roberta)\/(.*)$/.exec(rest);
      const dir = m ? run.encoderDirs[m[1] as 'wavlm' | 'roberta'] : undefined;
      if (!m || !dir) return fail(404, `not found: ${url.pathname}`);
      if (m[2] === '') return send(200, TYPES['.json']!, JSON.stringify(modelFileNames(readdirSync(dir))));
      if (!MODEL_FILE.test(m[2]!) || !existsSync(join(dir, m[2]!))) return fail(404, `not found: ${url.pathname}`);
      return sendFile(join(dir, m[2]!));
    }
    if (url.pathname === '/api/features') {
      const condition = url.searchParams.get('condition') ?? 'acted';
      const size = Number(url.searchParams.get('size') ?? 480);
      if (condition !== 'acted' && condition !== 'natural') return fail(400, `condition "${condition}" is not acted or natural`);
      if (!Number.isInteger(size) || size < 40 || size > 20000) return fail(400, `size ${url.searchParams.get('size')} is not an integer in 40–20000`);
      const job = queue.then(async () => {
        await initDevice();
        await syntheticFeatures({ condition, size, cacheDir: o.cacheDir, quiet: true });
        return readFileSync(featuresPath({ condition, size, cacheDir: o.cacheDir }));
      });
      queue = job.catch(() => undefined);
      job.then((bytes) => send(200, 'application/octet-stream', bytes), (e: unknown) => {
        log(`crab serve: features ${condition}/${size}: ${(e as Error).message}`);
        fail(500, (e as Error).message);
      });
      return;
    }
    const rel = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    if (rel.includes('..') || !TYPES[extname(rel)] || !existsSync(join(root, rel))) return fail(404, `not found: ${url.pathname}`);
    send(200, TYPES[extname(rel)]!, readFileSync(join(root, rel)));
  });
  await new Promise<void>((ok, bad) => {
    server.once('error', bad);
    server.listen(o.port, o.host ?? '127.0.0.1', () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const host = o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1';
  return { url: `http://${host}:${port}/`, server, close: () => new Promise((ok) => server.close(() => ok())) };
}

/** `crab serve`. */
export const serveCommand: Command = {
  summary: 'the web app on localhost: train the Crab head in a browser tab on its own WebGPU',
  usage: 'crab serve [--run DIR] [--port N] [--host ADDR] [--cache-dir DIR]',
  description: `Serves the browser build (dist/browser) and the synthetic corpus's cached encoder features. Open
the printed address in a browser with WebGPU (Chrome or Edge 113+; Chromium on Linux with
--enable-unsafe-webgpu --enable-features=Vulkan): the page trains the Crab head in the tab, with
the same kernels and training steps as crab train, and shows the loss per step and the test
confusion matrix. Features are computed here on first use (seconds), then read from the cache.
With --run DIR the page also predicts with that run: an audio file and its transcript go through
the run's encoders and head in the tab, and the class probabilities are drawn. Ctrl-C stops the
server.`,
  flags: FLAGS,
  async run(argv) {
    const { values, positionals } = parseFlags('serve', FLAGS, argv, { positionals: true });
    if (positionals.length) usage(`serve: unexpected argument "${positionals[0]}"`);
    let s;
    try {
      s = await startServer({ port: values.port!, host: values.host, cacheDir: values['cache-dir']!, run: values.run });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') usage(`serve: --port ${values.port} is in use; choose another (or --port 0 for any free one)`);
      if (code === 'EACCES') usage(`serve: --port ${values.port} needs privileges; use a port above 1023`);
      throw e;
    }
    console.log(`crab serve: ${s.url} (Ctrl-C stops)`);
    await new Promise<void>((done) => {
      process.once('SIGINT', () => {
        void s.close().then(done);
      });
    });
  },
};
