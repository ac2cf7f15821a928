//! Variant `variadic`: the `#[no_mangle] pub` foreign-item pattern for a variadic C function,
//! `int sum_ints(int n, ...)`. Rust can declare and call a C-variadic function on stable, but not
//! define one (`c_variadic`, rust-lang/rust#44930), so no stable wrapper can take its place.

use std::ffi::c_int;

#[link(name = "foo", kind = "static")]
extern "C" {
    #[no_mangle]
    pub fn sum_ints(n: c_int, ...) -> c_int;
}

#[no_mangle]
pub extern "C" fn rust_side() -> c_int {
    unsafe { sum_ints(3, 10 as c_int, 20 as c_int, 12 as c_int) }
}
