//! The contract between host and plugin: a `#[repr(C)]` table of host functions that the host
//! fills and passes to the plugin's one exported entry point. It defines types only, so a
//! plugin that depends on it links nothing of the host.

use std::ffi::c_char;

/// Bumped whenever the layout of [`HostApi`] changes; the plugin checks it first.
pub const ABI_VERSION: u32 = 1;

/// The host functions a plugin may call, passed to it at run time.
#[repr(C)]
pub struct HostApi {
    pub abi_version: u32,
    /// Print a NUL-terminated message on the host's output.
    pub log: extern "C" fn(message: *const c_char),
    /// Register a component with the host; returns the new count.
    pub register: extern "C" fn(id: u32) -> u32,
}

/// The plugin's entry point, exported as `plugin_init`: 0 on success.
pub type PluginInit = unsafe extern "C" fn(api: *const HostApi) -> i32;
