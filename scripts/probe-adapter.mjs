// Prints the WebGPU adapter Dawn finds (vendor, architecture, features) and exits 0, or exits 1.
// Used by setup-gpu.sh; it needs nothing but node_modules/webgpu.
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
process.env.XDG_RUNTIME_DIR ||= '/tmp';
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) { console.error('no adapter'); process.exit(1); }
const i = adapter.info;
console.log(`${i.vendor} ${i.architecture} ${i.device || ''} ${i.description || ''}`.replace(/\s+/g, ' ').trim() +
  ` [${[...adapter.features].filter((f) => ['subgroups', 'shader-f16', 'timestamp-query'].includes(f)).join(', ')}]`);
process.exit(0);
