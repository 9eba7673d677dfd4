//! dojang inside an app that owns its wgpu device: the device brought in, the app's buffers as
//! tensors and tensors' buffers read in place, images in and out of textures against the CPU
//! reference (every format; sRGB, BGRA and half floats by hand), a forward pass kept on the
//! device and recorded into the app's encoder, and the app's mistakes refused with typed
//! errors that leave everything usable.

mod common;

use dojang::model::{Weights, zoo};
use dojang::ops::{
    Conv2d, ImageFormat, ImageInput, ValueRange, conv2d, image_to_tensor, record_image_to_tensor, relu, tensor_to_image,
};
use dojang::tolerance::Tolerance;
use dojang::wgpu::{self, util::DeviceExt};
use dojang::{Error, Gpu, GpuModel, Tensor, reference};

/// The app's wgpu instance: its devices, like any app's, come from one.
fn instance() -> &'static wgpu::Instance {
    static INSTANCE: std::sync::OnceLock<wgpu::Instance> = std::sync::OnceLock::new();
    INSTANCE.get_or_init(|| wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env()))
}

/// A device as an app opens one, with `limits`, on the default adapter.
fn app_device(limits: wgpu::Limits) -> (wgpu::Adapter, wgpu::Device, wgpu::Queue) {
    let instance = instance();
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .expect("no adapter: these tests need one");
    let (device, queue) = pollster::block_on(
        adapter.request_device(&wgpu::DeviceDescriptor { required_limits: limits, ..Default::default() }),
    )
    .expect("the adapter refused a device");
    (adapter, device, queue)
}

fn app_gpu() -> (Gpu, wgpu::Device, wgpu::Queue) {
    let (adapter, device, queue) = app_device(wgpu::Limits::default());
    (Gpu::from_wgpu(&adapter, &device, &queue).unwrap(), device, queue)
}

/// A texture of `format` holding `bytes`, as an app uploads a frame.
fn texture(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    format: wgpu::TextureFormat,
    [h, w]: [usize; 2],
    bytes: &[u8],
) -> wgpu::Texture {
    device.create_texture_with_data(
        queue,
        &wgpu::TextureDescriptor {
            label: Some("app image"),
            size: wgpu::Extent3d { width: w as u32, height: h as u32, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        },
        wgpu::util::TextureDataOrder::LayerMajor,
        bytes,
    )
}

/// A texture's bytes, rows unpadded, read back as an app would.
fn read_texture(device: &wgpu::Device, queue: &wgpu::Queue, t: &wgpu::Texture) -> Vec<u8> {
    let texel = ImageFormat::of(t.format()).unwrap().texel_bytes();
    let (w, h) = (t.width() as usize, t.height() as usize);
    let row = (w * texel).next_multiple_of(256);
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: (row * h) as u64,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        t.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(row as u32), rows_per_image: None },
        },
        t.size(),
    );
    queue.submit([encoder.finish()]);
    let padded = map(device, &buffer);
    padded.chunks(row).flat_map(|r| r[..w * texel].to_vec()).collect()
}

fn map(device: &wgpu::Device, buffer: &wgpu::Buffer) -> Vec<u8> {
    buffer.slice(..).map_async(wgpu::MapMode::Read, |r| r.unwrap());
    device.poll(wgpu::PollType::wait_indefinitely()).unwrap();
    let bytes = buffer.slice(..).get_mapped_range().unwrap().to_vec();
    buffer.unmap();
    bytes
}

/// `texels` of `format` as bytes, for the values in [0, 1] of `values` (4 per texel).
fn encode(format: ImageFormat, values: &[f32]) -> Vec<u8> {
    use ImageFormat::*;
    let byte = |v: f32| (v * 255.0).round() as u8;
    match format {
        Bgra8Unorm => values.chunks(4).flat_map(|t| [t[2], t[1], t[0], t[3]].map(byte)).collect(),
        Rgba16Float => values.iter().flat_map(|&v| half::f16::from_f32(v).to_le_bytes()).collect(),
        Rgba32Float => values.iter().flat_map(|&v| v.to_le_bytes()).collect(),
        Rgba8Unorm | Rgba8UnormSrgb => values.iter().map(|&v| byte(v)).collect(),
    }
}

#[test]
fn a_device_the_app_opened_runs_ops_and_states_its_timestamps() {
    let (adapter, device, queue) = app_device(wgpu::Limits::default());
    let gpu = Gpu::from_wgpu(&adapter, &device, &queue).unwrap();
    assert_eq!(gpu.has_timestamps(), device.features().contains(wgpu::Features::TIMESTAMP_QUERY));
    assert_eq!(gpu.limits(), &device.limits(), "the device's own limits, not the adapter's");
    let x = Tensor::from_slice(&gpu, &[-1.0, 2.0, -3.0, 4.0], &[1, 1, 2, 2]).unwrap();
    assert_eq!(relu(&x).unwrap().download().unwrap(), [0.0, 2.0, 0.0, 4.0]);
}

#[test]
fn a_device_below_dojangs_limits_is_refused_by_name() {
    let (adapter, device, queue) = app_device(wgpu::Limits::downlevel_webgl2_defaults());
    match Gpu::from_wgpu(&adapter, &device, &queue) {
        Err(Error::DeviceLacks { what, needed, has }) => {
            assert!(what.starts_with("limit max_"), "{what}");
            assert!(has < needed, "{what}: needs {needed}, has {has}");
        }
        other => panic!("expected DeviceLacks, got {other:?}"),
    }
}

#[test]
fn the_apps_buffers_are_tensors_and_results_are_read_in_place() {
    let (gpu, device, queue) = app_gpu();
    let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
    let data = [1.0f32, -2.0, 3.0, -4.0, 5.0, -6.0, 7.0, -8.0];
    let contents = bytemuck::cast_slice(&data);
    let buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: None, contents, usage });
    let x = Tensor::from_buffer(&gpu, &buffer, &[1, 2, 2, 2]).unwrap();
    // A 1x1 convolution that swaps the two channels, straight from the app's buffer.
    let w = Tensor::from_slice(&gpu, &[0.0, 1.0, 1.0, 0.0], &[2, 2, 1, 1]).unwrap();
    let y = conv2d(&x, &w, None, &Conv2d::default()).unwrap();
    // The app reads the result's buffer itself, as its next pass would.
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 32,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&Default::default());
    encoder.copy_buffer_to_buffer(y.buffer(), 0, &readback, 0, 32);
    queue.submit([encoder.finish()]);
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&map(&device, &readback));
    assert_eq!(got, [5.0, -6.0, 7.0, -8.0, 1.0, -2.0, 3.0, -4.0]);
    // Writes through the tensor land in the app's buffer.
    x.write(&[0.5; 8]).unwrap();
    assert_eq!(x.download().unwrap(), [0.5; 8]);
}

#[test]
fn an_apps_buffer_that_cannot_hold_the_tensor_is_refused_and_nothing_breaks() {
    let (gpu, device, _queue) = app_gpu();
    let make = |size, usage| {
        device.create_buffer(&wgpu::BufferDescriptor { label: None, size, usage, mapped_at_creation: false })
    };
    let all = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST;
    // 6 floats take two whole vec4s: 32 bytes.
    match Tensor::from_buffer(&gpu, &make(24, all), &[1, 1, 2, 3]) {
        Err(Error::BufferTooSmall { needed: 32, got: 24, .. }) => {}
        other => panic!("expected BufferTooSmall 32/24, got {other:?}"),
    }
    let vertex = make(64, wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST);
    match Tensor::from_buffer(&gpu, &vertex, &[4]) {
        Err(Error::Usage { needed, got, .. }) => {
            assert!(needed.contains("STORAGE") && got.contains("VERTEX"), "{needed} / {got}")
        }
        other => panic!("expected Usage, got {other:?}"),
    }
    // A buffer of another device.
    let (_other_adapter, other_device, _q) = app_device(wgpu::Limits::default());
    let foreign = other_device.create_buffer(&wgpu::BufferDescriptor {
        label: None,
        size: 64,
        usage: all,
        mapped_at_creation: false,
    });
    match Tensor::from_buffer(&gpu, &foreign, &[4]) {
        Err(Error::ForeignResource { what: "buffer", .. }) => {}
        other => panic!("expected ForeignResource, got {other:?}"),
    }
    // Still usable.
    let ok = Tensor::from_buffer(&gpu, &make(64, all), &[4]).unwrap();
    ok.write(&[1.0, 2.0, 3.0, 4.0]).unwrap();
    assert_eq!(ok.download().unwrap(), [1.0, 2.0, 3.0, 4.0]);
}

/// Random texel values in [0, 1] (alpha too), `h · w · 4` of them.
fn pixels(h: usize, w: usize, seed: u64) -> Vec<f32> {
    common::random(h * w * 4, seed).iter().map(|v| (v + 1.0) / 2.0).collect()
}

#[test]
fn images_of_every_format_become_tensors_as_the_reference_prepares_them() {
    let (gpu, device, queue) = app_gpu();
    let inputs = [
        ImageInput::default(),
        ImageInput::default().with_resize([29, 41]).with_crop([17, 23]),
        ImageInput::default().with_resize([8, 5]).with_normalise([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
        ImageInput::imagenet(14),
    ];
    for format in ImageFormat::ALL {
        let (h, w) = (19, 13);
        let bytes = encode(format, &pixels(h, w, 7));
        let t = texture(&device, &queue, format.into(), [h, w], &bytes);
        let texels = reference::decode_texels(format, &bytes);
        for input in &inputs {
            let y = image_to_tensor(&gpu, &t, input).unwrap();
            let expected = reference::image_to_tensor(&texels, [h, w], input).unwrap();
            let atol = 2e-6 / 0.224;
            common::assert_close(
                &format!("{format:?} {input:?}"),
                &y.download().unwrap(),
                &expected,
                y.shape(),
                Tolerance { atol, rtol: 1e-5 },
            );
        }
    }
}

#[test]
fn image_values_by_hand_bgra_order_srgb_bytes_and_bilinear_weights() {
    let (gpu, device, queue) = app_gpu();
    // One texel stored B, G, R, A = 10, 20, 30, 255: red is 30.
    let bgra = texture(&device, &queue, wgpu::TextureFormat::Bgra8Unorm, [1, 1], &[10, 20, 30, 255]);
    let v = image_to_tensor(&gpu, &bgra, &ImageInput::default()).unwrap().download().unwrap();
    for (got, byte) in v.iter().zip([30.0, 20.0, 10.0]) {
        assert!((got - byte / 255.0).abs() < 1e-6, "{v:?}");
    }
    // sRGB byte 128 is 128 / 255 = 0.502 to a network (its linear light would be 0.216).
    let srgb = texture(&device, &queue, wgpu::TextureFormat::Rgba8UnormSrgb, [1, 1], &[128, 0, 255, 255]);
    let v = image_to_tensor(&gpu, &srgb, &ImageInput::default()).unwrap().download().unwrap();
    for (got, want) in v.iter().zip([128.0 / 255.0, 0.0, 1.0]) {
        assert!((got - want).abs() < 1e-6, "{v:?}");
    }
    // A 1x2 image (red 0 then 1) scaled to 1x4: centres at -0.25, 0.25, 0.75, 1.25 of the
    // source, clamped: 0, 0.25, 0.75, 1; then normalised by mean 0.5, std 0.25.
    let row = texture(
        &device,
        &queue,
        wgpu::TextureFormat::Rgba32Float,
        [1, 2],
        bytemuck::cast_slice(&[0.0f32, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0]),
    );
    let input = ImageInput::default().with_resize([1, 4]).with_normalise([0.5; 3], [0.25; 3]);
    let v = image_to_tensor(&gpu, &row, &input).unwrap().download().unwrap();
    assert_eq!(&v[..4], &[-2.0, -1.0, 1.0, 2.0]);
    assert_eq!(&v[4..], &[-2.0; 8]);
}

#[test]
fn tensors_become_texels_of_every_format_as_the_reference_writes_them() {
    let (gpu, device, queue) = app_gpu();
    let (h, w) = (5, 70); // rows of 280 bytes and more: padded to 256-byte multiples for the copy
    let shape = [2, 4, h, w];
    let x: Vec<f32> = common::random(2 * 4 * h * w, 3).iter().map(|v| v * 1.5).collect();
    let xt = Tensor::from_slice(&gpu, &x, &shape).unwrap();
    for format in ImageFormat::ALL {
        for (channels, range) in [(&[2][..], ValueRange::signed(1.0)), (&[3, 0, 1][..], ValueRange::UNIT)] {
            let t = texture(&device, &queue, format.into(), [h, w], &vec![0; h * w * format.texel_bytes()]);
            tensor_to_image(&xt, 1, channels, range, &t).unwrap();
            let got = reference::decode_texels(format, &read_texture(&device, &queue, &t));
            let bytes = reference::tensor_to_image(&x, shape, 1, channels, range, format);
            let expected = reference::decode_texels(format, &bytes);
            // Within one 8-bit step (a value on a rounding boundary), or f16's.
            let worst =
                got.iter().flatten().zip(expected.iter().flatten()).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(worst <= 1.0 / 255.0 + 1e-6, "{format:?} {channels:?}: worst {worst}");
            let exact = got.iter().flatten().zip(expected.iter().flatten()).filter(|(a, b)| a == b).count();
            assert!(exact * 100 >= 99 * got.len() * 4, "{format:?}: only {exact} of {} exact", got.len() * 4);
        }
    }
    // By hand: a value of 0.5 under UNIT is byte 128 (127.5 rounds to even), -1 under signed(1) black.
    let t = texture(&device, &queue, wgpu::TextureFormat::Bgra8Unorm, [1, 1], &[0; 4]);
    let one = Tensor::from_slice(&gpu, &[0.5, -1.0, 1.0], &[1, 3, 1, 1]).unwrap();
    tensor_to_image(&one, 0, &[0, 1, 2], ValueRange::UNIT, &t).unwrap();
    assert_eq!(read_texture(&device, &queue, &t), [255, 0, 128, 255], "B, G, R, A");
}

#[test]
fn a_forward_pass_stays_on_the_device_and_records_into_the_apps_encoder() {
    let (gpu, device, queue) = app_gpu();
    let model = zoo::build("bottleneck").unwrap();
    let weights = Weights::he_normal(&model, 5);
    let mut on_gpu = GpuModel::new(&gpu, &model, &weights).unwrap();
    let batch = 2;
    let input: Vec<f32> = common::random(batch * model.input().iter().product::<usize>(), 9);
    let expected = on_gpu.forward(&input, batch).unwrap();
    let x = Tensor::from_slice(&gpu, &input, &[&[batch], model.input()].concat()).unwrap();
    let out_shape = [&[batch], model.output_of(model.layers().len() - 1)].concat();
    let y = Tensor::zeros(&gpu, &out_shape).unwrap();
    on_gpu.forward_into(&x, &y).unwrap();
    assert_eq!(y.download().unwrap(), expected, "forward_into against forward");
    // Recorded once, replayed inside the app's own command buffer after its own copy.
    let launch = on_gpu.record_forward(&x, &y).unwrap();
    let held = gpu.memory();
    for round in 0..3 {
        let scaled: Vec<f32> = input.iter().map(|v| v * (round + 1) as f32).collect();
        let staged = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: None,
            contents: bytemuck::cast_slice(&scaled),
            usage: wgpu::BufferUsages::COPY_SRC,
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&staged, 0, x.buffer(), 0, 4 * scaled.len() as u64);
        launch.encode(&mut encoder).unwrap();
        queue.submit([encoder.finish()]);
        let expected = on_gpu.forward(&scaled, batch).unwrap();
        common::assert_close(
            "encoded pass",
            &y.download().unwrap(),
            &expected,
            &out_shape,
            Tolerance::for_layer(&expected),
        );
    }
    gpu.wait_idle().unwrap();
    assert_eq!(gpu.memory().textures, held.textures, "a replayed pass makes no textures");
    // The wrong shapes are refused.
    let wrong = Tensor::zeros(&gpu, &[batch, 3, 8, 8]).unwrap();
    assert!(matches!(on_gpu.record_forward(&wrong, &y), Err(Error::Mismatch { .. })));
    assert!(matches!(on_gpu.record_forward(&x, &wrong), Err(Error::Mismatch { .. })));
}

#[test]
fn image_mistakes_are_typed_errors_and_nothing_is_written() {
    let (gpu, device, queue) = app_gpu();
    let t = texture(&device, &queue, wgpu::TextureFormat::Rgba8Unorm, [4, 6], &[7; 4 * 6 * 4]);
    let r8 = texture(&device, &queue, wgpu::TextureFormat::R8Unorm, [4, 6], &[7; 24]);
    assert!(matches!(image_to_tensor(&gpu, &r8, &ImageInput::default()), Err(Error::TextureFormat { .. })));
    match image_to_tensor(&gpu, &t, &ImageInput::default().with_crop([5, 2])) {
        Err(Error::Crop { crop: [5, 2], image: [4, 6], .. }) => {}
        other => panic!("expected Crop, got {other:?}"),
    }
    assert!(matches!(
        image_to_tensor(&gpu, &t, &ImageInput::default().with_normalise([0.0; 3], [1.0, 0.0, 1.0])),
        Err(Error::Normalise { channel: 1, .. })
    ));
    // A batch tensor that is not an image batch of 3 channels, and an image past its batch.
    let y = Tensor::from_slice(&gpu, &[9.0; 2 * 4 * 4 * 6], &[2, 4, 4, 6]).unwrap();
    assert!(matches!(record_image_to_tensor(&t, &y, 0, &ImageInput::default()), Err(Error::Mismatch { .. })));
    let y = Tensor::from_slice(&gpu, &[9.0; 2 * 3 * 4 * 6], &[2, 3, 4, 6]).unwrap();
    assert!(matches!(
        record_image_to_tensor(&t, &y, 2, &ImageInput::default()),
        Err(Error::OutOfRange { offset: 2, size: 2, .. })
    ));
    assert_eq!(y.download().unwrap(), vec![9.0; 2 * 3 * 4 * 6], "nothing written");
    // A texture without the usage, and one of another device.
    let unbound = device.create_texture(&wgpu::TextureDescriptor {
        label: None,
        size: wgpu::Extent3d { width: 6, height: 4, depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba8Unorm,
        usage: wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    assert!(matches!(image_to_tensor(&gpu, &unbound, &ImageInput::default()), Err(Error::Usage { .. })));
    assert!(matches!(tensor_to_image(&y, 0, &[0], ValueRange::UNIT, &unbound), Err(Error::Usage { .. })));
    let (_a, other, other_queue) = app_device(wgpu::Limits::default());
    let foreign = texture(&other, &other_queue, wgpu::TextureFormat::Rgba8Unorm, [4, 6], &[7; 96]);
    assert!(matches!(
        image_to_tensor(&gpu, &foreign, &ImageInput::default()),
        Err(Error::ForeignResource { what: "texture", .. })
    ));
    assert!(matches!(
        tensor_to_image(&y, 0, &[0], ValueRange::UNIT, &foreign),
        Err(Error::ForeignResource { what: "texture", .. })
    ));
    // Channels past the tensor's, a texture of another size, a range that is no interval.
    assert!(matches!(
        tensor_to_image(&y, 0, &[0, 1, 3], ValueRange::UNIT, &t),
        Err(Error::ChannelRange { end: 4, channels: 3, .. })
    ));
    let small = texture(&device, &queue, wgpu::TextureFormat::Rgba8Unorm, [2, 2], &[0; 16]);
    assert!(matches!(tensor_to_image(&y, 0, &[0], ValueRange::UNIT, &small), Err(Error::Mismatch { .. })));
    assert!(matches!(
        tensor_to_image(&y, 0, &[0], ValueRange { low: 1.0, high: 1.0 }, &t),
        Err(Error::ValueRange { .. })
    ));
    assert_eq!(read_texture(&device, &queue, &t), vec![7; 96], "nothing written");
    // Still usable.
    let ok = image_to_tensor(&gpu, &t, &ImageInput::default()).unwrap().download().unwrap();
    assert!(ok.iter().all(|&v| (v - 7.0 / 255.0).abs() < 1e-6));
}

#[test]
fn a_split_model_is_refused_by_the_on_device_pass() {
    let model = zoo::build("bottleneck").unwrap();
    let weights = Weights::he_normal(&model, 5);
    let gpus = Gpu::open_group(2, None).unwrap();
    let mut split = GpuModel::split(&gpus, &model, &weights).unwrap();
    let x = Tensor::zeros(&gpus[0], &[&[1], model.input()].concat()).unwrap();
    let y = Tensor::zeros(&gpus[0], &[&[1], model.output_of(model.layers().len() - 1)].concat()).unwrap();
    assert!(matches!(split.record_forward(&x, &y), Err(Error::KernelShape { .. })));
}
