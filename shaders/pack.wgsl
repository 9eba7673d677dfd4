// pack.wgsl — lays out convolution and dense weights for the kernels: the weight of each
// channel group transposed, 4 output channels to a texel, in a storage texture
//   at[texel (g · m_blocks + b, k)][j] = w[g · M + 4b + j, k]   (k < K = Cin/G·KH·KW, M = Cout/G)
// and zero where 4b + j passes the group's last channel. Rows k of a group's texels are then
// what both the GEMM (an Aᵀ operand) and the direct kernel (4 channels per load) read.
// A weight too large for one storage binding (a dense layer) is packed in slices of whole
// rows, `row_offset` (a multiple of 4) being the slice's first output channel; and a texture
// holds rows k0 .. k0 + band_rows of K (a band). Sliced or banded weights have one group.
//
// Bindings (group 0)              mirrors PACK in src/ops/packed.rs
//   0 w   storage read            [rows, K]: the slice's output channels, OIHW flattened
//   1 at  texture_storage_2d<rgba32float, write>   [band_rows, groups · m_blocks texels]
//   2 p   uniform                 Uniforms (field order of PackUniforms in src/ops/packed.rs)
// Grid: x = texel columns of the slice, y = the band's rows. Overrides: WG.

struct Uniforms {
    k: u32, m: u32, m_blocks: u32, rows: u32,
    row_offset: u32, columns: u32, k0: u32, band_rows: u32,
}

@group(0) @binding(0) var<storage, read> w: array<f32>;
@group(0) @binding(1) var at: texture_storage_2d<rgba32float, write>;
@group(0) @binding(2) var<uniform> p: Uniforms;

override WG: u32 = 64u;

@compute @workgroup_size(WG, 1, 1)
fn pack_weights(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.y;
    let k = p.k0 + row;
    if (row >= p.band_rows || gid.x >= p.columns) {
        return;
    }
    let column = p.row_offset / 4u + gid.x;
    let g = column / p.m_blocks;
    let b = column % p.m_blocks;
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
        // Channels past the group's end (the padding of its last blocks) stay zero.
        let local = g * p.m + 4u * b + j - p.row_offset;
        if (4u * b + j < p.m && local < p.rows) {
            v[j] = w[local * p.k + k];
        }
    }
    textureStore(at, vec2<u32>(column, row), v);
}
