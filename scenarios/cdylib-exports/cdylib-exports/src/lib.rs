//! What does a cdylib export? Only `#[no_mangle] extern "C"` items are meant
//! to be; plain and generic Rust functions and the allocator shims are not.

/// C ABI, unmangled: the one intended export.
#[no_mangle]
pub extern "C" fn answer() -> i32 {
    42
}

/// Public, Rust ABI, mangled.
pub fn plain() -> i32 {
    41
}

/// Public and generic: never codegened unless instantiated.
pub fn generic<T: Default>() -> T {
    T::default()
}

/// Allocates, so that the global allocator and its shims get linked in.
#[no_mangle]
pub extern "C" fn allocate_and_sum(n: u32) -> u64 {
    let v: Vec<u64> = (0..u64::from(n)).collect();
    let s: u64 = v.iter().sum();
    s + plain() as u64 + generic::<u64>()
}
