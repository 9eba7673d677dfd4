//! 2-D convolution: attributes, output-size arithmetic, and the choice of kernel.
//!
//! Every convolution runs the direct kernel of `conv2d.wgsl`. A 1x1 kernel with stride 1 and
//! no padding is a matrix product per image and group, [Cout/G x Cin/G]·[Cin/G x H·W]: it runs
//! the same kernel over the image flattened to one row, where the 8-channel x 8-pixel
//! register tile is a GEMM tile.

use bytemuck::{Pod, Zeroable};

use crate::error::{Error, Result};
use crate::gpu::Dispatch;
use crate::ops::{blocks, check_output, check_rank, check_same_device, window_out};
use crate::pipeline::{Access, Kernel, fold_grid};
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

/// The direct convolution kernel.
pub(crate) const DIRECT: Kernel = Kernel {
    name: "conv2d",
    source: include_str!("../../shaders/conv2d.wgsl"),
    entry: "main",
    bindings: &[Access::Read, Access::Texture, Access::Read, Access::ReadWrite, Access::Uniform],
};

/// Repacks OIHW weights into blocks of 4 output channels for the direct kernel.
pub(crate) const PACK: Kernel = Kernel {
    name: "pack",
    source: include_str!("../../shaders/pack.wgsl"),
    entry: "main",
    bindings: &[Access::Read, Access::ReadWrite, Access::Uniform],
};

/// Zero padding on each side of the image, in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Padding {
    pub top: usize,
    pub left: usize,
    pub bottom: usize,
    pub right: usize,
}

impl Padding {
    /// Padding given as (top, left, bottom, right), the order ONNX and the golden format use.
    pub fn new(top: usize, left: usize, bottom: usize, right: usize) -> Padding {
        Padding { top, left, bottom, right }
    }

    /// `ph` rows above and below, `pw` columns left and right.
    pub fn symmetric(ph: usize, pw: usize) -> Padding {
        Padding { top: ph, left: pw, bottom: ph, right: pw }
    }

    /// "Same" padding (ONNX SAME_UPPER, TensorFlow SAME): the output is ceil(input / stride)
    /// per axis; when the total padding is odd the extra pixel goes bottom/right.
    pub fn same(input: [usize; 2], kernel: [usize; 2], stride: [usize; 2], dilation: [usize; 2]) -> Padding {
        let total = |i: usize| {
            let out = input[i].div_ceil(stride[i].max(1));
            let needed = (out.saturating_sub(1)) * stride[i] + dilation[i] * (kernel[i].max(1) - 1) + 1;
            needed.saturating_sub(input[i])
        };
        let (th, tw) = (total(0), total(1));
        Padding { top: th / 2, left: tw / 2, bottom: th - th / 2, right: tw - tw / 2 }
    }
}

/// Attributes of a convolution. Build with `Conv2d::default()` and the `with_` methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2d {
    /// (vertical, horizontal) step between windows.
    pub stride: [usize; 2],
    pub padding: Padding,
    /// (vertical, horizontal) spacing between kernel taps.
    pub dilation: [usize; 2],
    /// Channel groups: Cin and Cout both split into `groups` independent blocks.
    pub groups: usize,
    /// Apply max(0, ·) to the result.
    pub relu: bool,
}

impl Default for Conv2d {
    fn default() -> Self {
        Conv2d { stride: [1, 1], padding: Padding::default(), dilation: [1, 1], groups: 1, relu: false }
    }
}

impl Conv2d {
    pub fn with_stride(self, sh: usize, sw: usize) -> Self {
        Conv2d { stride: [sh, sw], ..self }
    }
    pub fn with_padding(self, padding: Padding) -> Self {
        Conv2d { padding, ..self }
    }
    pub fn with_dilation(self, dh: usize, dw: usize) -> Self {
        Conv2d { dilation: [dh, dw], ..self }
    }
    pub fn with_groups(self, groups: usize) -> Self {
        Conv2d { groups, ..self }
    }
    pub fn with_relu(self, relu: bool) -> Self {
        Conv2d { relu, ..self }
    }

    /// Checks input `[N, Cin, H, W]`, weight `[Cout, Cin/groups, KH, KW]` and an optional bias
    /// length against these attributes, and works out the output size.
    pub fn geometry(&self, x: &[usize], w: &[usize], bias_len: Option<usize>) -> Result<Conv2dGeometry> {
        const OP: &str = "conv2d";
        check_rank(OP, "input", x, 4)?;
        check_rank(OP, "weight", w, 4)?;
        for (what, v) in [("stride", self.stride), ("dilation", self.dilation), ("groups", [self.groups; 2])] {
            if v.contains(&0) {
                return Err(Error::Zero { op: OP, what, value: v });
            }
        }
        let (n, cin, h, wd) = (x[0], x[1], x[2], x[3]);
        let (cout, cin_pg, kh, kw) = (w[0], w[1], w[2], w[3]);
        let groups = self.groups;
        if cin % groups != 0 {
            return Err(Error::Groups { op: OP, what: "input channels", channels: cin, groups });
        }
        if cout % groups != 0 {
            return Err(Error::Groups { op: OP, what: "output channels", channels: cout, groups });
        }
        if cin / groups != cin_pg {
            return Err(Error::Channels { op: OP, what: "channels per group", got: cin / groups, expected: cin_pg });
        }
        if let Some(len) = bias_len.filter(|&l| l != cout) {
            return Err(Error::BiasLength { op: OP, got: len, expected: cout });
        }
        let p = self.padding;
        let (eh, ew) = (self.dilation[0] * (kh - 1) + 1, self.dilation[1] * (kw - 1) + 1);
        let oh = window_out(h, p.top + p.bottom, eh, self.stride[0]);
        let ow = window_out(wd, p.left + p.right, ew, self.stride[1]);
        let (oh, ow) = check_output(OP, [oh, ow], [h, wd], p, [eh, ew])?;
        Ok(Conv2dGeometry { attrs: *self, n, cin, h, w: wd, cout, kh, kw, oh, ow })
    }
}

/// A convolution whose shapes have been checked: every size the kernels and the reference use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dGeometry {
    pub attrs: Conv2d,
    pub n: usize,
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    pub cout: usize,
    pub kh: usize,
    pub kw: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Conv2dGeometry {
    pub fn input_shape(&self) -> [usize; 4] {
        [self.n, self.cin, self.h, self.w]
    }
    pub fn weight_shape(&self) -> [usize; 4] {
        [self.cout, self.cin / self.attrs.groups, self.kh, self.kw]
    }
    pub fn output_shape(&self) -> [usize; 4] {
        [self.n, self.cout, self.oh, self.ow]
    }
    /// Terms summed per output: Cin/groups · KH · KW.
    pub fn reduction_len(&self) -> usize {
        self.cin / self.attrs.groups * self.kh * self.kw
    }
    /// Multiply-adds: N · Cout · OH · OW · Cin/groups · KH · KW.
    pub fn macs(&self) -> u64 {
        (self.n * self.cout * self.oh * self.ow) as u64 * self.reduction_len() as u64
    }
    /// Floating-point operations, two per multiply-add.
    pub fn flops(&self) -> u64 {
        2 * self.macs()
    }
    /// The same pointwise convolution over images seen as one row of H·W pixels.
    fn flattened(&self) -> Conv2dGeometry {
        Conv2dGeometry { h: 1, w: self.h * self.w, oh: 1, ow: self.oh * self.ow, ..*self }
    }

    /// True when the convolution is a plain matrix product (1x1, stride 1, no padding).
    pub fn is_pointwise(&self) -> bool {
        let a = &self.attrs;
        self.kh == 1 && self.kw == 1 && a.stride == [1, 1] && a.padding == Padding::default()
    }
}

/// Which kernel runs a convolution; `Auto` is what [`conv2d`] uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKernel {
    /// The direct kernel; pointwise convolutions run it over the flattened image.
    Auto,
    /// The direct kernel: `tile_co` (4 or 8) output channels x 8 columns per invocation, in
    /// workgroups of `wg_x` x `wg_y` invocations (`wg_x · wg_y` ≤ the device's limit).
    Direct { tile_co: u32, wg_x: u32, wg_y: u32 },
}

/// Field order matches `Params` in shaders/conv2d.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct Conv2dUniform {
    n: u32,
    cin: u32,
    h: u32,
    w: u32,
    cout: u32,
    kh: u32,
    kw: u32,
    groups: u32,
    oh: u32,
    ow: u32,
    stride_y: u32,
    stride_x: u32,
    pad_top: u32,
    pad_left: u32,
    dil_y: u32,
    dil_x: u32,
    cin_per_group: u32,
    cout_per_group: u32,
    has_bias: u32,
    relu: u32,
}

/// Convolves `x` with `w` (and adds `b`) on the device `x` lives on.
pub fn conv2d(x: &Tensor, w: &Tensor, b: Option<&Tensor>, attrs: &Conv2d) -> Result<Tensor> {
    conv2d_with(x, w, b, attrs, ConvKernel::Auto)
}

/// [`conv2d`] with an explicit choice of kernel (for benchmarks and validation).
pub fn conv2d_with(x: &Tensor, w: &Tensor, b: Option<&Tensor>, attrs: &Conv2d, kernel: ConvKernel) -> Result<Tensor> {
    let geo = attrs.geometry(x.shape(), w.shape(), b.map(Tensor::len))?;
    let y = Tensor::zeros(x.gpu(), &geo.output_shape())?;
    let dispatch = plan(&geo, x, w, b, &y, kernel)?;
    x.gpu().run("conv2d", &[&dispatch])?;
    Ok(y)
}

/// Records the convolution `geo` from `x`, `w`, `b` into `y` (shapes as `geo` says).
pub(crate) fn plan(
    geo: &Conv2dGeometry,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    y: &Tensor,
    kernel: ConvKernel,
) -> Result<Dispatch> {
    const OP: &str = "conv2d";
    check_same_device(OP, &[("input", Some(x)), ("weight", Some(w)), ("bias", b), ("output", Some(y))])?;
    match kernel {
        ConvKernel::Auto => {
            // A pointwise convolution is a matrix product over the image's pixels: the direct
            // kernel sees the image as one row of H·W, and its 8 x 8 register tile becomes a
            // GEMM tile (faster on lavapipe than the general GEMM, which loads scalars).
            let geo = if geo.is_pointwise() { geo.flattened() } else { *geo };
            // A workgroup spans as many column blocks as the row has, up to 16, and 64 in all.
            let wg_x = blocks(geo.ow, DIRECT_TILE_X).next_power_of_two().min(16);
            let tile_co = if geo.cout / geo.attrs.groups >= 8 { 8 } else { 4 };
            plan_direct(&geo, x, w, b, y, tile_co, wg_x, 64 / wg_x)
        }
        ConvKernel::Direct { tile_co, wg_x, wg_y } => plan_direct(geo, x, w, b, y, tile_co, wg_x, wg_y),
    }
}

/// Output columns per invocation of the direct kernel (two vec4s in the WGSL).
const DIRECT_TILE_X: usize = 8;

/// The direct kernel with `tile_co` channels per invocation in `wg_x` x `wg_y` workgroups.
fn plan_direct(
    geo: &Conv2dGeometry,
    x: &Tensor,
    w: &Tensor,
    b: Option<&Tensor>,
    y: &Tensor,
    tile_co: u32,
    wg_x: u32,
    wg_y: u32,
) -> Result<Dispatch> {
    let tile_co = if tile_co > 4 { 8 } else { 4 };
    let a = &geo.attrs;
    let gpu = x.gpu();
    let params = Conv2dUniform {
        n: geo.n as u32,
        cin: geo.cin as u32,
        h: geo.h as u32,
        w: geo.w as u32,
        cout: geo.cout as u32,
        kh: geo.kh as u32,
        kw: geo.kw as u32,
        groups: a.groups as u32,
        oh: geo.oh as u32,
        ow: geo.ow as u32,
        stride_y: a.stride[0] as u32,
        stride_x: a.stride[1] as u32,
        pad_top: a.padding.top as u32,
        pad_left: a.padding.left as u32,
        dil_y: a.dilation[0] as u32,
        dil_x: a.dilation[1] as u32,
        cin_per_group: (geo.cin / a.groups) as u32,
        cout_per_group: (geo.cout / a.groups) as u32,
        has_bias: b.is_some() as u32,
        relu: a.relu as u32,
    };
    let max = gpu.limits().max_compute_invocations_per_workgroup;
    if wg_x == 0 || wg_y == 0 || wg_x * wg_y > max {
        return Err(Error::Limit {
            op: "conv2d",
            what: format!("a workgroup of {wg_x}x{wg_y} invocations"),
            needed: (wg_x * wg_y) as u64,
            limit: max as u64,
        });
    }
    let col_blocks = blocks(geo.ow, DIRECT_TILE_X);
    let co_blocks = a.groups as u32 * blocks(geo.cout / a.groups, tile_co as usize);
    let grid = [col_blocks.div_ceil(wg_x), co_blocks.div_ceil(wg_y), (geo.n * geo.oh) as u32];
    let bias = b.map(Tensor::buffer).unwrap_or(gpu.placeholder());
    let packed = LinearTexture::from_tensor(&pack_weights(geo, w)?)?;
    gpu.dispatch_with(
        &DIRECT,
        &[("WG_X", wg_x), ("WG_Y", wg_y), ("TILE_CO", tile_co)],
        &[
            x.buffer().as_entire_binding(),
            wgpu::BindingResource::TextureView(packed.view()),
            bias.as_entire_binding(),
            y.buffer().as_entire_binding(),
        ],
        bytemuck::bytes_of(&params),
        grid,
    )
}

/// Field order matches `Params` in shaders/pack.wgsl.
#[repr(C)]
#[derive(Clone, Copy, Pod, Zeroable)]
struct PackUniform {
    k: u32,
    cout_per_group: u32,
    blocks_per_group: u32,
    total: u32,
}

/// The weights in the direct kernel's layout, packed on the device once per plan (and then
/// copied into a texture, which the bind group keeps alive).
fn pack_weights(geo: &Conv2dGeometry, w: &Tensor) -> Result<Tensor> {
    let gpu = w.gpu();
    let groups = geo.attrs.groups;
    let cout_pg = geo.cout / groups;
    let blocks_per_group = cout_pg.div_ceil(4);
    let k = geo.reduction_len();
    let total = groups * blocks_per_group * k;
    let packed = Tensor::zeros(gpu, &[total, 4])?;
    let params = PackUniform {
        k: k as u32,
        cout_per_group: cout_pg as u32,
        blocks_per_group: blocks_per_group as u32,
        total: total as u32,
    };
    let grid = fold_grid(blocks(total, 64), gpu.limits().max_compute_workgroups_per_dimension);
    let d = gpu.dispatch(&PACK, &[("WG", 64)], &[w.buffer(), packed.buffer()], bytemuck::bytes_of(&params), grid)?;
    gpu.run("conv2d weight packing", &[&d])?;
    Ok(packed)
}
