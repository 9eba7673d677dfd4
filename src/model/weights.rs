//! Model parameters on the host: seeded He-normal initialisation, and .safetensors files (one
//! tensor per parameter, named `<layer>.weight` / `<layer>.bias`; f16 and bf16 convert to f32).

use std::collections::BTreeMap;
use std::path::Path;

use rand::{Rng, SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, Normal};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::error::{Error, Result, Shape};
use crate::model::graph::Model;

/// Parameter name → (shape, values); every tensor's values fill its shape.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Weights {
    tensors: BTreeMap<String, (Vec<usize>, Vec<f32>)>,
}

impl Weights {
    /// No tensors.
    pub fn new() -> Weights {
        Weights::default()
    }

    /// Adds (or replaces) tensor `name` of `shape`; its values must fill the shape.
    pub fn insert(&mut self, name: &str, shape: &[usize], values: Vec<f32>) -> Result<()> {
        let expected = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if expected != Some(values.len()) {
            return Err(Error::WeightValues {
                tensor: name.into(),
                shape: Shape(shape.to_vec()),
                expected: expected.unwrap_or(usize::MAX),
                got: values.len(),
            });
        }
        self.tensors.insert(name.to_string(), (shape.to_vec(), values));
        Ok(())
    }

    /// Takes tensor `name` out, if it is there.
    pub fn remove(&mut self, name: &str) -> Option<(Vec<usize>, Vec<f32>)> {
        self.tensors.remove(name)
    }

    /// The shape of tensor `name`.
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.tensors.get(name).map(|(s, _)| s.as_slice())
    }

    /// (name, shape, values) of every tensor, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[usize], &[f32])> {
        self.tensors.iter().map(|(n, (s, v))| (n.as_str(), s.as_slice(), v.as_slice()))
    }

    /// He-normal weights (std √(2 / fan-in)) and small uniform biases, from `seed`.
    pub fn he_normal(model: &Model, seed: u64) -> Weights {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut map = BTreeMap::new();
        for (name, shape) in model.parameters() {
            let len: usize = shape.iter().product();
            let values = if name.ends_with(".weight") {
                let fan_in: usize = shape[1..].iter().product();
                let normal = Normal::new(0.0, (2.0 / fan_in as f64).sqrt()).expect("a positive std");
                (0..len).map(|_| normal.sample(&mut rng) as f32).collect()
            } else {
                (0..len).map(|_| rng.random_range(-0.1..0.1)).collect()
            };
            map.insert(name, (shape, values));
        }
        Weights { tensors: map }
    }

    /// Reads every parameter `model` needs from a .safetensors file, checking names, shapes
    /// and dtypes before anything is used; extra tensors are ignored.
    pub fn load(path: &Path, model: &Model) -> Result<Weights> {
        let io = |reason: String| Error::WeightFile { path: path.display().to_string(), reason };
        let bytes = std::fs::read(path).map_err(|e| io(format!("cannot read it: {e}")))?;
        let file = SafeTensors::deserialize(&bytes).map_err(|e| io(format!("not a .safetensors file: {e}")))?;
        let mut map = BTreeMap::new();
        for (name, shape) in model.parameters() {
            let view = file.tensor(&name).map_err(|_| Error::WeightMissing { tensor: name.clone() })?;
            if view.shape() != shape.as_slice() {
                return Err(Error::WeightShape {
                    tensor: name,
                    got: Shape(view.shape().to_vec()),
                    expected: Shape(shape),
                });
            }
            let data = view.data();
            let values: Vec<f32> = match view.dtype() {
                Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
                Dtype::F16 => data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
                Dtype::BF16 => data.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
                other => return Err(Error::WeightDtype { tensor: name, dtype: format!("{other:?}") }),
            };
            map.insert(name, (shape, values));
        }
        Ok(Weights { tensors: map })
    }

    /// Writes every tensor as F32.
    pub fn save(&self, path: &Path) -> Result<()> {
        let fail = |reason: String| Error::WeightFile { path: path.display().to_string(), reason };
        let bytes: Vec<(&String, Vec<u8>, &Vec<usize>)> =
            self.tensors.iter().map(|(n, (s, v))| (n, bytemuck::cast_slice(v).to_vec(), s)).collect();
        let views = bytes
            .iter()
            .map(|(n, b, s)| TensorView::new(Dtype::F32, s.to_vec(), b).map(|v| (n.as_str(), v)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| fail(e.to_string()))?;
        let data = safetensors::serialize(views, None).map_err(|e| fail(e.to_string()))?;
        std::fs::write(path, data).map_err(|e| fail(format!("cannot write it: {e}")))
    }

    /// Fails unless every parameter of `model` is here with its shape: checked before anything
    /// is uploaded, so that a bad set never half-loads.
    pub fn check(&self, model: &Model) -> Result<()> {
        for (name, shape) in model.parameters() {
            match self.tensors.get(&name) {
                None => return Err(Error::WeightMissing { tensor: name }),
                Some((s, _)) if *s != shape => {
                    return Err(Error::WeightShape { tensor: name, got: Shape(s.clone()), expected: Shape(shape) });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The values of parameter `name`.
    pub fn get(&self, name: &str) -> Result<&[f32]> {
        self.tensors.get(name).map(|(_, v)| v.as_slice()).ok_or_else(|| Error::WeightMissing { tensor: name.into() })
    }
}
