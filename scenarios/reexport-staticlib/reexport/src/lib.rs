//! A cdylib that links a C static library (`libfoo.a`, built by prepare.sh
//! into $NATIVE and passed with `-L native=$NATIVE`) and tries to re-export
//! the C function `foo` from the shared object, using the pattern discussed in
//! RFC 3556: `#[no_mangle]` on a foreign item.

#[link(name = "foo", kind = "static")]
extern "C" {
    #[no_mangle]
    pub fn foo() -> i32;
}

/// An ordinary Rust export that calls into the archive, so that the archive
/// member defining `foo` is linked in whatever happens to the re-export.
#[no_mangle]
pub extern "C" fn rust_side() -> i32 {
    unsafe { foo() }
}
