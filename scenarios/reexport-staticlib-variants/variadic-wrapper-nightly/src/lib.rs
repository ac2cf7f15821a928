//! Variant `variadic-wrapper-nightly`: a wrapper for the variadic `sum_ints`, which needs the
//! unstable `c_variadic` feature (rust-lang/rust#44930; enabled for this artifact only, with
//! `-Zcrate-attr=feature(c_variadic)`). Even then it cannot forward `...` to `sum_ints`: no C
//! function can; it hands its `va_list` to the library's `vsum_ints` twin.

use std::ffi::{c_int, VaList};

#[link(name = "foo", kind = "static")]
extern "C" {
    fn vsum_ints(n: c_int, args: VaList) -> c_int;
}

#[no_mangle]
pub unsafe extern "C" fn sum_ints_wrapper(n: c_int, args: ...) -> c_int {
    unsafe { vsum_ints(n, args) }
}
