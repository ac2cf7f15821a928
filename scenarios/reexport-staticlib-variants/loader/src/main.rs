//! `loader LIBRARY SYMBOL`: load a shared library at run time (`dlopen` / `LoadLibraryA`), look
//! SYMBOL up in it (`dlsym` / `GetProcAddress`) and call it, as a C program using the library
//! would. A name starting with `sum_ints` is called as `int (*)(int, ...)` with (3, 10, 20, 12),
//! any other as `int (*)(int)` with 20. Prints `NAME(ARGS) = RESULT`, or why it could not.
//! Exit status: 0 called, 3 the library did not load, 4 the symbol is not exported.
//! No crates: the loader functions are declared here, as a C program would include them.

use std::ffi::{c_char, c_int, c_void, CStr, CString};

#[cfg(unix)]
mod dynamic {
    use super::*;
    const RTLD_NOW: c_int = 2;
    extern "C" {
        fn dlopen(filename: *const c_char, flag: c_int) -> *mut c_void;
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
        fn dlerror() -> *const c_char;
    }
    pub fn open(path: &CStr) -> Result<*mut c_void, String> {
        let handle = unsafe { dlopen(path.as_ptr(), RTLD_NOW) };
        if handle.is_null() {
            let error = unsafe { dlerror() };
            return Err(if error.is_null() {
                "unknown error".into()
            } else {
                unsafe { CStr::from_ptr(error) }.to_string_lossy().into_owned()
            });
        }
        Ok(handle)
    }
    pub fn symbol(handle: *mut c_void, name: &CStr) -> *mut c_void {
        unsafe { dlsym(handle, name.as_ptr()) }
    }
}

#[cfg(windows)]
mod dynamic {
    use super::*;
    #[link(name = "kernel32", kind = "raw-dylib")]
    extern "system" {
        fn LoadLibraryA(name: *const c_char) -> *mut c_void;
        fn GetProcAddress(module: *mut c_void, name: *const c_char) -> *mut c_void;
        fn GetLastError() -> u32;
    }
    pub fn open(path: &CStr) -> Result<*mut c_void, String> {
        let module = unsafe { LoadLibraryA(path.as_ptr()) };
        if module.is_null() {
            return Err(format!("LoadLibraryA failed, error {}", unsafe { GetLastError() }));
        }
        Ok(module)
    }
    pub fn symbol(module: *mut c_void, name: &CStr) -> *mut c_void {
        unsafe { GetProcAddress(module, name.as_ptr()) }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(library), Some(name)) = (args.next(), args.next()) else {
        eprintln!("usage: loader LIBRARY SYMBOL");
        std::process::exit(2);
    };
    let path = CString::new(library.clone()).expect("a path without NUL");
    let handle = match dynamic::open(&path) {
        Ok(handle) => handle,
        Err(error) => {
            println!("cannot load {library}: {error}");
            std::process::exit(3);
        }
    };
    let symbol = dynamic::symbol(handle, &CString::new(name.clone()).expect("a name without NUL"));
    if symbol.is_null() {
        println!("symbol {name} not found");
        std::process::exit(4);
    }
    if name.starts_with("sum_ints") {
        let function: unsafe extern "C" fn(c_int, ...) -> c_int =
            unsafe { std::mem::transmute(symbol) };
        let result = unsafe { function(3, 10 as c_int, 20 as c_int, 12 as c_int) };
        println!("{name}(3, 10, 20, 12) = {result}");
    } else {
        let function: unsafe extern "C" fn(c_int) -> c_int = unsafe { std::mem::transmute(symbol) };
        println!("{name}(20) = {}", unsafe { function(20) });
    }
}
