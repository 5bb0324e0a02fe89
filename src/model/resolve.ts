/**
 * Finding a model: a local folder, or a Hugging Face model id in the standard Hugging Face cache
 * (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`, laid out as
 * `models--org--name/snapshots/<revision>/`, with `refs/main` naming the revision).
 * {@link ensureModel} downloads an id that is not cached (when the network allows); an offline
 * machine gets a message that names the files to fetch and where to put them.
 * @module
 */
import { existsSync, readFileSync, readdirSync, statSync, mkdirSync, writeFileSync, renameSync, createWriteStream } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The Hugging Face hub cache folder. */
export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HUB_CACHE) return env.HF_HUB_CACHE;
  if (env.HF_HOME) return join(env.HF_HOME, 'hub');
  return join(homedir(), '.cache', 'huggingface', 'hub');
}

const WEIGHTS = ['model.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin'];

/**
 * The folder holding `nameOrPath`'s files: the path itself if it is a folder, else the cached
 * snapshot of the Hugging Face id (`refs/main`, or the only / newest snapshot).
 * `needs` lists extra files the caller requires (e.g. `vocab.json`).
 */
export function resolveModel(nameOrPath: string, needs: string[] = [], env: NodeJS.ProcessEnv = process.env): string {
  if (existsSync(nameOrPath) && statSync(nameOrPath).isDirectory()) return checkFolder(nameOrPath, needs);
  if (!/^[\w.-]+(\/[\w.-]+)?$/.test(nameOrPath)) throw new Error(`${nameOrPath}: no such folder, and not a Hugging Face model id (org/name)`);
  const cache = hubCacheDir(env);
  const repo = join(cache, `models--${nameOrPath.replace('/', '--')}`);
  const snaps = join(repo, 'snapshots');
  if (existsSync(snaps)) {
    const ref = join(repo, 'refs', 'main');
    const rev = existsSync(ref) ? readFileSync(ref, 'utf8').trim() : null;
    const candidates = rev && existsSync(join(snaps, rev)) ? [rev] : readdirSync(snaps).sort((a, b) => statSync(join(snaps, b)).mtimeMs - statSync(join(snaps, a)).mtimeMs);
    for (const c of candidates) {
      const dir = join(snaps, c);
      if (existsSync(join(dir, 'config.json')) && WEIGHTS.some((w) => existsSync(join(dir, w)))) return checkFolder(dir, needs);
    }
  }
  const files = ['config.json', 'model.safetensors (or pytorch_model.bin)', ...needs].join(', ');
  throw new Error(`${nameOrPath} is not in the Hugging Face cache (${cache}).\n` +
    `  Either fetch it where the network allows (\`huggingface-cli download ${nameOrPath}\` fills that cache),\n` +
    `  or put ${files} from https://huggingface.co/${nameOrPath} in a folder and pass the folder's path.`);
}

function checkFolder(dir: string, needs: string[]): string {
  const missing = ['config.json', ...needs].filter((f) => !existsSync(join(dir, f)));
  if (!WEIGHTS.some((w) => existsSync(join(dir, w)))) missing.push('model.safetensors (or pytorch_model.bin)');
  if (missing.length) throw new Error(`${dir}: missing ${missing.join(', ')}`);
  return dir;
}

/** Options of {@link ensureModel}. */
export interface DownloadOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress callback: file, bytes so far, total bytes (0 when unknown). */
  onProgress?: (file: string, done: number, total: number) => void;
}

/**
 * Like {@link resolveModel}, but a Hugging Face id missing from the cache is downloaded into it
 * (unless `HF_HUB_OFFLINE=1`): `config.json`, `model.safetensors` (or `pytorch_model.bin` when the
 * repo has no safetensors) and `needs`, from `$HF_ENDPOINT` (default https://huggingface.co),
 * with `$HF_TOKEN` for gated repos. Files are written to `snapshots/<commit>/` with `refs/main`,
 * each through a temporary name, so an interrupted download never looks complete.
 */
export async function ensureModel(nameOrPath: string, needs: string[] = [], o: DownloadOptions = {}): Promise<string> {
  const env = o.env ?? process.env;
  try {
    return resolveModel(nameOrPath, needs, env);
  } catch (e) {
    const offline = env.HF_HUB_OFFLINE === '1' || env.TRANSFORMERS_OFFLINE === '1';
    if (offline || existsSync(nameOrPath) || !/^[\w.-]+\/[\w.-]+$/.test(nameOrPath)) throw e;
  }
  const endpoint = (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/$/, '');
  const headers: Record<string, string> = env.HF_TOKEN ? { authorization: `Bearer ${env.HF_TOKEN}` } : {};
  const repo = join(hubCacheDir(env), `models--${nameOrPath.replace('/', '--')}`);
  let commit = '';
  const get = async (file: string, optional = false): Promise<boolean> => {
    let res: Response;
    try {
      res = await fetch(`${endpoint}/${nameOrPath}/resolve/main/${file}`, { headers });
    } catch (err) {
      throw new Error(`${nameOrPath}: cannot reach ${endpoint} (${(err as Error).message}). Offline? ` +
        `Put config.json, model.safetensors${needs.length ? `, ${needs.join(', ')}` : ''} in a folder and pass its path.`);
    }
    if (res.status === 404 && optional) return false;
    if (!res.ok || !res.body) throw new Error(`${nameOrPath}/${file}: the hub answered ${res.status} ${res.statusText}${res.status === 401 || res.status === 403 ? ' (gated model? set HF_TOKEN)' : ''}`);
    commit ||= res.headers.get('x-repo-commit') ?? 'main';
    const dir = join(repo, 'snapshots', commit);
    mkdirSync(dir, { recursive: true });
    const total = Number(res.headers.get('content-length') ?? 0);
    const tmp = join(dir, `${file}.incomplete`);
    const out = createWriteStream(tmp);
    let done = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      done += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      o.onProgress?.(file, done, total);
    }
    await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
    renameSync(tmp, join(dir, file));
    return true;
  };
  await get('config.json');
  if (!(await get('model.safetensors', true))) await get('pytorch_model.bin');
  for (const f of needs) await get(f);
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), commit);
  return resolveModel(nameOrPath, needs, env);
}
