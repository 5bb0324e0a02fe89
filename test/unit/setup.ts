// The unit tier runs without a GPU adapter: any import of Dawn's binding fails the test that
// made it, so a unit test that reaches the GPU cannot pass by accident on a machine with one.
import '../../src/model/folder.js';
import { vi } from 'vitest';

vi.mock('webgpu', () => {
  throw new Error('the unit tier must not touch the GPU (webgpu was imported); move this test to test/kernels, test/models or test/train');
});
