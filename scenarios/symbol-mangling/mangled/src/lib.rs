//! Rust items whose symbol names show the mangling scheme: a plain function, an inherent method,
//! a generic instantiated with two types, and a `#[no_mangle]` function that keeps its C name.
//! `#[inline(never)]` keeps each one a symbol of its own in the object files.

#![no_std]

/// Legacy: `_ZN7mangled6answer17h<hash>E`; v0: `_RNvCs<crate-hash>_7mangled6answer`.
#[inline(never)]
pub fn answer() -> u32 {
    42
}

pub struct Counter(pub u32);

impl Counter {
    /// Legacy loses the impl's self type path shape; v0 keeps `<mangled::Counter>::bump`.
    #[inline(never)]
    pub fn bump(&mut self, by: u32) -> u32 {
        self.0 = self.0.wrapping_add(by);
        self.0
    }
}

/// Generic: legacy names both instances `mangled::widen::h<hash>` (the hash differs),
/// v0 names them `mangled::widen::<u8>` and `mangled::widen::<u16>`.
#[inline(never)]
pub fn widen<T: Into<u64>>(value: T) -> u64 {
    value.into().wrapping_mul(3)
}

/// Instantiates `widen` for two types in this crate, so the instances are in its object.
#[inline(never)]
pub fn widen_both(a: u8, b: u16) -> u64 {
    widen(a) + widen(b)
}

/// Keeps its name whatever the mangling scheme.
#[no_mangle]
pub extern "C" fn mangled_c_answer() -> u32 {
    answer()
}
