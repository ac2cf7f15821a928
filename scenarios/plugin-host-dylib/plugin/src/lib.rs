//! A plugin linked against the host's API dylib: its calls go to the one copy of the API that
//! the process has loaded, so it shares the host's state.

/// Register with the host and return the count the API now reports.
#[no_mangle]
pub extern "C" fn plugin_init() -> u32 {
    dylib_host_api::host_register(2);
    dylib_host_api::registered()
}
