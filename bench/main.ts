// `npm run bench -- <suite> [--quick] [--no-peers]`: suites print a table and write
// bench/results/<suite>.json. Suites: kernels, fused, roberta, wavlm.
import { initDevice, releaseDevice } from '../src/tensor/device.js';
import '../src/kernels/index.js';
import { benchKernels } from './kernels/kernels.bench.js';
import { benchFused } from './fused/fused.bench.js';
import { benchRoberta, benchWavlm } from './models/models.bench.js';

const SUITES: Record<string, (o: { quick?: boolean; peers?: boolean }) => Promise<void>> = {
  kernels: benchKernels,
  fused: benchFused,
  roberta: benchRoberta,
  wavlm: benchWavlm,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.length === 0) {
    console.log(`usage: npm run bench -- <suite> [--quick] [--no-peers]\nsuites: ${Object.keys(SUITES).join(', ')}\n` +
      '--quick: one timed run per workload instead of the median of 3; --no-peers: skip TF.js and jax-js');
    return;
  }
  const suite = SUITES[args[0]!];
  if (!suite) throw new Error(`unknown suite "${args[0]}"; suites: ${Object.keys(SUITES).join(', ')}`);
  await initDevice();
  try {
    await suite({ quick: args.includes('--quick'), peers: !args.includes('--no-peers') });
  } finally {
    releaseDevice();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
