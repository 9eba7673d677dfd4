// stream.wgsl — the adapter's streaming yardstick for the batch-1 dense kernel: every texel
// of a weight texture read once, as dense_gemv reads it (a lane per texel column walking down
// the rows, neighbouring lanes on neighbouring texels), and summed, with no input to multiply.
// The bench's `roofline-gemv` line: the GB/s a texture read gives, which the gemv can at most
// reach.
//
// Bindings (group 0)              mirrors STREAM in src/ops/yardstick.rs
//   0 at   texture_storage_2d<rgba32float, read>   [rows, columns texels]
//   1 sum  storage read_write  [columns] vec4s: each column's sum (so that nothing is elided)
//   2 p    uniform             Uniforms
// Grid: one lane per texel column, WG to a workgroup. Overrides: WG.

struct Uniforms {
    rows: u32, columns: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var at: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read_write> sum: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 32u;

@compute @workgroup_size(WG, 1, 1)
fn stream(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    if (col >= p.columns) {
        return;
    }
    // Two rows an iteration: with one, llvmpipe's loop bookkeeping held this yardstick to
    // 13–15 GB/s where two read 17–20 GB/s, and the gemv outran it (fc8: 113%). The odd row
    // is a loop too: an `if` there measured 15–16 GB/s.
    var acc = vec4<f32>(0.0);
    var k = 0u;
    for (; k + 2u <= p.rows; k += 2u) {
        acc += textureLoad(at, vec2<u32>(col, k)) + textureLoad(at, vec2<u32>(col, k + 1u));
    }
    for (; k < p.rows; k++) {
        acc += textureLoad(at, vec2<u32>(col, k));
    }
    sum[col] = acc;
}
