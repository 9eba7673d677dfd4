//! The matrix-product kernels of `shaders/matmul.wgsl`, shared by dense layers and 1x1
//! convolutions: a register-blocked GEMM and a streaming matrix-vector product.

use bytemuck::{Pod, Zeroable};

use crate::error::Result;
use crate::gpu::Dispatch;
use crate::ops::blocks;
use crate::pipeline::{Access, Kernel, fold_grid};
use crate::tensor::Tensor;

const BINDINGS: &[Access] = &[Access::Read, Access::Read, Access::Read, Access::ReadWrite, Access::Uniform];

/// Batched, strided C = A·B (+ bias, ReLU).
pub(crate) const GEMM: Kernel =
    Kernel { name: "matmul", source: include_str!("../../shaders/matmul.wgsl"), entry: "gemm", bindings: BINDINGS };

/// C = A·b for a single column b.
pub(crate) const GEMV: Kernel =
    Kernel { name: "matmul", source: include_str!("../../shaders/matmul.wgsl"), entry: "gemv", bindings: BINDINGS };

/// Where element (row, col) of batch (n, g) lives: n·batch + g·group + row·row + col·col.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Strides {
    pub batch: usize,
    pub group: usize,
    pub row: usize,
    pub col: usize,
}

/// One batched product: for each image n < batch and group g < groups,
/// C[n, g] (M x N) = A[g] (M x K) · B[n, g] (K x N), then bias by row and optional ReLU.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Gemm {
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub batch: usize,
    pub groups: usize,
    pub a: Strides,
    pub b: Strides,
    pub c: Strides,
    /// Added to every C index: where a slice of rows starts in a wider output.
    pub c_offset: usize,
    pub relu: bool,
}

/// Field order matches `Params` in shaders/matmul.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct MatmulUniform {
    m: u32,
    n: u32,
    k: u32,
    groups: u32,
    a_group: u32,
    a_m: u32,
    a_k: u32,
    c_offset: u32,
    b_batch: u32,
    b_group: u32,
    b_k: u32,
    b_n: u32,
    c_batch: u32,
    c_group: u32,
    c_m: u32,
    c_n: u32,
    has_bias: u32,
    relu: u32,
    bias_group: u32,
    _pad: u32,
}

impl Gemm {
    fn uniform(&self, has_bias: bool) -> MatmulUniform {
        let u = |v: usize| v as u32;
        MatmulUniform {
            m: u(self.m),
            n: u(self.n),
            k: u(self.k),
            groups: u(self.groups),
            a_group: u(self.a.group),
            a_m: u(self.a.row),
            a_k: u(self.a.col),
            c_offset: u(self.c_offset),
            b_batch: u(self.b.batch),
            b_group: u(self.b.group),
            b_k: u(self.b.row),
            b_n: u(self.b.col),
            c_batch: u(self.c.batch),
            c_group: u(self.c.group),
            c_m: u(self.c.row),
            c_n: u(self.c.col),
            has_bias: has_bias as u32,
            relu: self.relu as u32,
            bias_group: u(self.m),
            _pad: 0,
        }
    }
}

/// Register tile (TILE_M, TILE_N) for an M x N product: 4x4, narrowed for thin matrices.
pub(crate) fn default_tiles(m: usize, n: usize) -> (u32, u32) {
    ((m.min(4)) as u32, (n.min(4)) as u32)
}

/// Records `g` with the GEMM kernel and a `tiles` = [TILE_M, TILE_N] register block.
pub(crate) fn plan_gemm(
    g: &Gemm,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    tiles: [u32; 2],
) -> Result<Dispatch> {
    let gpu = a.gpu();
    let [tm, tn] = tiles.map(|t| t.clamp(1, 8));
    let (wg_x, wg_y) = (8, 8);
    let grid =
        [blocks(g.n, tn as usize).div_ceil(wg_x), blocks(g.m, tm as usize).div_ceil(wg_y), (g.batch * g.groups) as u32];
    let bias_buf = bias.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    gpu.dispatch(
        &GEMM,
        &[("WG_X", wg_x), ("WG_Y", wg_y), ("TILE_M", tm), ("TILE_N", tn)],
        &[a.buffer(), b.buffer(), bias_buf, c.buffer()],
        bytemuck::bytes_of(&g.uniform(bias.is_some())),
        grid,
    )
}

/// Records `g` (which must have N = 1, batch = 1, groups = 1) with the matrix-vector kernel:
/// `rows` rows of A per workgroup of `wg` invocations (a power of two ≤ 256).
pub(crate) fn plan_gemv(
    g: &Gemm,
    a: &Tensor,
    b: &Tensor,
    bias: Option<&Tensor>,
    c: &Tensor,
    wg: u32,
    rows: u32,
) -> Result<Dispatch> {
    let gpu = a.gpu();
    let rows = rows.clamp(1, 8);
    let grid = fold_grid(blocks(g.m, rows as usize), gpu.limits().max_compute_workgroups_per_dimension);
    let bias_buf = bias.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    gpu.dispatch(
        &GEMV,
        &[("WG", wg.next_power_of_two().min(256)), ("ROWS", rows)],
        &[a.buffer(), b.buffer(), bias_buf, c.buffer()],
        bytemuck::bytes_of(&g.uniform(bias.is_some())),
        grid,
    )
}
