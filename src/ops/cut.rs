//! Ops over NCHW tensors past what one launch can take (a storage binding, a texture's width,
//! the workgroups of a grid), cut into parts that fit: runs of whole images where one image
//! fits, else bands of output rows of one image. Each part's input rows are copied into a
//! temporary, the op runs there (recorded once per part shape and replayed), and its output
//! rows are copied into place. Copies are buffer to buffer: no binding limit applies to them.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::error::{Error, Result};
use crate::gpu::Gpu;
use crate::launch::Launch;
use crate::pipeline::Step;
use crate::tensor::Tensor;
use crate::texture::LinearTexture;

/// An op's input `[n, c_in, h, w]` and output `[n, c_out, oh, ow]`, and which input rows an
/// output row reads: row r reads `stride·r − pad_top ..` for `span` rows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slab {
    pub n: usize,
    pub c_in: usize,
    pub h: usize,
    pub w: usize,
    pub c_out: usize,
    pub oh: usize,
    pub ow: usize,
    pub stride: usize,
    pub span: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
}

/// One part: images `n0 ..` and output rows `r0 ..` of them, the input rows `in0 ..` those read
/// (clipped to the image), and the padding the part keeps at its top and bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub n0: usize,
    pub images: usize,
    pub r0: usize,
    pub rows: usize,
    pub in0: usize,
    pub in_rows: usize,
    pub pad_top: usize,
    pub pad_bottom: usize,
}

impl Part {
    /// Parts with one shape share a recording.
    fn shape(&self) -> (usize, usize, usize, usize, usize) {
        (self.images, self.rows, self.in_rows, self.pad_top, self.pad_bottom)
    }

    /// True for the part that holds the last output row (it keeps the op's own bottom padding).
    pub fn is_last(&self, slab: &Slab) -> bool {
        self.r0 + self.rows == slab.oh
    }
}

impl Slab {
    /// A slab whose output rows are its input rows (LRN, softmax: no window along the rows).
    pub fn rowwise(n: usize, c: usize, h: usize, w: usize) -> Slab {
        Slab { n, c_in: c, h, w, c_out: c, oh: h, ow: w, stride: 1, span: 1, pad_top: 0, pad_bottom: 0 }
    }

    fn part(&self, n0: usize, images: usize, r0: usize, rows: usize) -> Part {
        let start = (r0 * self.stride) as i64 - self.pad_top as i64;
        let end = ((r0 + rows - 1) * self.stride + self.span) as i64 - self.pad_top as i64;
        let (in0, in1) = (start.clamp(0, self.h as i64) as usize, end.clamp(0, self.h as i64) as usize);
        let last = r0 + rows == self.oh;
        Part {
            n0,
            images,
            r0,
            rows,
            in0,
            in_rows: in1 - in0,
            pad_top: (-start).max(0) as usize,
            pad_bottom: if last { self.pad_bottom } else { (end - self.h as i64).max(0) as usize },
        }
    }

    /// Floats of the input and output of `images` images and `rows` output rows (the input
    /// rows as many as any such band reads).
    pub fn floats(&self, images: usize, rows: usize) -> (u64, u64) {
        let in_rows = ((rows - 1) * self.stride + self.span).min(self.h);
        let input = images as u64 * self.c_in as u64 * in_rows as u64 * self.w as u64;
        (input, images as u64 * self.c_out as u64 * rows as u64 * self.ow as u64)
    }

    /// True when the input and output of `images` images and `rows` rows each fit a binding
    /// and a linear texture of `gpu` (what every op needs; each adds its own limits).
    pub fn fits_device(&self, gpu: &Gpu, images: usize, rows: usize) -> bool {
        let (input, output) = self.floats(images, rows);
        let floats = (gpu.max_binding_bytes() / 4).min(LinearTexture::capacity(gpu));
        input <= floats && output <= floats
    }

    /// The parts that `fits(images, rows)` accepts: one for the whole slab when it fits, else
    /// runs of whole images, else bands of rows of one image.
    pub fn parts(&self, op: &'static str, fits: impl Fn(usize, usize) -> bool) -> Result<Vec<Part>> {
        if fits(self.n, self.oh) {
            return Ok(vec![self.part(0, self.n, 0, self.oh)]);
        }
        if fits(1, self.oh) {
            let per = largest(self.n, |k| fits(k, self.oh));
            let parts = (0..self.n).step_by(per).map(|n0| self.part(n0, per.min(self.n - n0), 0, self.oh));
            return Ok(parts.collect());
        }
        let per = largest(self.oh, |r| fits(1, r));
        if per == 0 {
            let (input, output) = self.floats(1, 1);
            return Err(Error::Limit {
                op,
                what: format!("one output row ({} x {} outputs from {input} inputs)", self.c_out, self.ow),
                needed: 4 * input.max(output),
                limit: 0,
            });
        }
        let rows = (0..self.oh).step_by(per).map(|r0| (r0, per.min(self.oh - r0)));
        Ok((0..self.n).flat_map(|n0| rows.clone().map(move |(r0, r)| self.part(n0, 1, r0, r))).collect())
    }

    /// Records the parts: `record(x_part, y_part, part)` once per part shape on temporaries
    /// (`[images, c_in, in_rows, w]` → `[images, c_out, rows, ow]`), then per part the copies
    /// in, the recorded launch, the copies out. One part covering everything is recorded on
    /// `x` and `y` themselves. `onto`: the op adds to what y holds, so y's rows are copied
    /// into each part's temporary too.
    pub fn record(
        &self,
        op: &'static str,
        x: &Tensor,
        y: &Tensor,
        parts: &[Part],
        onto: bool,
        mut record: impl FnMut(&Tensor, &Tensor, &Part) -> Result<Launch>,
    ) -> Result<Launch> {
        if let [whole] = parts
            && whole.images == self.n
            && whole.rows == self.oh
        {
            return record(x, y, whole);
        }
        let gpu = x.gpu();
        let mut recorded: HashMap<_, (Tensor, Tensor, Launch)> = HashMap::new();
        let mut steps = Vec::new();
        let mut kernel = String::new();
        for part in parts {
            let (xt, yt, launch) = match recorded.entry(part.shape()) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let xt = Tensor::zeros(gpu, &[part.images, self.c_in, part.in_rows, self.w])?;
                    let yt = Tensor::zeros(gpu, &[part.images, self.c_out, part.rows, self.ow])?;
                    let launch = record(&xt, &yt, part)?;
                    kernel = launch.kernel().to_string();
                    e.insert((xt, yt, launch))
                }
            };
            steps.extend(rows_of(x, [self.c_in, self.h, self.w], part.in0, part.in_rows, xt, part, true));
            if onto {
                // The part adds to what y holds there.
                steps.extend(rows_of(y, [self.c_out, self.oh, self.ow], part.r0, part.rows, yt, part, true));
            }
            steps.extend(launch.steps().iter().cloned());
            steps.extend(rows_of(y, [self.c_out, self.oh, self.ow], part.r0, part.rows, yt, part, false));
        }
        let kernel = format!("{kernel} in {} parts", parts.len());
        Ok(Launch::with_steps(gpu, op, steps).with_kernel(kernel))
    }
}

/// The copies between rows `r0 .. r0 + rows` of the part's images in `whole` (`[c, h, w]` per
/// image) and the part's temporary, into the temporary when `inward`: one copy per plane, or
/// one for all when the rows are whole planes.
fn rows_of(
    whole: &Tensor,
    [c, h, w]: [usize; 3],
    r0: usize,
    rows: usize,
    part_t: &Tensor,
    part: &Part,
    inward: bool,
) -> Vec<Step> {
    let planes = part.n0 * c..(part.n0 + part.images) * c;
    let regions: Vec<(usize, usize, usize)> = if rows == h {
        vec![(planes.start * h * w, 0, planes.len() * h * w)]
    } else {
        planes.map(|p| ((p * h + r0) * w, (p - part.n0 * c) * rows * w, rows * w)).collect()
    };
    let copies = regions.into_iter().map(|(at_whole, at_part, len)| match inward {
        true => copy(whole, at_whole, part_t, at_part, len),
        false => copy(part_t, at_part, whole, at_whole, len),
    });
    copies.collect()
}

/// The largest k in 1..=n that `ok` accepts (0 when none does); `ok` holds for all below a
/// bound.
fn largest(n: usize, ok: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if ok(mid) { lo = mid } else { hi = mid - 1 }
    }
    lo
}

/// Copies of `(from, to, len)` floats of `src` into `dst`, recorded.
pub(crate) fn copies(src: &Tensor, dst: &Tensor, regions: &[(usize, usize, usize)]) -> Launch {
    let steps = regions.iter().map(|&(from, to, len)| copy(src, from, dst, to, len)).collect();
    Launch::with_steps(src.gpu(), "copy", steps)
}

/// A copy of `len` floats of `src` from `from` into `dst` at `to`.
pub(crate) fn copy(src: &Tensor, from: usize, dst: &Tensor, to: usize, len: usize) -> Step {
    Step::CopyBuffer {
        src: src.buffer().clone(),
        src_offset: 4 * from as u64,
        dst: dst.buffer().clone(),
        dst_offset: 4 * to as u64,
        bytes: 4 * len as u64,
    }
}
