//! Every kernel's WGSL parses and validates with naga: no GPU needed.

#[test]
fn every_kernel_validates() {
    for (name, entry, source) in dojang::pipeline::kernel_sources() {
        let module =
            naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::default())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert!(module.entry_points.iter().any(|e| e.name == entry), "{name}: no entry point {entry}");
    }
}
