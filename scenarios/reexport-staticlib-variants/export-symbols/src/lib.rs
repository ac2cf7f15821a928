//! Variant `export-symbols`: the `export-symbols` link modifier (rust-lang/rust#150992), which
//! asks rustc to export the global symbols of the C static library from the cdylib.

use std::ffi::c_int;

#[link(name = "foo", kind = "static", modifiers = "+export-symbols")]
extern "C" {
    pub fn foo(x: c_int) -> c_int;
}

#[no_mangle]
pub extern "C" fn rust_side() -> c_int {
    unsafe { foo(20) }
}
