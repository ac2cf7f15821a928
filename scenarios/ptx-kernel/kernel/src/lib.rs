//! A `#![no_std]` cdylib for a GPU target (nvptx64-nvidia-cuda: the artifact is PTX text).
//! What becomes `.visible`? Only the `#[no_mangle]` items are meant to: the C-ABI device
//! function `answer` (a `.func`) and the kernel `write_answer` (an `.entry`). The plain Rust
//! function and the panic handler are meant to be internalized by the bitcode linker.
#![no_std]
#![feature(abi_ptx)]

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// Device function, C ABI, unmangled: the intended `.visible .func`.
#[no_mangle]
pub extern "C" fn answer() -> i32 {
    42
}

/// Public, Rust ABI, mangled, not inlined: stays a `.func`, but must not be visible.
#[inline(never)]
pub fn plain(x: i32) -> i32 {
    x.wrapping_mul(3)
}

/// Kernel, the intended `.visible .entry`: `out[0] = answer()`, `out[1] = plain(out[1])`.
///
/// # Safety
/// `out` must point to two writable `i32` in device memory.
#[no_mangle]
pub unsafe extern "ptx-kernel" fn write_answer(out: *mut i32) {
    unsafe {
        *out = answer();
        *out.add(1) = plain(*out.add(1));
    }
}
