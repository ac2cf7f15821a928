//! The host's API, as a plain Rust library (rlib) that both the host program and its plugins
//! depend on. Its `#[no_mangle] extern "C"` functions are the "host functions" a plugin calls.
//! Because this is an rlib, every crate that links it gets its own copy: the host executable one,
//! and the plugin cdylib another (and the cdylib exports its copy's #[no_mangle] functions).

use std::sync::atomic::{AtomicU32, Ordering};

/// How many times host_register was called on this copy of the library.
static REGISTERED: AtomicU32 = AtomicU32::new(0);

/// Register a component with the host; returns the new count.
#[no_mangle]
pub extern "C" fn host_register(id: u32) -> u32 {
    let _ = id;
    REGISTERED.fetch_add(1, Ordering::SeqCst) + 1
}

/// How many components were registered with this copy of the library.
#[no_mangle]
pub extern "C" fn host_registered() -> u32 {
    REGISTERED.load(Ordering::SeqCst)
}
