/**
 * Finding a model: a local folder, or a Hugging Face model id in the standard Hugging Face cache
 * (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`, laid out as
 * `models--org--name/snapshots/<revision>/`, with `refs/main` naming the revision).
 * This version does not download; an id that is not in the cache gets a message that names the
 * files to fetch and where to put them.
 * @module
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
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
  throw new Error(`${nameOrPath} is not in the Hugging Face cache (${cache}) and this version does not download.\n` +
    `  Either fetch it where the network allows (\`huggingface-cli download ${nameOrPath}\` fills that cache),\n` +
    `  or put ${files} from https://huggingface.co/${nameOrPath} in a folder and pass the folder's path.`);
}

function checkFolder(dir: string, needs: string[]): string {
  const missing = ['config.json', ...needs].filter((f) => !existsSync(join(dir, f)));
  if (!WEIGHTS.some((w) => existsSync(join(dir, w)))) missing.push('model.safetensors (or pytorch_model.bin)');
  if (missing.length) throw new Error(`${dir}: missing ${missing.join(', ')}`);
  return dir;
}
