#!/usr/bin/env node
/**
 * The `crab` command line: finds the command, opens the GPU device for the commands that need
 * it, runs the command, and turns its outcome into an exit status (0 done, 1 failed, 2 usage,
 * 130 interrupted). Each command lives in `src/commands/<command>.ts`.
 * @module
 */
import { initDevice, releaseDevice, NoAdapterError } from './tensor/device.js';
import { InterruptedError } from './train/trainer.js';
import { UsageError, type Command } from './commands/common.js';
import { demoCommand } from './commands/demo.js';
import { trainCommand } from './commands/train.js';
import { dataCommand } from './commands/data.js';
import { evalCommand } from './commands/eval.js';
import { predictCommand } from './commands/predict.js';
import { embedCommand } from './commands/embed.js';
import { benchCommand } from './commands/bench.js';

const COMMANDS: Record<string, Command> = {
  demo: demoCommand,
  train: trainCommand,
  data: dataCommand,
  eval: evalCommand,
  predict: predictCommand,
  embed: embedCommand,
  bench: benchCommand,
};

const HELP = `crab — Crab speech-emotion recognition on a WebGPU engine

usage: crab <command> [options]

commands:
${Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`).join('\n')}

Run \`crab <command> --help\` for a command's options.`;

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    console.log(HELP);
    return;
  }
  const c = COMMANDS[cmd];
  if (!c) throw new UsageError(`unknown command "${cmd}"\n\n${HELP}`);
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(c.help);
    return;
  }
  if (!c.device) return c.run(rest);
  await initDevice();
  try {
    await c.run(rest);
  } finally {
    releaseDevice();
  }
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) console.error(`crab: ${e.message}`);
  else if (e instanceof NoAdapterError || e instanceof InterruptedError) console.error(e.message);
  else if (e instanceof Error && /ERR_PARSE_ARGS/.test((e as { code?: string }).code ?? '')) console.error(`crab: ${e.message} (see --help)`);
  else console.error(e instanceof Error ? (process.env.CRAB_DEBUG ? e.stack : `crab: ${e.message}`) : e);
  process.exitCode = e instanceof InterruptedError ? 130 : e instanceof UsageError || (e instanceof Error && /ERR_PARSE_ARGS/.test((e as { code?: string }).code ?? '')) ? 2 : 1;
});
