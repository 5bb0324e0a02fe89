// `npm run bench -- <suite> [--quick] [--no-peers]`: suites print a table and write
// runs/bench/<suite>-<date>.json (untracked; --out FILE to choose). Suites: kernels, fused,
// roberta, wavlm, audio, browser. Progress goes to stderr; --json prints the results document on stdout.
import '../src/model/folder.js';
import { initDevice, releaseDevice } from '../src/tensor/device.js';
import { benchKernels } from './kernels/kernels.bench.js';
import { benchOptions } from './util.js';
import { benchFused } from './fused/fused.bench.js';
import { benchRoberta, benchWavlm } from './models/models.bench.js';
import { benchAudio } from './audio/audio.bench.js';
import { benchBrowser } from './browser/browser.bench.js';

const SUITES: Record<string, (o: { quick?: boolean; peers?: boolean; clips?: number; seconds?: number }) => Promise<void>> = {
  kernels: benchKernels,
  fused: benchFused,
  roberta: benchRoberta,
  wavlm: benchWavlm,
  audio: benchAudio,
  browser: benchBrowser,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.length === 0) {
    console.log(`usage: npm run bench -- <suite> [--quick] [--no-peers] [--clips N --seconds S] [--out FILE] [--json]\nsuites: ${Object.keys(SUITES).join(', ')}\n` +
      '--quick: one timed run per workload instead of the median of 3; --no-peers: skip TF.js and jax-js;\n' +
      '--clips/--seconds: the wavlm workload (default 4 clips of 8 s); --out: the results file (default\n' +
      'runs/bench/<suite>-<date>.json); --json: the results document on stdout, tables on stderr');
    return;
  }
  const suite = SUITES[args[0]!];
  if (!suite) throw new Error(`unknown suite "${args[0]}"; suites: ${Object.keys(SUITES).join(', ')}`);
  if (suite !== benchAudio) await initDevice(); // the audio suite needs no GPU
  try {
    const opt = (name: string): number | undefined => {
      const i = args.indexOf(name);
      return i >= 0 ? Number(args[i + 1]) : undefined;
    };
    const out = args.indexOf('--out');
    benchOptions.out = out >= 0 ? (args[out + 1] ?? '') : '';
    benchOptions.json = args.includes('--json');
    await suite({ quick: args.includes('--quick'), peers: !args.includes('--no-peers'), clips: opt('--clips'), seconds: opt('--seconds') });
  } finally {
    releaseDevice();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
