//! Adapters: every one wgpu sees, and the one a selector (an index or part of a name, or
//! `DOJANG_ADAPTER`) picks, found without opening a device.

use crate::error::{Error, Result};

/// Environment variable that picks the adapter: an index into [`adapters`] or a name substring.
pub const ADAPTER_ENV: &str = "DOJANG_ADAPTER";

/// What dojang reports about an adapter (the `devices` subcommand prints it).
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    /// Position in the enumeration (what `DOJANG_ADAPTER=INDEX` takes).
    pub index: usize,
    /// Name, backend, type and driver.
    pub info: wgpu::AdapterInfo,
    /// The adapter's own limits.
    pub limits: wgpu::Limits,
    /// Optional features it has.
    pub features: wgpu::Features,
}

/// The wgpu instance dojang enumerates adapters through (no window system).
pub(crate) fn instance() -> wgpu::Instance {
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

/// Every adapter wgpu sees, in enumeration order (the order `DOJANG_ADAPTER=INDEX` uses).
pub fn adapters() -> Vec<AdapterSummary> {
    pollster::block_on(instance().enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .enumerate()
        .map(|(index, a)| AdapterSummary { index, info: a.get_info(), limits: a.limits(), features: a.features() })
        .collect()
}

/// The adapter `selector` names (see [`find_adapter`]); `None` takes the high-performance one.
pub(crate) fn select_adapter(instance: &wgpu::Instance, selector: Option<&str>) -> Result<wgpu::Adapter> {
    let all = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    if all.is_empty() {
        return Err(Error::NoAdapter);
    }
    let Some(wanted) = selector.map(str::trim).filter(|s| !s.is_empty()) else {
        return pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
            power_preference: wgpu::PowerPreference::HighPerformance,
            force_fallback_adapter: false,
            compatible_surface: None,
            apply_limit_buckets: false,
        }))
        .map_err(|_| Error::NoAdapter);
    };
    let infos: Vec<_> = all.iter().map(wgpu::Adapter::get_info).collect();
    Ok(all[pick(&infos, wanted)?].clone())
}

/// The index among [`adapters`] that `selector` names (as `Gpu::with_adapter` reads it),
/// without opening a device: [`Error::AdapterNotFound`] lists those there are.
pub fn find_adapter(selector: &str) -> Result<usize> {
    let infos: Vec<_> = adapters().into_iter().map(|a| a.info).collect();
    if infos.is_empty() {
        return Err(Error::NoAdapter);
    }
    pick(&infos, selector.trim())
}

/// An index, or a case-insensitive substring of an adapter's name.
fn pick(infos: &[wgpu::AdapterInfo], wanted: &str) -> Result<usize> {
    let found = match wanted.parse::<usize>() {
        Ok(i) => (i < infos.len()).then_some(i),
        Err(_) => {
            let needle = wanted.to_lowercase();
            infos.iter().position(|a| a.name.to_lowercase().contains(&needle))
        }
    };
    found.ok_or_else(|| Error::AdapterNotFound {
        wanted: wanted.to_string(),
        available: infos
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{i}: {} ({:?})", a.name, a.backend))
            .collect::<Vec<_>>()
            .join(", "),
    })
}
