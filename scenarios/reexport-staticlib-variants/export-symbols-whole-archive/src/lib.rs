//! Variant `export-symbols-whole-archive`: `+export-symbols` together with `+whole-archive`.
//! The export list that `export-symbols` makes names every global symbol of the archive, but the
//! linker only exports what it links, and it links an archive member only when something refers
//! to it; `+whole-archive` links them all, so the variadic `sum_ints`, which nothing in Rust
//! calls (and which no stable Rust wrapper could re-export), is exported too.

use std::ffi::c_int;

#[link(name = "foo", kind = "static", modifiers = "+whole-archive,+export-symbols")]
extern "C" {
    pub fn foo(x: c_int) -> c_int;
}

#[no_mangle]
pub extern "C" fn rust_side() -> c_int {
    unsafe { foo(20) }
}
