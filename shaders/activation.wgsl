// activation.wgsl — the activation a kernel applies as it stores its result, put before the
// kernels that end in one. ACT (an override, so each activation is its own pipeline and the
// switch folds away: a switch on a uniform made ReLU over 4 M elements 1.6x slower on
// llvmpipe, and in the GEMM's epilogue, inlined at every store, it made compiling 3-5x
// slower): 0 none, 1 ReLU, 2 clip to [P0, P1], 3 sigmoid, 4 hard sigmoid clamp(P0·v + P1, 0,
// 1), 5 hard swish, 6 SiLU, 7 leaky ReLU (slope P0); ACT_P0 and ACT_P1 are the parameters'
// f32 bits (overrides are words on the host). ReLU, the common case, may come from a uniform
// flag instead (relu_if): the GEMM, the direct convolution and the dense layer take it so, so
// that one pipeline serves a layer with ReLU and one without (a pipeline per activation made
// tuning the ONNX test networks 50% slower: each is compiled on first use). Bounds are
// applied with select, never max/min, so NaN stays NaN (WGSL's max may drop it); exp(−v)
// overflowing to inf gives 0.
// Overrides: ACT, ACT_P0, ACT_P1.

override ACT: u32 = 0u;
override ACT_P0: u32 = 0u;
override ACT_P1: u32 = 0u;

fn clamp_keep_nan(v: vec4<f32>, lo: f32, hi: f32) -> vec4<f32> {
    let low = select(v, vec4<f32>(lo), v < vec4<f32>(lo));
    return select(low, vec4<f32>(hi), low > vec4<f32>(hi));
}

fn activate(v: vec4<f32>) -> vec4<f32> {
    let p0 = bitcast<f32>(ACT_P0);
    let p1 = bitcast<f32>(ACT_P1);
    switch ACT {
        case 1u: { return select(v, vec4<f32>(0.0), v < vec4<f32>(0.0)); }
        case 2u: { return clamp_keep_nan(v, p0, p1); }
        case 3u: { return 1.0 / (1.0 + exp(-v)); }
        case 4u: { return clamp_keep_nan(p0 * v + p1, 0.0, 1.0); }
        case 5u: { return v * clamp_keep_nan(v / 6.0 + 0.5, 0.0, 1.0); }
        case 6u: { return v / (1.0 + exp(-v)); }
        case 7u: { return select(v, p0 * v, v < vec4<f32>(0.0)); }
        default: { return v; }
    }
}

// The override's activation, then ReLU where `relu` (a uniform) is 1.
fn activate_relu_if(v: vec4<f32>, relu: u32) -> vec4<f32> {
    let a = activate(v);
    return select(a, vec4<f32>(0.0), (a < vec4<f32>(0.0)) & vec4<bool>(relu != 0u));
}
