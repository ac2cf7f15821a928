//! The same call with the import module said: `#[link(wasm_import_module = "env")]`, what the
//! Rust 1.96 release notes tell wasm users to write once undefined symbols are link errors.

#[link(wasm_import_module = "env")]
extern "C" {
    fn host_log(value: i32);
}

/// Calls the host's function.
#[no_mangle]
pub extern "C" fn report(value: i32) {
    // SAFETY: the host supplies `env.host_log(i32)`; nothing else is assumed of it.
    unsafe { host_log(value) }
}
