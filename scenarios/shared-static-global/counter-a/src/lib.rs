//! Staticlib `counter_a`: DEFINES the shared global and one function that writes it.
//! Built on its own (a staticlib carries its own copy of std), before counter_b and app.

/// The one global both staticlibs write and the binary reads, under its C name.
#[no_mangle]
pub static mut SHARED_COUNTER: u32 = 0;

/// Adds one to the global; returns the new value.
#[no_mangle]
pub extern "C" fn bump_a() -> u32 {
    unsafe {
        SHARED_COUNTER += 1;
        SHARED_COUNTER
    }
}
