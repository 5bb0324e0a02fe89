// Runs before every test file of the gpu tier: creates the device once, and releases it at the
// end so the worker exits.
import '../src/model/folder.js';
import { afterAll, beforeAll } from 'vitest';
import { initDevice, releaseDevice } from '../src/tensor/device.js';

beforeAll(async () => {
  await initDevice();
});
afterAll(() => {
  releaseDevice();
});
