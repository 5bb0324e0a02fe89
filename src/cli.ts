#!/usr/bin/env node
/**
 * The `crab` command line: finds the command and turns its outcome into an exit status — 0 done,
 * 1 failed, 2 usage (a bad flag, config key, input or run folder), 130 interrupted — with one
 * line on stderr (the stack trace only with `CRAB_DEBUG`). Commands open the GPU device
 * themselves, after checking their input; it is released here, whatever happened. Each command
 * lives in `src/commands/<command>.ts`.
 * @module
 */
import './model/folder.js'; // model folders on disk
import { releaseDevice, NoAdapterError } from './tensor/device.js';
import { InterruptedError, RunFolderError } from './train/trainer.js';
import { SchemaError } from './util/schema.js';
import { UsageError, type Command } from './commands/common.js';
import { FeatureCacheError } from './data/feature_cache.js';
import { helpText } from './util/flags.js';
import { demoCommand } from './commands/demo.js';
import { trainCommand } from './commands/train.js';
import { dataCommand } from './commands/data.js';
import { evalCommand } from './commands/eval.js';
import { predictCommand } from './commands/predict.js';
import { embedCommand } from './commands/embed.js';
import { featuresCommand } from './commands/features.js';
import { serveCommand } from './commands/serve.js';
import { benchCommand } from './commands/bench.js';
import pkg from '../package.json' with { type: 'json' };

const COMMANDS: Record<string, Command> = {
  demo: demoCommand,
  train: trainCommand,
  data: dataCommand,
  eval: evalCommand,
  predict: predictCommand,
  embed: embedCommand,
  features: featuresCommand,
  serve: serveCommand,
  bench: benchCommand,
};

const HELP = `crab ${pkg.version} — Crab speech-emotion recognition on a WebGPU engine

usage: crab <command> [options]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`).join('\n')}

Run \`crab <command> --help\` for a command's options; \`crab --version\` prints the version.
Exit status: 0 done, 1 failed, 2 usage error, 130 interrupted. CRAB_DEBUG=1 shows stack traces
and Dawn's own messages.`;

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP);
    return;
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    console.log(pkg.version);
    return;
  }
  const c = COMMANDS[cmd];
  if (!c) throw new UsageError(`unknown command "${cmd}" (commands: ${Object.keys(COMMANDS).join(', ')}; see crab --help)`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(helpText(c.usage, c.description, c.flags));
    return;
  }
  await c.run(rest);
}

/** The exit status of an error: 2 for what the user can fix in the call, 130 for Ctrl-C, 1 otherwise. */
function statusOf(e: unknown): number {
  if (e instanceof InterruptedError) return 130;
  if (e instanceof UsageError || e instanceof SchemaError || e instanceof RunFolderError || e instanceof FeatureCacheError) return 2;
  return 1;
}

// Ctrl-C before training installs its own handler (loading, feature extraction): stop with 130.
process.once('SIGINT', () => {
  if (process.listenerCount('SIGINT') > 0) return; // training saves and throws InterruptedError itself
  releaseDevice();
  process.stderr.write('\ncrab: interrupted\n');
  process.exit(130);
});

main()
  .catch((e: unknown) => {
    const msg = e instanceof Error ? e.message : String(e);
    if (process.env.CRAB_DEBUG && e instanceof Error) console.error(e.stack);
    else if (e instanceof NoAdapterError || e instanceof InterruptedError) console.error(msg);
    else console.error(`crab: ${msg}`);
    process.exitCode = statusOf(e);
  })
  .finally(() => releaseDevice());
