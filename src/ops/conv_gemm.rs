//! A convolution through the GEMM (`gemm.rs`): its input copied into a texture, then its B
//! operand laid out by `im2col.rs` (im2col's windows, or the implicit GEMM's row windows,
//! which lay out less) or read as it stands (a 1x1 convolution's input, taken at its stride
//! by `subsample.rs` where it has one, or any input of stride 1 or 2 across, shifted per tap),
//! whole or in parts of the reduction summed after (`split_k.rs`). Batched dense layers run
//! through it too: a dense layer is the 1x1 convolution of 1x1 images.

use crate::attrs::{Activation, Conv2dGeometry};
use crate::error::Result;
use crate::ops::cut::copy;
use crate::ops::elementwise::activation_dispatches;
use crate::ops::gemm::{BOperand, Epilogue, Tile, record_gemm};
use crate::ops::im2col::{RowWindows, record_im2col, record_im2row, windows};
use crate::ops::packed::PackedWeight;
use crate::ops::record::staged;
use crate::ops::scratch;
use crate::ops::split_k::record_split_sum;
use crate::ops::subsample::record_subsample;
use crate::pipeline::{Dispatch, Step};
use crate::tensor::Tensor;
use crate::texture::{LinearTexture, TILE_COLS};

/// True when the convolution can multiply its input itself (no im2col): a 1x1 convolution
/// of one image, or of images of at least a widest tile of pixels. Its input is copied into a
/// texture as it stands, or, at a stride above 1 or with padding, taken at its stride
/// (`subsample.rs`). Where its planes do not hold whole tiles of columns, the grid runs a
/// slice per image, so that a tile lies in one: its last tile's columns past the plane read
/// on into the next channel, and are not stored. Planes that are not whole texels (7x7) are
/// read a row of words at a time from where they start, as the implicit GEMM reads its row
/// windows. Smaller images over a batch (a batched dense layer's are 1x1) would waste most of
/// each tile: im2col gathers their pixels side by side instead.
pub(crate) fn reads_input_directly(geo: &Conv2dGeometry) -> bool {
    geo.kh == 1 && geo.kw == 1 && (geo.n == 1 || geo.oh * geo.ow >= TILE_COLS)
}

/// How a convolution's GEMM runs: over im2col's windows (or the input as it stands, where
/// [`reads_input_directly`]), over the implicit GEMM's row windows, over the input as it
/// stands shifted per tap (stride 1 or 2 across), or over the windows or the input in `parts` of
/// the reduction summed after (split-K, `split_k.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GemmForm {
    Windows,
    Implicit,
    Shifted,
    SplitK(usize),
}

/// The steps of the convolution `geo` of `x` into `y` by im2col + GEMM: the input copied into
/// a texture, then per band of the weight its windows and their product. `Implicit`: the row
/// windows, laid out once, and per band their product. `Shifted`: per band the product of the
/// texture itself. `SplitK`: the products of the parts
/// into a tensor of their own, then their sum with bias and activation. The GEMM clamps as it
/// stores (ReLU, ReLU6, Clip); another activation runs after it (elementwise.wgsl) from a
/// tensor of its own: inlined at each of a tile's stores, activation.wgsl's switch made
/// compiling the GEMM 3-4x slower, and tuning compiles many GEMMs.
pub(crate) fn record_conv(
    geo: &Conv2dGeometry,
    weight: &PackedWeight,
    x: &Tensor,
    y: &Tensor,
    tile: Tile,
    form: GemmForm,
    onto: bool,
) -> Result<Vec<Step>> {
    let gpu = x.gpu();
    let pixels = geo.oh * geo.ow;
    let shape = (geo.n * pixels, pixels);
    let act = geo.attrs.activation;
    let parts = match form {
        GemmForm::SplitK(parts) => parts,
        _ => 1,
    };
    // Split-K's sum applies the activation.
    let (clamp, after) = if parts == 1 { Activation::split(act) } else { (None, None) };
    let epilogue = Epilogue { clamp, onto: onto && parts == 1, parts, fold: None };
    let raw = match (after, parts) {
        (Some(_), _) => Some(scratch::tensor(gpu, y.shape())?),
        (None, 1) => None,
        (None, _) => Some(scratch::tensor(gpu, &[parts, y.len().next_multiple_of(4)])?),
    };
    let out = raw.as_ref().unwrap_or(y);
    // Onto what y holds: an activation pass after the GEMM starts its sum from a copy of it.
    let start = match (&raw, after.is_some() && onto) {
        (Some(raw), true) => vec![copy(y, 0, raw, 0, y.len())],
        _ => vec![],
    };
    // A 1x1 convolution multiplies its input: copied as it stands where it is pointwise, else
    // taken at its stride.
    let input = |b: &LinearTexture| -> Result<Vec<Dispatch>> {
        let bands = weight.bands.iter();
        bands.map(|band| record_gemm(weight, band, BOperand::Input(b), out, shape, epilogue, tile)).collect()
    };
    let direct = matches!(form, GemmForm::Windows | GemmForm::SplitK(_)) && reads_input_directly(geo);
    let mut steps = if direct && geo.is_pointwise() {
        staged("conv2d", x, input)?
    } else if direct {
        let taken = scratch::linear(gpu, "conv2d", geo.n * geo.cin * pixels)?;
        let mut dispatches = vec![record_subsample(geo, x, &taken)?];
        dispatches.extend(input(&taken)?);
        dispatches.into_iter().map(Step::Dispatch).collect()
    } else {
        staged("conv2d", x, |texture| {
            let mut dispatches = Vec::new();
            if form == GemmForm::Shifted {
                let cols = geo.n * geo.oh * geo.ow.next_multiple_of(tile.tn as usize);
                for band in &weight.bands {
                    let b = BOperand::Shifted(texture, geo);
                    dispatches.push(record_gemm(weight, band, b, out, (cols, pixels), epilogue, tile)?);
                }
                return Ok(dispatches);
            }
            if form == GemmForm::Implicit {
                let layout = RowWindows::of(geo);
                let rows = scratch::linear(gpu, "conv2d", layout.len())?;
                dispatches.push(record_im2row(geo, x, texture, layout, &rows)?);
                for band in &weight.bands {
                    let b = BOperand::Rows(&rows, layout, geo);
                    dispatches.push(record_gemm(weight, band, b, out, shape, epilogue, tile)?);
                }
                return Ok(dispatches);
            }
            for band in &weight.bands {
                let windows = windows(gpu, geo, band)?;
                dispatches.push(record_im2col(geo, x, texture, band, &windows)?);
                dispatches.push(record_gemm(weight, band, BOperand::Windows(&windows), out, shape, epilogue, tile)?);
            }
            Ok(dispatches)
        })?
    };
    if let (GemmForm::SplitK(_), Some(sums)) = (form, &raw) {
        steps.push(Step::Dispatch(record_split_sum(sums, weight, y, pixels, onto, act)?));
    }
    steps.splice(0..0, start);
    if let (Some(act), Some(raw)) = (after, &raw) {
        steps.extend(activation_dispatches(raw, y, act)?.into_iter().map(Step::Dispatch));
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::reads_input_directly;
    use crate::attrs::{Conv2d, Dense};

    #[test]
    fn pointwise_reads_its_input_unless_small_images_make_a_batch() {
        let conv = |x: [usize; 4], k: usize| Conv2d::default().geometry(&x, &[8, x[1], k, k], None).unwrap();
        assert!(reads_input_directly(&conv([1, 16, 7, 7], 1)));
        assert!(reads_input_directly(&conv([8, 16, 7, 7], 1)), "7x7 images: a slice of the grid each");
        assert!(reads_input_directly(&conv([1, 16, 1, 1], 1)));
        assert!(!reads_input_directly(&conv([8, 16, 3, 3], 1)), "9 pixels an image would fill 9 of 16 columns");
        assert!(!reads_input_directly(&conv([8, 16, 7, 7], 3)));
        // A batched dense layer is a 1x1 convolution of 1x1 images: one column each, 1 of 16.
        let dense = Dense::default().geometry(&[64, 4096], &[1000, 4096], None).unwrap();
        assert!(!reads_input_directly(&dense.as_pointwise_conv()));
    }
}
