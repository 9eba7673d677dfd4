//! Images in and out of tensors without leaving the GPU: an app's texture (a camera frame, a
//! render target) as one image of a network's input, and a tensor's channels written into
//! an app's texture to be shown. What a texel's value is, and the preprocessing, are
//! [`crate::attrs::image`]'s; [`crate::reference::image`] is the CPU twin.

use crate::attrs::{ImageFormat, ImageInput, ValueRange, check_rank};
use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::ops::checks::check_output;
use crate::ops::record::into_new;
use crate::ops::sizes::{blocks, to_u32};
use crate::ops::wgsl::wgsl;
use crate::pipeline::{Access, Kernel, Step, UniformLayout, uniform_struct};
use crate::tensor::Tensor;

pub(crate) const IMAGE_TO_TENSOR: Kernel = Kernel {
    name: "image_to_tensor",
    source: wgsl!("image_to_tensor"),
    entry: "image_to_tensor",
    bindings: &[Access::Sampled, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<InputUniforms>(),
    overrides: &["WG", "SRGB"],
};

pub(crate) const TENSOR_TO_IMAGE: Kernel = Kernel {
    name: "tensor_to_image",
    source: wgsl!("tensor_to_image"),
    entry: "tensor_to_image",
    bindings: &[Access::Read, Access::ReadWrite, Access::Uniform],
    uniform: UniformLayout::of::<OutputUniforms>(),
    overrides: &["WG", "FORMAT"],
};

impl ImageFormat {
    /// The image format of a wgpu texture format, if it is one.
    pub fn of(format: wgpu::TextureFormat) -> Option<ImageFormat> {
        ImageFormat::ALL.into_iter().find(|&f| wgpu::TextureFormat::from(f) == format)
    }
}

impl From<ImageFormat> for wgpu::TextureFormat {
    fn from(f: ImageFormat) -> wgpu::TextureFormat {
        match f {
            ImageFormat::Rgba8Unorm => wgpu::TextureFormat::Rgba8Unorm,
            ImageFormat::Rgba8UnormSrgb => wgpu::TextureFormat::Rgba8UnormSrgb,
            ImageFormat::Bgra8Unorm => wgpu::TextureFormat::Bgra8Unorm,
            ImageFormat::Rgba16Float => wgpu::TextureFormat::Rgba16Float,
            ImageFormat::Rgba32Float => wgpu::TextureFormat::Rgba32Float,
        }
    }
}

/// Invocations per workgroup: a row of pixels.
const WG: u32 = 64;

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/image_to_tensor.wgsl.
    struct InputUniforms {
        ih: u32,
        iw: u32,
        sh: u32,
        sw: u32,
        top: u32,
        left: u32,
        oh: u32,
        ow: u32,
        image: u32,
        mean_r: f32,
        mean_g: f32,
        mean_b: f32,
        inv_std_r: f32,
        inv_std_g: f32,
        inv_std_b: f32,
        _pad: u32,
    }
}

uniform_struct! {
    /// Field order matches `Uniforms` in shaders/tensor_to_image.wgsl.
    struct OutputUniforms {
        c: u32,
        h: u32,
        w: u32,
        image: u32,
        ch_r: u32,
        ch_g: u32,
        ch_b: u32,
        pitch: u32,
        low: f32,
        scale: f32,
        _pad: [u32; 2],
    }
}

/// An app's texture as one image `[1, 3, H, W]` of a network's input, prepared as `input`
/// says (H and W its crop, else its size). Enqueued; the texture needs usage
/// TEXTURE_BINDING.
pub fn image_to_tensor(gpu: &Gpu, texture: &wgpu::Texture, input: &ImageInput) -> Result<Tensor> {
    let geo = input.geometry(texture_size(texture))?;
    into_new(gpu, &[1, 3, geo.out[0], geo.out[1]], |y| record_image_to_tensor(texture, y, 0, input))
}

/// Records [`image_to_tensor`] into image `image` of `y` (`[N, 3, H, W]`), so that a batch
/// fills from several textures and a frame loop reuses its tensors.
pub fn record_image_to_tensor(texture: &wgpu::Texture, y: &Tensor, image: usize, input: &ImageInput) -> Result<Launch> {
    const OP: &str = "image_to_tensor";
    let gpu = y.gpu();
    let geo = input.geometry(texture_size(texture))?;
    check_texture(OP, texture, wgpu::TextureUsages::TEXTURE_BINDING)?;
    check_rank(OP, "output", y.shape(), 4)?;
    let n = y.shape()[0];
    check_output(OP, y, &[n, 3, geo.out[0], geo.out[1]])?;
    if image >= n {
        return Err(Error::OutOfRange { op: OP, offset: image, len: 1, size: n });
    }
    let view = texture.create_view(&Default::default());
    gpu.check_owns(OP, "texture", |device| {
        sampled_bind_group(device, &view);
    })?;
    let u = |what, v| to_u32(OP, what, v);
    let inv = input.std.map(|s| 1.0 / s);
    let uniforms = InputUniforms {
        ih: u("image rows", geo.image[0])?,
        iw: u("image columns", geo.image[1])?,
        sh: u("scaled rows", geo.scaled[0])?,
        sw: u("scaled columns", geo.scaled[1])?,
        top: u("crop rows", geo.origin[0])?,
        left: u("crop columns", geo.origin[1])?,
        oh: u("output rows", geo.out[0])?,
        ow: u("output columns", geo.out[1])?,
        image: u("images", image)?,
        mean_r: input.mean[0],
        mean_g: input.mean[1],
        mean_b: input.mean[2],
        inv_std_r: inv[0],
        inv_std_g: inv[1],
        inv_std_b: inv[2],
        _pad: 0,
    };
    let srgb = texture.format() == wgpu::TextureFormat::Rgba8UnormSrgb;
    let grid = [blocks(geo.out[1], WG as usize), uniforms.oh, 1];
    let resources = [wgpu::BindingResource::TextureView(&view), y.buffer().as_entire_binding()];
    let overrides = [("WG", WG), ("SRGB", srgb as u32)];
    let dispatch = gpu.dispatch(&IMAGE_TO_TENSOR, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)?;
    Ok(Launch::new(gpu, OP, vec![dispatch]))
}

/// Writes `channels` of image `image` of `x` (`[N, C, H, W]`) into an app's texture of H x W
/// texels: one channel as grey, or three as R, G, B, each mapped to [0, 1] by `range`, and
/// alpha as 1. Enqueued. The texture needs usage COPY_DST: the texels are packed by a kernel
/// and copied in, so any of the image formats takes them, sRGB and BGRA ones too.
pub fn tensor_to_image(
    x: &Tensor,
    image: usize,
    channels: &[usize],
    range: ValueRange,
    texture: &wgpu::Texture,
) -> Result<()> {
    record_tensor_to_image(x, image, channels, range, texture)?.run()
}

/// Records [`tensor_to_image`], to be replayed every frame.
pub fn record_tensor_to_image(
    x: &Tensor,
    image: usize,
    channels: &[usize],
    range: ValueRange,
    texture: &wgpu::Texture,
) -> Result<Launch> {
    const OP: &str = "tensor_to_image";
    let gpu = x.gpu();
    check_rank(OP, "input", x.shape(), 4)?;
    let &[n, c, h, w] = x.shape() else { unreachable!("rank checked") };
    let format = check_texture(OP, texture, wgpu::TextureUsages::COPY_DST)?;
    let texel = format.texel_bytes();
    if texture_size(texture) != [h, w] {
        let [th, tw] = texture_size(texture);
        return Err(Error::Mismatch { op: OP, a: [n, c, h, w].as_slice().into(), b: [1, 4, th, tw].as_slice().into() });
    }
    if image >= n {
        return Err(Error::OutOfRange { op: OP, offset: image, len: 1, size: n });
    }
    if !matches!(channels.len(), 1 | 3) || channels.iter().any(|&k| k >= c) {
        let (start, end) = (channels.iter().min().copied().unwrap_or(0), channels.iter().max().map_or(0, |m| m + 1));
        return Err(Error::ChannelRange { op: OP, start, end, channels: c });
    }
    range.check(OP)?;
    let bytes_per_row = (w * texel).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT as usize);
    let bytes = (bytes_per_row * h) as u64;
    if bytes > gpu.max_binding_bytes() {
        let what = format!("an image of {h}x{w} texels ({bytes} bytes) in one storage binding");
        return Err(Error::Limit { op: OP, what, needed: bytes, limit: gpu.max_binding_bytes() });
    }
    gpu.check_owns(OP, "texture", |device| touch_texture(device, texture, texel))?;
    let texels = Tensor::zeros(gpu, &[bytes as usize / 4])?;
    let ch = |k: usize| to_u32(OP, "channel", channels[k.min(channels.len() - 1)]);
    let uniforms = OutputUniforms {
        c: to_u32(OP, "channels", c)?,
        h: to_u32(OP, "rows", h)?,
        w: to_u32(OP, "columns", w)?,
        image: to_u32(OP, "images", image)?,
        ch_r: ch(0)?,
        ch_g: ch(1)?,
        ch_b: ch(2)?,
        pitch: (bytes_per_row / 4) as u32,
        low: range.low,
        scale: range.high - range.low,
        _pad: [0; 2],
    };
    let code = match format {
        ImageFormat::Rgba8Unorm | ImageFormat::Rgba8UnormSrgb => 0,
        ImageFormat::Bgra8Unorm => 1,
        ImageFormat::Rgba16Float => 2,
        ImageFormat::Rgba32Float => 3,
    };
    let grid = [blocks(w, WG as usize), uniforms.h, 1];
    let resources = [x.buffer().as_entire_binding(), texels.buffer().as_entire_binding()];
    let overrides = [("WG", WG), ("FORMAT", code)];
    let dispatch = gpu.dispatch(&TENSOR_TO_IMAGE, &overrides, &resources, bytemuck::bytes_of(&uniforms), grid)?;
    let copy = Step::CopyToImage {
        buffer: texels.buffer().clone(),
        texture: texture.clone(),
        bytes_per_row: bytes_per_row as u32,
    };
    Ok(Launch::with_steps(gpu, OP, vec![Step::Dispatch(dispatch), copy]))
}

/// A texture's `[height, width]`.
fn texture_size(texture: &wgpu::Texture) -> [usize; 2] {
    [texture.height() as usize, texture.width() as usize]
}

/// Checks that `texture` is a 2-D image of one layer and sample in one of the image formats,
/// with `usage`: its format.
fn check_texture(op: &'static str, texture: &wgpu::Texture, usage: wgpu::TextureUsages) -> Result<ImageFormat> {
    let format = ImageFormat::of(texture.format()).ok_or(Error::TextureFormat {
        op,
        got: texture.format(),
        takes: "Rgba8Unorm, Rgba8UnormSrgb, Bgra8Unorm, Rgba16Float or Rgba32Float",
    })?;
    let plain = texture.dimension() == wgpu::TextureDimension::D2
        && texture.depth_or_array_layers() == 1
        && texture.sample_count() == 1;
    if !plain {
        let got = format!(
            "a {:?} texture of {} layers and {} samples",
            texture.dimension(),
            texture.depth_or_array_layers(),
            texture.sample_count()
        );
        return Err(Error::Usage {
            op,
            what: "texture",
            needed: "a 2-D texture of one layer and one sample".into(),
            got,
        });
    }
    if !texture.usage().contains(usage) {
        let (needed, got) = (format!("{usage:?}"), format!("{:?}", texture.usage()));
        return Err(Error::Usage { op, what: "texture", needed, got });
    }
    Ok(format)
}

/// A bind group of `view` as the image kernel binds it, made on `device` (to see whose it is).
fn sampled_bind_group(device: &wgpu::Device, view: &wgpu::TextureView) {
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: None,
        entries: &[wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Texture {
                sample_type: wgpu::TextureSampleType::Float { filterable: false },
                view_dimension: wgpu::TextureViewDimension::D2,
                multisampled: false,
            },
            count: None,
        }],
    });
    drop(device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &layout,
        entries: &[wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(view) }],
    }));
}

/// A copy of one texel into `texture`, recorded on `device` and never submitted (to see
/// whose the texture is).
fn touch_texture(device: &wgpu::Device, texture: &wgpu::Texture, texel: usize) {
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: texel as u64,
        usage: wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_texture(
        wgpu::TexelCopyBufferInfo { buffer: &buffer, layout: Default::default() },
        texture.as_image_copy(),
        wgpu::Extent3d { width: 1, height: 1, depth_or_array_layers: 1 },
    );
    encoder.finish();
}
