//! The crate's error type. Every shape variant names the op and the offending numbers, so a
//! message alone says what to fix; nothing in dojang panics on user input.

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

    // --- shapes ------------------------------------------------------------------------
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
    /// A stride, dilation or window of zero.
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
    /// An attribute outside its valid range.
    #[error("{op}: {message}")]
    Attribute { op: &'static str, message: String },
    /// A tensor that lives on another device than the op runs on.
    #[error("{op}: {what} lives on device #{tensor_device}, the op runs on device #{op_device}")]
    WrongDevice { op: &'static str, what: &'static str, tensor_device: u64, op_device: u64 },

    // --- models ------------------------------------------------------------------------
    /// A layer that does not fit its input, found when the model is built.
    #[error("layer {layer}: {message} (input shape {input})")]
    Layer { layer: String, input: Shape, message: String },
    /// A model name the zoo does not know.
    #[error("unknown model `{0}`; the models are: alexnet, alexnet-notes, alexnet-torchvision, bottleneck")]
    UnknownModel(String),
    /// A weight file that lacks a tensor, holds a wrong shape or dtype, or cannot be read.
    #[error("weights: tensor `{tensor}`: {message}")]
    Weights { tensor: String, message: String },

    /// A layer that cannot be split evenly across the devices of a group.
    #[error("placement of layer {layer} on {devices} devices: {message}")]
    Placement { layer: String, devices: usize, message: String },

    // --- limits ------------------------------------------------------------------------
    /// A buffer or dispatch above the device's limits that dojang cannot split.
    #[error("{op}: {what} needs {needed}, above the device limit of {limit}")]
    Limit { op: &'static str, what: String, needed: u64, limit: u64 },
}

/// `Result` with dojang's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
