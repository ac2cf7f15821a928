//! Variant `wrapper`: the supported way today, a Rust function that calls the C one. It needs a
//! name of its own: the C library already defines `foo`, and a Rust `#[no_mangle] fn foo` calling
//! it (declared with `#[link_name = "foo"]`) is the definition every reference to `foo` resolves
//! to, its own call included: rustc 1.95 with GNU ld builds it, without a warning, into a `foo`
//! that jumps to itself, and the archive member is never linked.

use std::ffi::c_int;

#[link(name = "foo", kind = "static")]
extern "C" {
    fn foo(x: c_int) -> c_int;
}

#[no_mangle]
pub extern "C" fn foo_wrapper(x: c_int) -> c_int {
    unsafe { foo(x) }
}
