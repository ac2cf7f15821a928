//! Variant `no-kind`: the same `#[no_mangle] pub` foreign item, in an `extern` block whose
//! `#[link]` names no kind. rustc then treats `foo` as a dynamic library (`-lfoo`, `foo.lib`),
//! and the linker finds the static archive under that name.

use std::ffi::c_int;

#[link(name = "foo")]
extern "C" {
    #[no_mangle]
    pub fn foo(x: c_int) -> c_int;
}

#[no_mangle]
pub extern "C" fn rust_side() -> c_int {
    unsafe { foo(20) }
}
