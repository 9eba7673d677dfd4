// dense.wgsl — a batch-1 dense layer over one band of its weight, streaming the weight once:
//   y[m] = act(bias[m] + Σ_k at[k, m] · x[k0 + k])     (k < the band's rows)
// at is the packed weight (pack.wgsl: a row per k, 4 outputs to a texel). Each invocation
// owns TM outputs (TM/4 texel columns) and walks down the band: neighbouring lanes read
// neighbouring texels of each row, and each x texel (4 k's, the same for all lanes) is fetched
// once for 4 rows (TM 4) or twice, half of it each time (TM 8: see the loop). A band after the
// first adds to y; the first adds the bias, the last applies the activation (activation.wgsl,
// the file put before this one: ACT and `relu` are 0 in the other bands). The band's rows are
// padded with zeros to a multiple of 4.
//
// Bindings (group 0)              mirrors GEMV in src/ops/dense.rs
//   0 at    texture_storage_2d<rgba32float, read>   [rows, m_blocks texels]
//   1 x     texture_storage_2d<rgba32float, read>   the input as a linear texture: word i in
//                                                    texel (i/4 mod 2^TEX_SHIFT, i/4 >> TEX_SHIFT)
//   2 bias  storage read        [M] (unread when has_bias = 0)
//   3 y     storage read_write  [M]
//   4 p     uniform             Uniforms (field order of GemvUniforms in src/ops/dense.rs)
// Grid: x = blocks of TM outputs over WG lanes, folded into (x, y).
// Overrides: TM (4 or 8), WG, TEX_SHIFT, and activation.wgsl's.

struct Uniforms {
    m: u32, rows: u32, k0: u32, has_bias: u32,
    relu: u32, accumulate: u32, _pad0: u32, _pad1: u32,
}

@group(0) @binding(0) var at: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var x: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Uniforms;

override TM: u32 = 4u;
override WG: u32 = 32u;
override TEX_SHIFT: u32;

@compute @workgroup_size(WG, 1, 1)
fn dense_gemv(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let block = (wid.x + wid.y * nwg.x) * WG + lane;
    let m0 = block * TM;
    if (m0 >= p.m) {
        return;
    }
    let col = m0 / 4u;
    var lo = vec4<f32>(0.0);
    var hi = vec4<f32>(0.0);
    // Four weight texels an iteration read fastest on llvmpipe: 4 rows of one column, or 2
    // rows of two (fc6 with TM 8: 11.4–11.9 → 8.6–8.9 ms against 4 rows of two; two texels
    // an iteration (gemv-4 over 2 rows) and eight (gemv-8 over 4 rows, as before) lose).
    for (var k = 0u; k < p.rows; k += 16u / TM) {
        let t = (p.k0 + k) / 4u;
        let xv = textureLoad(x, linear_at(t));
        if (TM > 4u) {
            let odd = (k & 2u) != 0u;
            let x0 = select(xv.x, xv.z, odd);
            let x1 = select(xv.y, xv.w, odd);
            lo += textureLoad(at, vec2<u32>(col, k)) * x0;
            lo += textureLoad(at, vec2<u32>(col, k + 1u)) * x1;
            hi += textureLoad(at, vec2<u32>(col + 1u, k)) * x0;
            hi += textureLoad(at, vec2<u32>(col + 1u, k + 1u)) * x1;
        } else {
            lo += textureLoad(at, vec2<u32>(col, k)) * xv.x;
            lo += textureLoad(at, vec2<u32>(col, k + 1u)) * xv.y;
            lo += textureLoad(at, vec2<u32>(col, k + 2u)) * xv.z;
            lo += textureLoad(at, vec2<u32>(col, k + 3u)) * xv.w;
        }
    }
    store4(m0, lo);
    if (TM > 4u) {
        store4(m0 + 4u, hi);
    }
}

// Writes outputs m0 .. m0 + 3 that exist.
fn store4(m0: u32, v: vec4<f32>) {
    for (var t = 0u; t < 4u; t++) {
        let m = m0 + t;
        if (m < p.m) {
            var o = v[t];
            if (p.accumulate != 0u) {
                o += y[m];
            }
            if (p.has_bias != 0u) {
                o += bias[m];
            }
            o = activate_relu_if(vec4<f32>(o), p.relu).x;
            y[m] = o;
        }
    }
}
