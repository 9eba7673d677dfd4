//! dojang inside a GPU app: the app opens its wgpu device and holds a photo in a texture, as
//! a renderer or a camera pipeline does; dojang runs on that device, takes the texture as a
//! network's input (`image_to_tensor` → `record_forward`, recorded into the app's own command
//! encoder) and writes Laplacian edges (the filter tool's kernel and signed map, zero padding)
//! back into a texture, with nothing read back to the host until the results. Then the host
//! path (the photo's bytes prepared on the CPU, `Tensor::from_slice`, `forward`) checks both.
//!
//! `cargo run --release --example interop [MODEL.onnx]` (the zoo's SqueezeNet 1.1 with seeded
//! weights when no file is given).

use dojang::model::{Weights, zoo};
use dojang::ops::{
    ImageFormat, ImageInput, ValueRange, conv2d, image_to_tensor, record_image_to_tensor, record_tensor_to_image,
};
use dojang::tolerance::Tolerance;
use dojang::wgpu::{self, util::DeviceExt};
use dojang::{Gpu, GpuModel, Tensor, reference};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The app's device, opened as any wgpu app opens one.
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))?;
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default()))?;
    let gpu = Gpu::from_wgpu(&adapter, &device, &queue)?;
    println!("app device: {} ({:?})", adapter.get_info().name, adapter.get_info().backend);

    // The photo in an sRGB texture, as a renderer holds it.
    let photo = image::open(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/astronaut.jpg"))?.to_rgba8();
    let (w, h) = photo.dimensions();
    let texture = device.create_texture_with_data(
        &queue,
        &wgpu::TextureDescriptor {
            label: Some("photo"),
            size: wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8UnormSrgb,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
            view_formats: &[],
        },
        wgpu::util::TextureDataOrder::LayerMajor,
        photo.as_raw(),
    );

    // The network: an ONNX file, or the zoo's SqueezeNet with seeded weights.
    let (model, weights) = match std::env::args().nth(1) {
        Some(path) => {
            let imported = dojang::onnx::load(std::path::Path::new(&path))?;
            (imported.model, imported.weights)
        }
        None => {
            let model = zoo::build("squeezenet1_1")?;
            let weights = Weights::he_normal(&model, 7);
            (model, weights)
        }
    };
    let mut network = GpuModel::new(&gpu, &model, &weights)?;
    let [_, size, _] = model.input() else { return Err("the network's input is not [3, H, W]".into()) };
    let prepare = ImageInput::imagenet(*size);

    // On the device: texture → input → logits, recorded into the app's encoder (once; a frame
    // loop would replay both launches every frame without allocating).
    let x = Tensor::zeros(&gpu, &[&[1], model.input()].concat())?;
    let logits = Tensor::zeros(&gpu, &[&[1], model.output_of(model.layers().len() - 1)].concat())?;
    let to_input = record_image_to_tensor(&texture, &x, 0, &prepare)?;
    let forward = network.record_forward(&x, &logits)?;
    let mut encoder = device.create_command_encoder(&Default::default());
    to_input.encode(&mut encoder)?;
    forward.encode(&mut encoder)?;
    queue.submit([encoder.finish()]);

    // The filter tool's Laplacian over the photo as it is, written into a texture to show.
    let pixels = image_to_tensor(&gpu, &texture, &ImageInput::default())?;
    let laplacian = [0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0f32];
    let taps: Vec<f32> = laplacian.repeat(3);
    let kernel = Tensor::from_slice(&gpu, &taps, &[3, 1, 3, 3])?;
    let conv = dojang::ops::Conv2d::default().with_padding(dojang::ops::Padding::symmetric(1, 1)).with_groups(3);
    let edges = conv2d(&pixels, &kernel, None, &conv)?;
    let range = ValueRange::signed(8.0); // Σ|k| of the Laplacian: the filter tool's signed map
    let shown = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("edges"),
        size: texture.size(),
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::COPY_SRC | wgpu::TextureUsages::TEXTURE_BINDING,
        view_formats: &[],
    });
    record_tensor_to_image(&edges, 0, &[0, 1, 2], range, &shown)?.run()?;

    // The only reads: the logits, and the edge texture (to check it).
    let on_device = logits.download()?;
    let shown_bytes = read_texture(&device, &queue, &shown);

    // The host path: the photo's bytes prepared on the CPU, uploaded, run.
    let texels = reference::decode_texels(ImageFormat::Rgba8UnormSrgb, photo.as_raw());
    let host_input = reference::image_to_tensor(&texels, [h as usize, w as usize], &prepare)?;
    let on_host = network.forward(&host_input, 1)?;
    let host_pixels = reference::image_to_tensor(&texels, [h as usize, w as usize], &ImageInput::default())?;
    let geo = conv.geometry(&[1, 3, h as usize, w as usize], &[3, 1, 3, 3], None)?;
    let host_edges = reference::conv2d(&geo, &host_pixels, &taps, None)?;
    let shape = [1, 3, h as usize, w as usize];
    let expected_bytes = reference::tensor_to_image(&host_edges, shape, 0, &[0, 1, 2], range, ImageFormat::Rgba8Unorm);

    let check = Tolerance::for_layer(&on_host).compare(&on_device, &on_host);
    let (top_device, top_host) = (top5(&on_device), top5(&on_host));
    println!("{}: input {:?}, output {:?}", model.name(), x.shape(), logits.shape());
    println!("top-5 on the device: {top_device:?}");
    println!("top-5 on the host:   {top_host:?}");
    println!("logits: max abs difference {:.1e} ({})", check.max_abs, verdict(check.passed()));
    let off = shown_bytes.iter().zip(&expected_bytes).filter(|(a, b)| a.abs_diff(**b) > 1).count();
    println!("edges: {w}x{h} texels, {off} bytes more than one step from the host's ({})", verdict(off == 0));
    let passed = check.passed() && top_device == top_host && off == 0;
    std::process::exit(if passed { 0 } else { 1 })
}

fn verdict(pass: bool) -> &'static str {
    if pass { "pass" } else { "FAIL" }
}

/// The indices of the 5 largest values, largest first.
fn top5(v: &[f32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[b].total_cmp(&v[a]));
    order.truncate(5);
    order
}

/// A texture's bytes, read back (rows padded to the copy's 256-byte alignment, then cut).
fn read_texture(device: &wgpu::Device, queue: &wgpu::Queue, texture: &wgpu::Texture) -> Vec<u8> {
    let (w, h) = (texture.width() as usize, texture.height() as usize);
    let row = (4 * w).next_multiple_of(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT as usize);
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: (row * h) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(row as u32), rows_per_image: None },
        },
        texture.size(),
    );
    queue.submit([encoder.finish()]);
    buffer.slice(..).map_async(wgpu::MapMode::Read, |r| r.expect("map"));
    device.poll(wgpu::PollType::wait_indefinitely()).expect("poll");
    let bytes =
        buffer.slice(..).get_mapped_range().expect("mapped").chunks(row).flat_map(|r| r[..4 * w].to_vec()).collect();
    buffer.unmap();
    bytes
}
