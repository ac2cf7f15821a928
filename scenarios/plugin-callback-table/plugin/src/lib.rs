//! A plugin that gets every host function through the table passed to its entry point: it
//! imports nothing from the host and exports only `plugin_init`.

use table_api::{HostApi, ABI_VERSION};

/// The entry point: check the table's version, log through the host, register twice.
///
/// # Safety
/// `api` must point to a valid `HostApi` for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn plugin_init(api: *const HostApi) -> i32 {
    let Some(api) = (unsafe { api.as_ref() }) else {
        return -1;
    };
    if api.abi_version != ABI_VERSION {
        return -2;
    }
    (api.log)(c"hello from the plugin".as_ptr());
    (api.register)(10);
    let count = (api.register)(11);
    (api.log)(if count == 2 { c"registered 2 components" } else { c"unexpected count" }.as_ptr());
    0
}
