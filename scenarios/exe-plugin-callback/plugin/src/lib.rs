//! A plugin that calls back into whichever program loaded it: it looks `host_answer` up in the
//! main program at run time. It returns 6 × host_answer(), or -1 when the main program does not
//! export it (an executable exports it only when built with `-Z export-executable-symbols`).

use std::ffi::{c_char, c_void, CStr};

#[cfg(unix)]
fn main_program_symbol(name: &CStr) -> *mut c_void {
    extern "C" {
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }
    // RTLD_DEFAULT is the null handle on glibc and musl: search the global scope, main program first.
    unsafe { dlsym(std::ptr::null_mut(), name.as_ptr()) }
}

#[cfg(windows)]
fn main_program_symbol(name: &CStr) -> *mut c_void {
    #[link(name = "kernel32", kind = "raw-dylib")]
    extern "system" {
        fn GetModuleHandleA(name: *const c_char) -> *mut c_void;
        fn GetProcAddress(module: *mut c_void, name: *const c_char) -> *mut c_void;
    }
    unsafe { GetProcAddress(GetModuleHandleA(std::ptr::null()), name.as_ptr()) }
}

#[no_mangle]
pub extern "C" fn plugin_entry() -> i32 {
    let callback = main_program_symbol(c"host_answer");
    if callback.is_null() {
        return -1;
    }
    let callback: extern "C" fn() -> i32 = unsafe { std::mem::transmute(callback) };
    6 * callback()
}
