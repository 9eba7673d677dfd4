//! The crate's error type. Every variant names the op and the offending numbers, so a message
//! alone says what to fix; nothing in dojang panics on user input.

use std::fmt;

/// A shape as it appears in messages: `[1, 3, 227, 227]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Shape(pub Vec<usize>);

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl From<&[usize]> for Shape {
    fn from(s: &[usize]) -> Self {
        Shape(s.to_vec())
    }
}

/// Everything that can go wrong in dojang.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // --- setup -------------------------------------------------------------------------
    /// No adapter at all: there is no GPU driver wgpu can use.
    #[error(
        "no GPU adapter found. dojang needs a Vulkan, Metal or DX12 driver; on Linux machines \
         without a GPU install the software Vulkan driver: apt-get install mesa-vulkan-drivers"
    )]
    NoAdapter,
    /// The adapter asked for by name or index is not among those wgpu sees.
    #[error("no adapter matches `{wanted}`; the adapters are: {available}")]
    AdapterNotFound {
        /// The selector given: an index or part of a name.
        wanted: String,
        /// The adapters there are, with their indices.
        available: String,
    },
    /// The adapter refused to open a device.
    #[error("could not open a device on `{adapter}`: {reason}")]
    RequestDevice {
        /// The adapter's name.
        adapter: String,
        /// What wgpu said.
        reason: String,
    },
    /// wgpu reported a validation, out-of-memory or internal error.
    #[error("{op}: wgpu reported an error: {message}")]
    Wgpu {
        /// The op that refused.
        op: String,
        /// What wgpu said.
        message: String,
    },
    /// The device was lost (driver reset, removed GPU, destroyed device).
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    /// Reading a buffer back failed.
    #[error("reading a buffer back from the GPU failed: {0}")]
    Map(String),

    // --- shapes and attributes ---------------------------------------------------------
    /// A tensor has the wrong number of dimensions.
    #[error("{op}: {what} must have {expected} dimensions, got shape {got}")]
    Rank {
        /// The op that refused.
        op: &'static str,
        /// Which argument or quantity.
        what: &'static str,
        /// What was expected.
        expected: usize,
        /// What was given.
        got: Shape,
    },
    /// Host data does not fill the shape it is given.
    #[error("tensor of shape {shape} needs {expected} values, got {got}")]
    DataLength {
        /// The shape concerned.
        shape: Shape,
        /// Values the shape holds.
        expected: usize,
        /// What was given.
        got: usize,
    },
    /// A shape with a zero dimension.
    #[error("{op}: {what} has an empty dimension: {shape}")]
    Empty {
        /// The op that refused.
        op: &'static str,
        /// Which argument or quantity.
        what: &'static str,
        /// The shape concerned.
        shape: Shape,
    },
    /// A channel count not divisible by the group count.
    #[error("{op}: {what} ({channels}) is not divisible by groups ({groups})")]
    Groups {
        /// The op that refused.
        op: &'static str,
        /// Which argument or quantity.
        what: &'static str,
        /// The channel count.
        channels: usize,
        /// The groups asked for.
        groups: usize,
    },
    /// A range of channels that is empty or passes the last one.
    #[error("{op}: channels {start}..{end} of {channels}: the range must hold at least one and end by {channels}")]
    ChannelRange {
        /// The op that refused.
        op: &'static str,
        /// The first channel asked for.
        start: usize,
        /// One past the last.
        end: usize,
        /// The channels there are.
        channels: usize,
    },
    /// A kernel asked for a convolution it does not run.
    #[error("{kernel} runs {runs}; this convolution is {got}")]
    KernelShape {
        /// The kernel asked for.
        kernel: &'static str,
        /// What it runs.
        runs: &'static str,
        /// The convolution asked.
        got: String,
    },
    /// The input's channels do not match what the weight expects.
    #[error("{op}: input has {got} {what}, weight expects {expected}")]
    Channels {
        /// The op that refused.
        op: &'static str,
        /// Which argument or quantity.
        what: &'static str,
        /// Channels per group of the input.
        got: usize,
        /// Channels per group the weight expects.
        expected: usize,
    },
    /// The bias length differs from the number of outputs.
    #[error("{op}: bias has {got} values, expected {expected} (one per output)")]
    BiasLength {
        /// The op that refused.
        op: &'static str,
        /// The bias length.
        got: usize,
        /// Output channels or features.
        expected: usize,
    },
    /// A stride, dilation, window or group count of zero.
    #[error("{op}: {what} must be at least 1, got ({0}, {1})", value[0], value[1])]
    Zero {
        /// The op that refused.
        op: &'static str,
        /// Which argument or quantity.
        what: &'static str,
        /// The pair given, per axis.
        value: [usize; 2],
    },
    /// The output would have no elements.
    #[error(
        "{op}: output would be {out_h}x{out_w} for input {in_h}x{in_w} padded by \
         (top {pt}, left {pl}, bottom {pb}, right {pr}) with a {window_h}x{window_w} window; \
         it must be at least 1x1"
    )]
    EmptyOutput {
        /// The op that refused.
        op: &'static str,
        /// Output height the attributes give (below 1).
        out_h: i64,
        /// Output width the attributes give.
        out_w: i64,
        /// Input height.
        in_h: usize,
        /// Input width.
        in_w: usize,
        /// Padding at the top.
        pt: usize,
        /// Padding at the left.
        pl: usize,
        /// Padding at the bottom.
        pb: usize,
        /// Padding at the right.
        pr: usize,
        /// Window height, dilation included.
        window_h: usize,
        /// Window width, dilation included.
        window_w: usize,
    },
    /// Two shapes that must agree do not.
    #[error("{op}: shapes {a} and {b} do not match")]
    Mismatch {
        /// The op that refused.
        op: &'static str,
        /// The shape expected.
        a: Shape,
        /// The shape given.
        b: Shape,
    },
    /// A size that does not fit the machine's integers: absurd attributes or shapes (a
    /// dilation of 2^62, a padding of usize::MAX).
    #[error("{op}: {what} does not fit in {bits} bits", bits = usize::BITS)]
    Overflow {
        /// The op that refused.
        op: &'static str,
        /// The size, with the numbers it is made of.
        what: String,
    },
    /// An LRN window that cannot centre on its channel.
    #[error("lrn: size must be odd (a window centred on each channel), got {size}")]
    LrnSize {
        /// The window size given.
        size: usize,
    },
    /// An adaptive pool whose output size does not divide its input size.
    #[error("adaptive_avg_pool: pooling {0}x{1} to {2}x{3} needs sizes that divide", from[0], from[1], to[0], to[1])]
    AdaptivePool {
        /// Input height and width.
        from: [usize; 2],
        /// Output height and width asked for.
        to: [usize; 2],
    },
    /// A kernel choice or tuning value the kernel does not support.
    #[error("{op}: {knob} = {value} is not supported; it must be {allowed}")]
    Tuning {
        /// The op that refused.
        op: &'static str,
        /// The setting.
        knob: &'static str,
        /// The value given.
        value: u64,
        /// The values it takes.
        allowed: &'static str,
    },
    /// A prepared convolution weight used with other groups than it was packed for.
    #[error("conv2d: the weight was prepared for groups {prepared}, the attributes ask for {asked}")]
    WeightGroups {
        /// Groups the weight was packed for.
        prepared: usize,
        /// Groups of the call.
        asked: usize,
    },
    /// A copy region that passes the end of a tensor.
    #[error("{op}: {len} elements at {offset} pass the end of a tensor of {size}")]
    OutOfRange {
        /// The op that refused.
        op: &'static str,
        /// First element of the range.
        offset: usize,
        /// Elements in the range.
        len: usize,
        /// Elements in the tensor.
        size: usize,
    },
    /// A tensor that lives on another device than the op runs on.
    #[error("{op}: {what} lives on device #{tensor_device}, the op runs on device #{op_device}")]
    WrongDevice {
        /// The op that refused.
        op: &'static str,
        /// Which argument or quantity.
        what: &'static str,
        /// The device holding the tensor (`Gpu::id`).
        tensor_device: u64,
        /// The device the op runs on.
        op_device: u64,
    },

    /// An app's buffer smaller than the tensor it is to hold.
    #[error("{op}: a tensor of shape {shape} needs a buffer of {needed} bytes, the buffer has {got}")]
    BufferTooSmall {
        /// The call that refused.
        op: &'static str,
        /// The tensor's shape.
        shape: Shape,
        /// Bytes the tensor needs (whole vec4s).
        needed: u64,
        /// Bytes the buffer has.
        got: u64,
    },
    /// An app's buffer or texture without the usages dojang needs of it.
    #[error("{op}: the {what} needs usages {needed}, it has {got}")]
    Usage {
        /// The call that refused.
        op: &'static str,
        /// Which resource.
        what: &'static str,
        /// The usages needed.
        needed: String,
        /// The usages it has.
        got: String,
    },
    /// An app's buffer or texture made on another device than the one the call runs on.
    #[error("{op}: the {what} belongs to another device than device #{device}")]
    ForeignResource {
        /// The call that refused.
        op: &'static str,
        /// Which resource.
        what: &'static str,
        /// The device the call runs on (`Gpu::id`).
        device: u64,
    },
    /// A crop larger than the image it is taken from, or empty.
    #[error("{op}: a crop of {crop:?} from an image of {image:?} (height, width); it must be at least 1x1 and fit")]
    Crop {
        /// The call that refused.
        op: &'static str,
        /// The crop asked for.
        crop: [usize; 2],
        /// The (scaled) image.
        image: [usize; 2],
    },
    /// A normalisation that divides by zero (or by a value that is not finite).
    #[error("{op}: channel {channel}'s standard deviation is {std}; it must be finite and not 0")]
    Normalise {
        /// The call that refused.
        op: &'static str,
        /// The channel.
        channel: usize,
        /// Its standard deviation.
        std: f32,
    },
    /// A value range that is not a finite interval.
    #[error("{op}: the value range {low} .. {high} must be finite with low < high")]
    ValueRange {
        /// The call that refused.
        op: &'static str,
        /// Its low end.
        low: f32,
        /// Its high end.
        high: f32,
    },
    /// A texture format an op does not take.
    #[error("{op}: a texture of format {got:?}; it takes {takes}")]
    TextureFormat {
        /// The call that refused.
        op: &'static str,
        /// The texture's format.
        got: wgpu::TextureFormat,
        /// The formats it takes.
        takes: &'static str,
    },

    // --- models ------------------------------------------------------------------------
    /// A model of no layers.
    #[error("model {model} has no layers")]
    NoLayers {
        /// The model's name.
        model: String,
    },
    /// A layer that does not fit its input, found when the model is built.
    #[error("layer {layer}: {source} (input shape {input})")]
    Layer {
        /// The layer's name.
        layer: String,
        /// The input shape it was given.
        input: Shape,
        /// Why it does not fit.
        source: Box<Error>,
    },
    /// A layer that reads something that is not an earlier layer (nor `input`).
    #[error("layer {layer}: reads `{from}`, which is not an earlier layer")]
    AddSource {
        /// The layer.
        layer: String,
        /// The name it reads.
        from: String,
    },
    /// An ONNX file dojang cannot read or run: what is wrong, every offending node listed.
    #[error("{model}: {message}")]
    Onnx {
        /// The file's name (or "model" for bytes), with its opset where known.
        model: String,
        /// What is wrong.
        message: String,
    },
    /// A model name the zoo does not know.
    #[error("unknown model `{name}`; the models are: {}", known.join(", "))]
    UnknownModel {
        /// The name given.
        name: String,
        /// The names there are.
        known: &'static [&'static str],
    },
    /// A parameter the weights lack.
    #[error("weights: tensor `{tensor}` is missing")]
    WeightMissing {
        /// The parameter's name.
        tensor: String,
    },
    /// A parameter of another shape than the model's.
    #[error("weights: tensor `{tensor}` has shape {got}, the model expects {expected}")]
    WeightShape {
        /// The parameter's name.
        tensor: String,
        /// Its shape in the weights.
        got: Shape,
        /// The shape the model expects.
        expected: Shape,
    },
    /// A parameter whose values do not fill its shape.
    #[error("weights: tensor `{tensor}` of shape {shape} needs {expected} values, got {got}")]
    WeightValues {
        /// The parameter's name.
        tensor: String,
        /// The shape declared.
        shape: Shape,
        /// Values the shape holds.
        expected: usize,
        /// Values given.
        got: usize,
    },
    /// A parameter stored in a type dojang does not read.
    #[error("weights: tensor `{tensor}` has dtype {dtype}; dojang reads F32, F16 and BF16")]
    WeightDtype {
        /// The parameter's name.
        tensor: String,
        /// The stored type.
        dtype: String,
    },
    /// A weights file that cannot be read or written.
    #[error("weights file {path}: {reason}")]
    WeightFile {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A layer that cannot be placed on the devices of a group.
    #[error("placement of layer {layer} on {devices} devices: {problem}")]
    Placement {
        /// The layer's name.
        layer: String,
        /// Devices in the group.
        devices: usize,
        /// What stops it.
        problem: PlacementProblem,
    },

    // --- limits ------------------------------------------------------------------------
    /// A device (one the application opened) without a capability or limit dojang needs.
    #[error("the device lacks what dojang needs: {what} of at least {needed} (it has {has})")]
    DeviceLacks {
        /// The capability or limit, as wgpu names it.
        what: String,
        /// The least value dojang needs (1 for a capability).
        needed: u64,
        /// What the device has (0 for a missing capability).
        has: u64,
    },
    /// A buffer or dispatch above the device's limits that dojang cannot split.
    #[error("{op}: {what} needs {needed}, above the device limit of {limit}")]
    Limit {
        /// The op that refused.
        op: &'static str,
        /// What was asked for, with its size.
        what: String,
        /// The amount asked for (bytes, elements or workgroups, as `what` says).
        needed: u64,
        /// The most the device (or kernel) takes.
        limit: u64,
    },
}

/// Why a layer cannot be placed on a device group.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlacementProblem {
    /// A group of no devices.
    #[error("a device group needs at least one device")]
    NoDevices,
    /// Channels, features or groups that do not split evenly.
    #[error("{what} ({count}) do not divide evenly by {devices} devices")]
    Uneven {
        /// What is split.
        what: &'static str,
        /// How many there are.
        count: usize,
        /// Devices in the group.
        devices: usize,
    },
    /// A layer that cannot take its input as the previous layer left it.
    #[error("it cannot read an input held {held}")]
    Input {
        /// How the input is held.
        held: &'static str,
    },
    /// Layers after the gathered softmax.
    #[error("layers after the gathered softmax are not supported")]
    AfterSoftmax,
}

/// `Result` with dojang's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
