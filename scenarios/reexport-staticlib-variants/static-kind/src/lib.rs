//! Variant `static-kind`: the pattern of RFC 3556's motivation, `#[no_mangle] pub` on a foreign
//! item of an `extern` block that links the C static library with `kind = "static"`.
//! (scenarios/reexport-staticlib has the same declaration; this one is also loaded and called.)

use std::ffi::c_int;

#[link(name = "foo", kind = "static")]
extern "C" {
    #[no_mangle]
    pub fn foo(x: c_int) -> c_int;
}

/// An ordinary export that calls into the archive, so that its member defining `foo` is linked in
/// whatever happens to the re-export.
#[no_mangle]
pub extern "C" fn rust_side() -> c_int {
    unsafe { foo(20) }
}
