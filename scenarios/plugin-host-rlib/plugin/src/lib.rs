//! A plugin that calls the host's API through an ordinary Rust dependency on it (rlib): the
//! calls are linked at build time, to the copy of rlib-host-api inside this cdylib.

/// Register with "the host" and return the count this plugin's copy of the API sees.
#[no_mangle]
pub extern "C" fn plugin_init() -> u32 {
    rlib_host_api::host_register(2);
    rlib_host_api::host_registered()
}
