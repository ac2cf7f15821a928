//! A cdylib that calls a function it does not define: the host is meant to provide it. The
//! extern block names no wasm import module, as native code would write it.

extern "C" {
    fn host_log(value: i32);
}

/// Calls the host's function.
#[no_mangle]
pub extern "C" fn report(value: i32) {
    // SAFETY: the host supplies `host_log(i32)`; nothing else is assumed of it.
    unsafe { host_log(value) }
}
