//! Placement: which device holds which channels of every layer, and which slice of its
//! weights — a pure function of the model and the device count, decided before any GPU work.
//!
//! Every activation is split (device g holds channel block g of every image), whole (each
//! device holds all of it; only the model input is whole) or at the root (device 0 holds all
//! of it). Per layer:
//! - a convolution whose groups divide by N keeps group block g on device g: no traffic;
//! - a convolution with groups = 1, and a dense layer, is split by output channels: device g
//!   holds Cout/N filters and computes them from the whole input, which it first gathers;
//! - ReLU, pooling, dropout and flatten run where their channels are; LRN with groups a
//!   multiple of N runs per device over its own channels, other LRNs gather the whole input
//!   on every device;
//! - a grouped convolution of a whole tensor takes each device's block of it on the device;
//! - a per-channel affine map or PReLU runs where its channels are, with their block of its
//!   parameters;
//! - a channel shuffle or slice is a gather point: every device runs it over the whole input;
//! - a concatenation is a gather point: every device assembles the whole tensor, so the
//!   ungrouped convolution after it needs no further exchange;
//! - softmax gathers on device 0, where the output ends.
//!
//! A layer's input is what it reads first (the layer before it unless it names another).
//!
//! One device is the N = 1 case: everything "split" into one block, nothing gathered.

use std::ops::Range;

use crate::attrs::Conv2d;
use crate::error::{Error, PlacementProblem, Result};
use crate::model::{Model, Op, Source};

/// Where a layer's output lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spread {
    /// Device g holds block g of the channels (or features).
    Split,
    /// Every device holds all of it (the model input).
    Whole,
    /// Device 0 holds all of it (the gathered output).
    Root,
}

/// What a layer needs before it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gather {
    /// Nothing: its input is where it runs.
    None,
    /// Every device needs the whole input.
    All,
    /// Device 0 needs the whole input.
    Root,
    /// Each device needs its block of the model input.
    SliceInput,
}

/// The part of a layer's parameters one device holds: contiguous element ranges of the
/// weight (whole rows of output channels or features) and of the bias.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamRange {
    /// Elements of the weight, flattened.
    pub weight: Range<usize>,
    /// The shape of that part.
    pub weight_shape: Vec<usize>,
    /// Elements of the bias.
    pub bias: Range<usize>,
}

/// A layer as it runs on one device: the op over its share of the channels, and its share
/// of the parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    /// The op over this device's channels.
    pub op: Op,
    /// Its part of the parameters, if the op has any.
    pub params: Option<ParamRange>,
}

/// One layer as placed.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedLayer {
    /// How its input is gathered first.
    pub gather: Gather,
    /// How its output lies over the devices.
    pub output: Spread,
    /// Per device; None where the layer does not run.
    pub shares: Vec<Option<Share>>,
}

/// A model placed over a number of devices.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    devices: usize,
    layers: Vec<PlacedLayer>,
}

fn uneven(layer: &str, devices: usize, what: &'static str, count: usize) -> Error {
    Error::Placement { layer: layer.into(), devices, problem: PlacementProblem::Uneven { what, count, devices } }
}

/// `count / devices`, or the error naming what does not divide.
fn block(layer: &str, devices: usize, what: &'static str, count: usize) -> Result<usize> {
    if !count.is_multiple_of(devices) {
        return Err(uneven(layer, devices, what, count));
    }
    Ok(count / devices)
}

/// Places `model` over `devices` devices.
pub fn place(model: &Model, devices: usize) -> Result<Placement> {
    if devices == 0 {
        return Err(Error::Placement { layer: "(all)".into(), devices, problem: PlacementProblem::NoDevices });
    }
    let mut layers: Vec<PlacedLayer> = Vec::with_capacity(model.layers().len());
    for i in 0..model.layers().len() {
        let current = spread_of(model.reads_of(i)[0], &layers);
        let mut placed = place_layer(model, i, devices, current, &layers)?;
        if devices == 1 {
            placed.gather = Gather::None; // one block is the whole tensor
        }
        layers.push(placed);
    }
    Ok(Placement { devices, layers })
}

/// Where what `source` names lies, given the layers placed before.
fn spread_of(source: Source, before: &[PlacedLayer]) -> Spread {
    match source {
        Source::Layer(j) => before[j].output,
        Source::Input => Spread::Whole,
    }
}

fn place_layer(model: &Model, i: usize, n: usize, current: Spread, before: &[PlacedLayer]) -> Result<PlacedLayer> {
    let layer = &model.layers()[i];
    let fail = |problem| Error::Placement { layer: layer.name.clone(), devices: n, problem };
    let everywhere = |op: &Op| (0..n).map(|_| Some(Share { op: op.clone(), params: None })).collect();
    Ok(match &layer.op {
        Op::Conv2d { out_channels, kernel, attrs } => {
            place_conv(model, i, n, current, (*out_channels, *kernel, attrs))?
        }
        Op::Dense { out_features } => {
            let gather = match current {
                Spread::Split => Gather::All,
                Spread::Whole => Gather::None,
                Spread::Root => return Err(fail(cannot_read(current))),
            };
            let shares = split_rows(&layer.name, n, *out_features, &[model.input_of(i)[0]], |out| Op::Dense {
                out_features: out,
            })?;
            PlacedLayer { gather, output: Spread::Split, shares }
        }
        Op::Softmax => {
            let mut shares: Vec<Option<Share>> = vec![None; n];
            shares[0] = Some(Share { op: Op::Softmax, params: None });
            let gather = if current == Spread::Split { Gather::Root } else { Gather::None };
            PlacedLayer { gather, output: Spread::Root, shares }
        }
        _ if current == Spread::Root => return Err(fail(PlacementProblem::AfterSoftmax)),
        Op::Lrn(l) if current == Spread::Split && l.groups % n != 0 => {
            // Its windows cross the devices' blocks: every device gathers the whole input and
            // normalises all of it.
            PlacedLayer { gather: Gather::All, output: Spread::Whole, shares: everywhere(&layer.op) }
        }
        Op::Lrn(l) => {
            let device_lrn = if current == Spread::Split { l.with_groups(l.groups / n) } else { *l };
            PlacedLayer { gather: Gather::None, output: current, shares: everywhere(&Op::Lrn(device_lrn)) }
        }
        Op::Concat => {
            if model.reads_of(i).iter().any(|&s| spread_of(s, before) == Spread::Root) {
                return Err(fail(cannot_read(Spread::Root)));
            }
            let output = if n == 1 { Spread::Split } else { Spread::Whole };
            PlacedLayer { gather: Gather::All, output, shares: everywhere(&layer.op) }
        }
        Op::Affine { .. } | Op::PRelu => {
            let channels = model.input_of(i)[0];
            let shares = match current {
                Spread::Split => split_rows(&layer.name, n, channels, &[], |_| layer.op.clone())?,
                _ => {
                    let all = split_rows(&layer.name, 1, channels, &[], |_| layer.op.clone())?;
                    (0..n).map(|_| all[0].clone()).collect()
                }
            };
            PlacedLayer { gather: Gather::None, output: current, shares }
        }
        Op::ChannelShuffle { .. } | Op::Slice { .. } if n > 1 => {
            // It moves channels between the devices' blocks: every device shuffles (or slices)
            // the whole.
            PlacedLayer { gather: Gather::All, output: Spread::Whole, shares: everywhere(&layer.op) }
        }
        Op::Add { .. } | Op::Mul { .. } => {
            let source = spread_of(model.source_of(i).unwrap_or(Source::Input), before);
            let gather = match (current, source) {
                (a, b) if a == b => Gather::None,
                (Spread::Split, Spread::Whole) => Gather::SliceInput,
                (_, held) => return Err(fail(cannot_read(held))),
            };
            if gather == Gather::SliceInput {
                block(
                    &layer.name,
                    n,
                    "input channels",
                    model.shape_of(model.source_of(i).unwrap_or(Source::Input))[0],
                )?;
            }
            PlacedLayer { gather, output: current, shares: everywhere(&layer.op) }
        }
        // Per-channel layers run where their channels are.
        op => PlacedLayer { gather: Gather::None, output: current, shares: everywhere(op) },
    })
}

/// A convolution: kept on its devices when its groups divide by N, else split by output
/// channels after gathering its input.
fn place_conv(
    model: &Model,
    i: usize,
    n: usize,
    current: Spread,
    (out_channels, kernel, attrs): (usize, [usize; 2], &Conv2d),
) -> Result<PlacedLayer> {
    let name = model.layers()[i].name.as_str();
    let input = model.input_of(i);
    let local = attrs.groups % n == 0;
    if attrs.groups > 1 && !local {
        return Err(uneven(name, n, "groups", attrs.groups));
    }
    if local {
        block(name, n, "input channels", input[0])?;
    }
    let gather = match (local, current) {
        (true, Spread::Split) | (false, Spread::Whole) => Gather::None,
        (true, Spread::Whole) => Gather::SliceInput,
        (false, Spread::Split) => Gather::All,
        (_, held) => {
            return Err(Error::Placement { layer: name.into(), devices: n, problem: cannot_read(held) });
        }
    };
    let device_attrs = Conv2d { groups: if local { attrs.groups / n } else { 1 }, ..*attrs };
    let row = [input[0] / attrs.groups, kernel[0], kernel[1]];
    let shares =
        split_rows(name, n, out_channels, &row, |out| Op::Conv2d { out_channels: out, kernel, attrs: device_attrs })?;
    Ok(PlacedLayer { gather, output: Spread::Split, shares })
}

/// Shares of a layer whose `outputs` rows of weights (each of shape `row`) and biases are
/// cut into N contiguous blocks; device g runs `op(outputs / N)` over block g.
fn split_rows(
    layer: &str,
    n: usize,
    outputs: usize,
    row: &[usize],
    op: impl Fn(usize) -> Op,
) -> Result<Vec<Option<Share>>> {
    let what = match row.len() {
        0 => "channels",
        1 => "output features",
        _ => "output channels",
    };
    let per = block(layer, n, what, outputs)?;
    let row_len: usize = row.iter().product();
    Ok((0..n)
        .map(|g| {
            Some(Share {
                op: op(per),
                params: Some(ParamRange {
                    weight: g * per * row_len..(g + 1) * per * row_len,
                    weight_shape: [&[per], row].concat(),
                    bias: g * per..(g + 1) * per,
                }),
            })
        })
        .collect())
}

/// The problem of a layer that cannot read its input as `held`.
fn cannot_read(held: Spread) -> PlacementProblem {
    PlacementProblem::Input {
        held: match held {
            Spread::Split => "split across the devices",
            Spread::Whole => "whole on every device",
            Spread::Root => "on device 0 alone",
        },
    }
}

impl Placement {
    /// Devices placed over.
    pub fn devices(&self) -> usize {
        self.devices
    }

    /// Per layer, in the model's order.
    pub fn layers(&self) -> &[PlacedLayer] {
        &self.layers
    }

    /// The devices layer `i` runs on.
    ///
    /// # Panics
    /// When `i` is not below the number of layers placed, with a message naming both.
    pub fn devices_of(&self, i: usize) -> Vec<usize> {
        let shares = &self.layers[self.index(i)].shares;
        (0..self.devices).filter(|&g| shares[g].is_some()).collect()
    }

    /// Per device, the shape of layer `i`'s output there for `batch` images.
    ///
    /// # Panics
    /// When `i` is not below the number of layers placed (or of `model`'s layers), with a
    /// message naming both.
    pub fn device_shape(&self, model: &Model, i: usize, batch: usize) -> Vec<usize> {
        let mut s = [&[batch], model.output_of(i)].concat();
        if self.layers[self.index(i)].output == Spread::Split {
            s[1] /= self.devices;
        }
        s
    }

    /// Bytes of weights and biases each device holds.
    pub fn weight_bytes(&self) -> Vec<u64> {
        let mut bytes = vec![0u64; self.devices];
        for layer in &self.layers {
            for (g, share) in layer.shares.iter().enumerate() {
                if let Some(p) = share.as_ref().and_then(|s| s.params.as_ref()) {
                    bytes[g] += 4 * (p.weight.len() + p.bias.len()) as u64;
                }
            }
        }
        bytes
    }

    /// Bytes layer `i` exchanges before it runs, for `batch` images: each block another device
    /// needs is read back once, and sent to each device that lacks it.
    ///
    /// # Panics
    /// When `i` is not below the number of layers placed (or of `model`'s layers), with a
    /// message naming both.
    pub fn exchange_bytes(&self, model: &Model, i: usize, batch: usize) -> u64 {
        let n = self.devices as u64;
        // What the layer gathers: its input, or for a concatenation all of its output.
        let gathered = match model.layers()[i].op {
            Op::Concat => model.output_of(i),
            _ => model.input_of(i),
        };
        let block = (batch as u64).saturating_mul(gathered.iter().product::<usize>() as u64).saturating_mul(4) / n;
        match self.layers[self.index(i)].gather {
            Gather::All if n > 1 => n * block + n * (n - 1) * block,
            Gather::Root => 2 * (n - 1) * block,
            _ => 0,
        }
    }

    /// `i`, when a layer `i` was placed.
    fn index(&self, i: usize) -> usize {
        let len = self.layers.len();
        assert!(i < len, "the placement has {len} layers; there is no layer {i}");
        i
    }
}
