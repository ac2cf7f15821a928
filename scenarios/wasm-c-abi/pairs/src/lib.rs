//! Two exported C functions a host calls with the same two numbers: one takes them as
//! scalars, one as a `#[repr(C)]` struct passed by value. Which wasm parameters the struct
//! becomes is the C ABI's decision, and that is what changed for wasm32-unknown-unknown.

/// Two fields: more than one scalar, so the standard C ABI passes it through memory.
#[repr(C)]
pub struct Pair {
    pub a: i32,
    pub b: i32,
}

/// A struct by value: `(i32, i32)` under the legacy ABI (its fields, spread), `(i32)` under
/// the standard one (a pointer to a copy in linear memory).
#[no_mangle]
pub extern "C" fn pair_sum(pair: Pair) -> i32 {
    pair.a.wrapping_add(pair.b)
}

/// Scalars only: `(i32, i32)` under either ABI, the control.
#[no_mangle]
pub extern "C" fn scalar_sum(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}
