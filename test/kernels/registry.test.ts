// Every entry point of every registered kernel variant compiles into a pipeline on this adapter,
// so a broken shader fails here with its stem, variant and file (the unit tier checks the
// registry against the files' text).
import { describe, it, expect } from 'vitest';
import { registryEntries } from '../../src/kernels/registry.js';
import { gpuDevice, deviceInfo } from '../../src/tensor/device.js';

describe('registry', () => {
  it('registry: every kernel entry point compiles on this adapter', async () => {
    const device = gpuDevice();
    for (const { stem, variant, file, source, entries, subgroups } of registryEntries()) {
      if (!file || (subgroups && !deviceInfo().hasSubgroups)) continue;
      const label = `${stem}/${variant} (${file})`;
      const module = device.createShaderModule({ code: source, label });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error').map((m) => m.message);
      expect(errors, label).toEqual([]);
      for (const entry of entries) {
        device.pushErrorScope('validation');
        device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: entry }, label: `${label}:${entry}` });
        const err = await device.popErrorScope();
        expect(err?.message ?? null, `${label}:${entry}`).toBeNull();
      }
    }
  });
});
