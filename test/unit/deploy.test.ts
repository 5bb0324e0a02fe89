// The cluster manifests in deploy/ are not run here (no cluster), so what can go stale is checked:
// each one's crab command parses with the command's own flag table, the shard count N is the
// one the scheduler runs, and training names the same cache (corpus, models, cache flags) as
// the shards that filled it.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { parseFlags } from '../../src/util/flags.js';
import { parseShard } from '../../src/data/feature_cache.js';
import { featuresCommand } from '../../src/commands/features.js';
import { trainCommand } from '../../src/commands/train.js';

const deploy = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy');
const read = (f: string): string => readFileSync(join(deploy, f), 'utf8');

/** The words of a shell command line (double quotes, backslash-newlines, $VAR and ${VAR} from `vars`). */
function words(line: string, vars: Record<string, string>): string[] {
  const text = line.replace(/\\\n/g, ' ').replace('"${resume[@]}"', '(resume-array)').replace(/\$\{?(\w+)\}?/g, (_, v: string) => {
    expect(vars, `variable ${v}`).toHaveProperty(v);
    return vars[v]!;
  });
  return [...text.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** The flags after `crab <command>` in a command line, parsed by the command's table. */
function crabArgs(line: string, command: 'features' | 'train', vars: Record<string, string>): string[] {
  const w = words(line, vars);
  const at = w.indexOf('crab');
  expect(w[at + 1]).toBe(command);
  const rest = w.slice(at + 2);
  const end = rest.findIndex((x) => x.endsWith(';') || x === '&&' || x === '(resume-array)');
  const args = (end < 0 ? rest : rest.slice(0, end)).map((x) => x.replace(/;$/, ''));
  parseFlags(command, command === 'features' ? featuresCommand.flags : trainCommand.flags, args); // throws on a bad flag
  return args;
}

/** The flags that identify a feature cache. */
const CACHE_FLAGS = ['--dataset', '--data-dir', '--wavlm', '--roberta', '--max-seconds', '--normalize', '--cache-dir'];
function cacheIdentity(args: string[]): string[] {
  return args.flatMap((a, i) => (CACHE_FLAGS.includes(a) ? [a, args[i + 1]?.startsWith('--') || args[i + 1] === undefined ? '' : args[i + 1]!] : []));
}

describe('deploy manifests', () => {
  it('kubernetes: an Indexed Job whose completions equal the N of --shard $JOB_COMPLETION_INDEX/N; the train Job reads the same cache', () => {
    const job = YAML.parse(read('kubernetes/features-job.yaml')) as { spec: { completionMode: string; completions: number; template: { spec: { containers: Array<{ args: string[] }> } } } };
    expect(job.spec.completionMode).toBe('Indexed');
    const line = job.spec.template.spec.containers[0]!.args[0]!;
    expect(line).toContain('"$JOB_COMPLETION_INDEX/');
    for (const index of [0, job.spec.completions - 1]) {
      const args = crabArgs(line, 'features', { JOB_COMPLETION_INDEX: String(index) });
      expect(parseShard(args[args.indexOf('--shard') + 1]!)).toEqual({ k: index, n: job.spec.completions });
    }
    const features = crabArgs(line, 'features', { JOB_COMPLETION_INDEX: '0' });
    const trainJob = YAML.parse(read('kubernetes/train-job.yaml')) as typeof job;
    const trainLine = trainJob.spec.template.spec.containers[0]!.args[0]!.replace(/^flags="([^"]*)";[\s\S]*$/, 'crab train $1');
    expect(cacheIdentity(crabArgs(trainLine, 'train', {}))).toEqual(cacheIdentity(features));
  });

  it('slurm: an array 0…N−1 whose tasks take shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT; train.sbatch reads the same cache', () => {
    const script = read('slurm/features.sbatch');
    const [, lo, hi] = /^#SBATCH --array=(\d+)-(\d+)$/m.exec(script)!;
    expect(Number(lo)).toBe(0);
    const n = Number(hi) + 1;
    const vars = { HOME: '/home/u', SLURM_ARRAY_TASK_ID: String(n - 1), SLURM_ARRAY_TASK_COUNT: String(n) };
    const line = script.slice(script.indexOf('exec npx crab'));
    const args = crabArgs(line, 'features', vars);
    expect(parseShard(args[args.indexOf('--shard') + 1]!)).toEqual({ k: n - 1, n });
    const train = read('slurm/train.sbatch');
    const targs = crabArgs(train.slice(train.indexOf('exec npx crab')), 'train', { HOME: '/home/u', run: '/home/u/crab-cache/runs/msp-crab' });
    expect(cacheIdentity(targs)).toEqual(cacheIdentity(args));
  });
});
