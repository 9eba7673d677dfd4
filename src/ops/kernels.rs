//! The shader ↔ Rust interface, checked on the CPU through naga (a test, no GPU needed):
//! every kernel's WGSL parses and validates, has its entry point, and declares the bindings,
//! uniform fields (names, order, offsets, types) and override constants that the Rust side
//! declares for it. The list of kernels is checked against the source, so that a kernel added
//! without it fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use naga::{AddressSpace, Handle, ImageClass, ImageDimension, ScalarKind, StorageAccess, Type, TypeInner};

use crate::ops::{
    affine, dense, depthwise, direct, elementwise, gemm, im2col, image, lrn, mul, packed, pad, pool2d, softmax,
    space_to_depth, split_k, subsample, winograd,
};
use crate::pipeline::{Access, Field, Kernel};

/// Every kernel the crate declares.
fn kernels() -> Vec<&'static Kernel> {
    let mut all = vec![
        &direct::DIRECT,
        &depthwise::DEPTHWISE,
        &packed::PACK,
        &im2col::IM2COL,
        &im2col::IM2COL_DENSE,
        &im2col::IM2ROW,
        &gemm::GEMM,
        &split_k::SPLIT_SUM,
        &dense::GEMV,
        &pool2d::POOL,
        &elementwise::ELEMENTWISE,
        &affine::AFFINE,
        &mul::MUL,
        &pad::PAD,
        &lrn::LRN,
        &softmax::SOFTMAX,
        &winograd::WINOGRAD_WEIGHT,
        &winograd::WINOGRAD_INPUT,
        &winograd::WINOGRAD_OUTPUT,
        &space_to_depth::SPACE_TO_DEPTH,
        &subsample::SUBSAMPLE,
        &image::IMAGE_TO_TENSOR,
        &image::TENSOR_TO_IMAGE,
    ];
    #[cfg(feature = "cli")]
    all.push(&crate::ops::yardstick::STREAM);
    all
}

fn parse(k: &Kernel) -> naga::Module {
    let module =
        naga::front::wgsl::parse_str(k.source).unwrap_or_else(|e| panic!("{}: {}", k.name, e.emit_to_string(k.source)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {e:?}", k.name));
    module
}

/// The Rust files under src/, with their text.
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

#[test]
fn the_list_holds_every_kernel_the_source_declares() {
    // A kernel is a `const NAME: Kernel` item, written out or made by a `const fn` (the
    // yardsticks' only with the tools).
    let declaration = concat!(": Kernel", " = ");
    let compiled = |file: &str| cfg!(feature = "cli") || !file.ends_with("yardstick.rs");
    let declared: usize =
        sources().iter().filter(|(file, _)| compiled(file)).map(|(_, text)| text.matches(declaration).count()).sum();
    let listed = kernels();
    assert_eq!(listed.len(), declared, "kernels() lists {} of the {declared} the source declares", listed.len());
    let distinct: BTreeSet<_> = listed.iter().map(|k| (k.name, k.entry)).collect();
    assert_eq!(distinct.len(), listed.len(), "a kernel is listed twice");
}

#[test]
fn every_kernel_validates_and_has_its_entry_point() {
    for k in kernels() {
        let module = parse(k);
        assert!(module.entry_points.iter().any(|e| e.name == k.entry), "{}: no entry point {}", k.name, k.entry);
    }
}

/// The group-0 bindings the WGSL declares, in binding order, as the host sees them.
fn bindings(module: &naga::Module) -> Vec<(u32, Access)> {
    let mut found: Vec<(u32, Access)> = module
        .global_variables
        .iter()
        .filter_map(|(_, v)| {
            let binding = v.binding.as_ref()?;
            assert_eq!(binding.group, 0, "{:?}: bindings live in group 0", v.name);
            let access = match (v.space, &module.types[v.ty].inner) {
                (AddressSpace::Storage { access }, _) if access.contains(StorageAccess::STORE) => Access::ReadWrite,
                (AddressSpace::Storage { .. }, _) => Access::Read,
                (AddressSpace::Uniform, _) => Access::Uniform,
                (AddressSpace::Handle, TypeInner::Image { dim: ImageDimension::D2, arrayed: false, class }) => {
                    match class {
                        ImageClass::Storage { format: naga::StorageFormat::Rgba32Float, access }
                            if *access == StorageAccess::LOAD =>
                        {
                            Access::TextureRead
                        }
                        ImageClass::Storage { format: naga::StorageFormat::Rgba32Float, access }
                            if *access == StorageAccess::STORE =>
                        {
                            Access::TextureWrite
                        }
                        ImageClass::Sampled { kind: ScalarKind::Float, multi: false } => Access::Sampled,
                        other => panic!("{:?}: a texture dojang does not declare: {other:?}", v.name),
                    }
                }
                (space, ty) => panic!("{:?}: a binding dojang does not declare: {space:?} {ty:?}", v.name),
            };
            Some((binding.binding, access))
        })
        .collect();
    found.sort_by_key(|b| b.0);
    found
}

#[test]
fn binding_tables_match_the_wgsl() {
    for k in kernels() {
        let declared: Vec<(u32, Access)> = k.bindings.iter().enumerate().map(|(i, a)| (i as u32, *a)).collect();
        assert_eq!(bindings(&parse(k)), declared, "{} ({})", k.name, k.entry);
        assert_eq!(k.bindings.last(), Some(&Access::Uniform), "{}: the uniform comes last", k.name);
    }
}

/// Fails unless the WGSL struct `ty` has the fields of `rust`, in order, at the same offsets
/// and of the same types (fields named `_…` are padding: only the sizes must agree).
fn assert_same_struct(what: &str, module: &naga::Module, ty: Handle<Type>, rust: &[Field]) {
    let TypeInner::Struct { members, .. } = &module.types[ty].inner else {
        panic!("{what}: not a struct in the WGSL");
    };
    let wgsl: Vec<_> = members.iter().filter(|m| !m.name.as_deref().unwrap_or("_").starts_with('_')).collect();
    let rust: Vec<_> = rust.iter().filter(|f| !f.name.starts_with('_')).collect();
    let names = |w: &[&naga::StructMember], r: &[&Field]| {
        (
            w.iter().map(|m| m.name.clone().unwrap_or_default()).collect::<Vec<_>>(),
            r.iter().map(|f| f.name).collect::<Vec<_>>(),
        )
    };
    let (wgsl_names, rust_names) = names(&wgsl, &rust);
    assert_eq!(wgsl_names, rust_names, "{what}: the fields in the WGSL and in Rust, in order");
    for (m, f) in wgsl.iter().zip(&rust) {
        let at = format!("{what}.{}", f.name);
        assert_eq!(m.offset as usize, f.offset, "{at}: offset in the WGSL and in Rust");
        match &module.types[m.ty].inner {
            TypeInner::Scalar(s) => {
                let wgsl_ty = match (s.kind, s.width) {
                    (ScalarKind::Uint, 4) => "u32",
                    (ScalarKind::Float, 4) => "f32",
                    other => panic!("{at}: a scalar dojang does not declare: {other:?}"),
                };
                assert_eq!(wgsl_ty, f.ty, "{at}: type in the WGSL and in Rust");
            }
            TypeInner::Struct { .. } => {
                assert_eq!(module.types[m.ty].name.as_deref(), Some(f.ty), "{at}: struct type");
                assert_same_struct(&at, module, m.ty, f.fields);
            }
            other => panic!("{at}: a field type dojang does not declare: {other:?}"),
        }
    }
}

#[test]
fn uniform_structs_match_the_rust_field_by_field() {
    for k in kernels() {
        let module = parse(k);
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).unwrap();
        let (_, uniform) = module.global_variables.iter().find(|(_, v)| v.space == AddressSpace::Uniform).unwrap();
        assert_eq!(layouter[uniform.ty].size as usize, k.uniform.size, "{}: Uniforms vs its Rust struct", k.name);
        assert_eq!(module.types[uniform.ty].name.as_deref(), Some("Uniforms"), "{}: the uniform's type", k.name);
        assert_same_struct(&format!("{} Uniforms", k.name), &module, uniform.ty, k.uniform.fields);
    }
}

#[test]
fn override_names_match_the_wgsl() {
    // Kernels that share a file share its overrides: together they set all of them.
    let mut by_file: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for k in kernels() {
        let module = parse(k);
        let in_wgsl: BTreeSet<String> = module.overrides.iter().filter_map(|(_, o)| o.name.clone()).collect();
        for name in k.overrides {
            assert!(in_wgsl.contains(*name), "{} ({}): no override {name} in the WGSL", k.name, k.entry);
        }
        let entry = by_file.entry(k.name).or_default();
        entry.0 = in_wgsl;
        entry.1.extend(k.overrides.iter().map(|s| s.to_string()));
    }
    for (file, (in_wgsl, set_by_rust)) in by_file {
        assert_eq!(in_wgsl, set_by_rust, "{file}.wgsl: overrides the host never sets, or sets in vain");
    }
}

#[test]
fn a_field_out_of_order_is_caught() {
    // The check itself, on a struct whose Rust twin swaps two fields.
    let source = "struct Uniforms { a: u32, b: f32 }\n@group(0) @binding(0) var<uniform> p: Uniforms;\n";
    let module = naga::front::wgsl::parse_str(source).unwrap();
    let (_, uniform) = module.global_variables.iter().next().unwrap();
    let swapped = [
        Field { name: "b", ty: "f32", offset: 0, fields: &[] },
        Field { name: "a", ty: "u32", offset: 4, fields: &[] },
    ];
    let caught = std::panic::catch_unwind(|| assert_same_struct("swapped", &module, uniform.ty, &swapped));
    assert!(caught.is_err());
    let right = [
        Field { name: "a", ty: "u32", offset: 0, fields: &[] },
        Field { name: "b", ty: "f32", offset: 4, fields: &[] },
    ];
    assert_same_struct("right", &module, uniform.ty, &right);
}

#[test]
fn every_kernel_binds_no_more_than_an_apps_device_is_held_to() {
    let least = |name: &str| crate::gpu::requirements().into_iter().find(|r| r.0 == name).unwrap().1;
    for k in kernels() {
        let count = |f: fn(&Access) -> bool| k.bindings.iter().filter(|a| f(a)).count() as u64;
        let buffers = count(|a| matches!(a, Access::Read | Access::ReadWrite));
        let textures = count(|a| matches!(a, Access::TextureRead | Access::TextureWrite));
        assert!(buffers <= least("max_storage_buffers_per_shader_stage"), "{}: {buffers} storage buffers", k.name);
        assert!(textures <= least("max_storage_textures_per_shader_stage"), "{}: {textures} textures", k.name);
        assert!(count(|a| *a == Access::Sampled) <= least("max_sampled_textures_per_shader_stage"), "{}", k.name);
        assert!(k.bindings.len() as u64 <= least("max_bindings_per_bind_group"), "{}", k.name);
    }
}
