//! A forward pass's plan for one batch size: every tensor, staging buffer and recorded launch
//! of every device, made once by `GpuModel` and reused by every pass at that size; the
//! exchange reads and writes the tensors it names.

use crate::launch::Launch;
use crate::tensor::Tensor;

/// Per batch size: per device, the input copies and one output per layer, with launches.
pub(crate) struct Plan {
    /// Per device: the whole input and (where some layer needs it) its channel block.
    pub(crate) input_whole: Vec<Tensor>,
    pub(crate) input_block: Vec<Tensor>,
    /// For layer i that gathers: per device, the tensor the gathered input is written to.
    pub(crate) gathered: Vec<Vec<Option<Tensor>>>,
    /// outputs[i][g]: layer i's output on device g (None where the layer does not run there);
    /// on one device, a buffer that earlier outputs, read by then, held too (`reuse`).
    pub(crate) outputs: Vec<Vec<Option<Tensor>>>,
    /// For layer i that gathers: per tensor it reads, per device, the host-readable buffer
    /// that device's block comes back through, made with the plan so that an exchange
    /// allocates nothing (none for the model's input, whole on every device).
    pub(crate) exchange_staging: Vec<Vec<Vec<Option<wgpu::Buffer>>>>,
    /// launches[i][g]: layer i's recorded launch on device g (None for a view, and where the
    /// layer does not run there), with its kernels' intermediates (on one device, taken from
    /// those of the layers before it: `ops/scratch.rs`).
    pub(crate) launches: Vec<Vec<Option<Launch>>>,
    /// Per device: the host-readable buffer the last layer's output comes back through.
    pub(crate) readback: Vec<Option<wgpu::Buffer>>,
}
