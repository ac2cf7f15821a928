//! Staticlib `counter_b`: only DECLARES the global (as C code would with `extern uint32_t`),
//! so its definition must come from counter_a when the final program is linked.

extern "C" {
    static mut SHARED_COUNTER: u32;
}

/// Adds one to the global counter_a defines; returns the new value.
#[no_mangle]
pub extern "C" fn bump_b() -> u32 {
    unsafe {
        SHARED_COUNTER += 1;
        SHARED_COUNTER
    }
}
