// Runs before every test file: creates the device once, and releases it at the end so the
// worker exits.
import { afterAll, beforeAll } from 'vitest';
import { initDevice, releaseDevice } from '../src/tensor/device.js';
import '../src/kernels/index.js';

beforeAll(async () => {
  await initDevice();
});
afterAll(() => {
  releaseDevice();
});
