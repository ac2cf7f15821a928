//! The host's API as a Rust `dylib`: the host program and its plugins link it dynamically, so
//! at run time there is one copy of it, and of its state, in the process.

use std::sync::atomic::{AtomicU32, Ordering};

/// How many times host_register was called on this copy of the library.
static REGISTERED: AtomicU32 = AtomicU32::new(0);

/// Register a component with the host (a C-ABI entry point); returns the new count.
#[no_mangle]
pub extern "C" fn host_register(id: u32) -> u32 {
    let _ = id;
    REGISTERED.fetch_add(1, Ordering::SeqCst) + 1
}

/// How many components were registered (a Rust-ABI function: its symbol name is mangled, with
/// a hash of this crate's build in it).
pub fn registered() -> u32 {
    REGISTERED.load(Ordering::SeqCst)
}
