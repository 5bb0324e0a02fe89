// grid: the invocation index of a 1-D launch. Launches of more than 65535 workgroups spill into
// y (see grid() in src/tensor/runtime.ts), so the flat index folds y back in. WG is the
// workgroup size, an override the wrapper may specialize.
override WG: u32 = 64;

fn flat_id(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }
