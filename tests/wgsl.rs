//! The shader ↔ Rust interface, checked on the CPU through naga: every kernel's WGSL parses
//! and validates, has its entry point, and declares the bindings, uniform size and override
//! constants that the Rust side declares for it. No GPU needed.

use std::collections::{BTreeMap, BTreeSet};

use dojang::ops::KERNELS;
use dojang::pipeline::{Access, Kernel};
use naga::{AddressSpace, ImageClass, ImageDimension, StorageAccess, TypeInner};

fn parse(k: &Kernel) -> naga::Module {
    let module =
        naga::front::wgsl::parse_str(k.source).unwrap_or_else(|e| panic!("{}: {}", k.name, e.emit_to_string(k.source)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}: {e:?}", k.name));
    module
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
fn every_kernel_validates_and_has_its_entry_point() {
    for k in KERNELS {
        let module = parse(k);
        assert!(module.entry_points.iter().any(|e| e.name == k.entry), "{}: no entry point {}", k.name, k.entry);
    }
}

#[test]
fn binding_tables_match_the_wgsl() {
    for k in KERNELS {
        let declared: Vec<(u32, Access)> = k.bindings.iter().enumerate().map(|(i, a)| (i as u32, *a)).collect();
        assert_eq!(bindings(&parse(k)), declared, "{} ({})", k.name, k.entry);
        assert_eq!(k.bindings.last(), Some(&Access::Uniform), "{}: the uniform comes last", k.name);
    }
}

#[test]
fn uniform_structs_have_the_rust_size() {
    for k in KERNELS {
        let module = parse(k);
        let mut layouter = naga::proc::Layouter::default();
        layouter.update(module.to_ctx()).unwrap();
        let (_, uniform) = module.global_variables.iter().find(|(_, v)| v.space == AddressSpace::Uniform).unwrap();
        assert_eq!(layouter[uniform.ty].size as usize, k.uniform_size, "{}: Params vs its Rust struct", k.name);
    }
}

#[test]
fn override_names_match_the_wgsl() {
    // Kernels that share a file share its overrides: together they set all of them.
    let mut by_file: BTreeMap<&str, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for k in KERNELS {
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
