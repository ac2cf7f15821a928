//! Variant `whole-archive`: link every member of the C library with the stable `+whole-archive`
//! modifier (the advice users often find for "the symbols of my static library are missing"),
//! with a plain foreign item (no `#[no_mangle]`).

use std::ffi::c_int;

#[link(name = "foo", kind = "static", modifiers = "+whole-archive")]
extern "C" {
    pub fn foo(x: c_int) -> c_int;
}

#[no_mangle]
pub extern "C" fn rust_side() -> c_int {
    unsafe { foo(20) }
}
