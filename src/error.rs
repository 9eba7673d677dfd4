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
    AdapterNotFound { wanted: String, available: String },
    /// The adapter refused to open a device.
    #[error("could not open a device on `{adapter}`: {reason}")]
    RequestDevice { adapter: String, reason: String },
    /// wgpu reported a validation, out-of-memory or internal error.
    #[error("{op}: wgpu reported an error: {message}")]
    Wgpu { op: String, message: String },
    /// The device was lost (driver reset, removed GPU, destroyed device).
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    /// Reading a buffer back failed.
    #[error("reading a buffer back from the GPU failed: {0}")]
    Map(String),

    // --- shapes and attributes ---------------------------------------------------------
    /// A tensor has the wrong number of dimensions.
    #[error("{op}: {what} must have {expected} dimensions, got shape {got}")]
    Rank { op: &'static str, what: &'static str, expected: usize, got: Shape },
    /// Host data does not fill the shape it is given.
    #[error("tensor of shape {shape} needs {expected} values, got {got}")]
    DataLength { shape: Shape, expected: usize, got: usize },
    /// A shape with a zero dimension.
    #[error("{op}: {what} has an empty dimension: {shape}")]
    Empty { op: &'static str, what: &'static str, shape: Shape },
    /// A channel count not divisible by the group count.
    #[error("{op}: {what} ({channels}) is not divisible by groups ({groups})")]
    Groups { op: &'static str, what: &'static str, channels: usize, groups: usize },
    /// The input's channels do not match what the weight expects.
    #[error("{op}: input has {got} {what}, weight expects {expected}")]
    Channels { op: &'static str, what: &'static str, got: usize, expected: usize },
    /// The bias length differs from the number of outputs.
    #[error("{op}: bias has {got} values, expected {expected} (one per output)")]
    BiasLength { op: &'static str, got: usize, expected: usize },
    /// A stride, dilation, window or group count of zero.
    #[error("{op}: {what} must be at least 1, got ({0}, {1})", value[0], value[1])]
    Zero { op: &'static str, what: &'static str, value: [usize; 2] },
    /// The output would have no elements.
    #[error(
        "{op}: output would be {out_h}x{out_w} for input {in_h}x{in_w} padded by \
         (top {pt}, left {pl}, bottom {pb}, right {pr}) with a {window_h}x{window_w} window; \
         it must be at least 1x1"
    )]
    EmptyOutput {
        op: &'static str,
        out_h: i64,
        out_w: i64,
        in_h: usize,
        in_w: usize,
        pt: usize,
        pl: usize,
        pb: usize,
        pr: usize,
        window_h: usize,
        window_w: usize,
    },
    /// Two shapes that must agree do not.
    #[error("{op}: shapes {a} and {b} do not match")]
    Mismatch { op: &'static str, a: Shape, b: Shape },
    /// An LRN window that cannot centre on its channel.
    #[error("lrn: size must be odd (a window centred on each channel), got {size}")]
    LrnSize { size: usize },
    /// An adaptive pool whose output size does not divide its input size.
    #[error("adaptive_avg_pool: pooling {0}x{1} to {2}x{3} needs sizes that divide", from[0], from[1], to[0], to[1])]
    AdaptivePool { from: [usize; 2], to: [usize; 2] },
    /// A kernel choice or tuning value the kernel does not support.
    #[error("{op}: {knob} = {value} is not supported; it must be {allowed}")]
    Tuning { op: &'static str, knob: &'static str, value: u64, allowed: &'static str },
    /// A prepared convolution weight used with other groups than it was packed for.
    #[error("conv2d: the weight was prepared for groups {prepared}, the attributes ask for {asked}")]
    WeightGroups { prepared: usize, asked: usize },
    /// A copy region that passes the end of a tensor.
    #[error("{op}: {len} elements at {offset} pass the end of a tensor of {size}")]
    OutOfRange { op: &'static str, offset: usize, len: usize, size: usize },
    /// A tensor that lives on another device than the op runs on.
    #[error("{op}: {what} lives on device #{tensor_device}, the op runs on device #{op_device}")]
    WrongDevice { op: &'static str, what: &'static str, tensor_device: u64, op_device: u64 },

    // --- models ------------------------------------------------------------------------
    /// A model of no layers.
    #[error("model {model} has no layers")]
    NoLayers { model: String },
    /// A layer that does not fit its input, found when the model is built.
    #[error("layer {layer}: {source} (input shape {input})")]
    Layer { layer: String, input: Shape, source: Box<Error> },
    /// An `Add` layer whose source is not an earlier layer (nor `input`).
    #[error("layer {layer}: adds `{from}`, which is not an earlier layer")]
    AddSource { layer: String, from: String },
    /// A model name the zoo does not know.
    #[error("unknown model `{name}`; the models are: {}", known.join(", "))]
    UnknownModel { name: String, known: &'static [&'static str] },
    /// A parameter the weights lack.
    #[error("weights: tensor `{tensor}` is missing")]
    WeightMissing { tensor: String },
    /// A parameter of another shape than the model's.
    #[error("weights: tensor `{tensor}` has shape {got}, the model expects {expected}")]
    WeightShape { tensor: String, got: Shape, expected: Shape },
    /// A parameter whose values do not fill its shape.
    #[error("weights: tensor `{tensor}` of shape {shape} needs {expected} values, got {got}")]
    WeightValues { tensor: String, shape: Shape, expected: usize, got: usize },
    /// A parameter stored in a type dojang does not read.
    #[error("weights: tensor `{tensor}` has dtype {dtype}; dojang reads F32, F16 and BF16")]
    WeightDtype { tensor: String, dtype: String },
    /// A weights file that cannot be read or written.
    #[error("weights file {path}: {reason}")]
    WeightFile { path: String, reason: String },
    /// A layer that cannot be placed on the devices of a group.
    #[error("placement of layer {layer} on {devices} devices: {problem}")]
    Placement { layer: String, devices: usize, problem: PlacementProblem },

    // --- limits ------------------------------------------------------------------------
    /// A buffer or dispatch above the device's limits that dojang cannot split.
    #[error("{op}: {what} needs {needed}, above the device limit of {limit}")]
    Limit { op: &'static str, what: String, needed: u64, limit: u64 },
}

/// Why a layer cannot be placed on a device group.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlacementProblem {
    /// A group of no devices.
    #[error("a device group needs at least one device")]
    NoDevices,
    /// Channels, features or groups that do not split evenly.
    #[error("{what} ({count}) do not divide evenly by {devices} devices")]
    Uneven { what: &'static str, count: usize, devices: usize },
    /// An LRN window that would reach into another device's channels.
    #[error("LRN with groups {groups} would normalise across devices; it needs groups a multiple of {devices}")]
    LrnAcrossDevices { groups: usize, devices: usize },
    /// A layer that cannot take its input as the previous layer left it.
    #[error("it cannot read an input held {held}")]
    Input { held: &'static str },
    /// Layers after the gathered softmax.
    #[error("layers after the gathered softmax are not supported")]
    AfterSoftmax,
}

/// `Result` with dojang's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
