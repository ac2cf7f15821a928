//! A host program that exports a C function and loads a plugin at run time; the plugin looks the
//! function up in the main program (`dlsym(RTLD_DEFAULT, …)` / `GetProcAddress(GetModuleHandle(NULL), …)`)
//! and calls back into it. This is what an embedded language runtime does with its host.
//! No crates: the loader functions are declared here, as a C program would include them.

use std::ffi::{c_char, c_void, CStr, CString};

/// The callback the plugin looks for in the main program.
#[no_mangle]
pub extern "C" fn host_answer() -> i32 {
    7
}

#[cfg(unix)]
mod loader {
    use super::*;
    const RTLD_NOW: i32 = 2;
    extern "C" {
        fn dlopen(filename: *const c_char, flag: i32) -> *mut c_void;
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
        fn dlerror() -> *const c_char;
    }
    pub fn open(path: &CStr) -> Result<*mut c_void, String> {
        let handle = unsafe { dlopen(path.as_ptr(), RTLD_NOW) };
        if handle.is_null() {
            let error = unsafe { dlerror() };
            let text = if error.is_null() { "unknown error".into() } else {
                unsafe { CStr::from_ptr(error) }.to_string_lossy().into_owned()
            };
            return Err(text);
        }
        Ok(handle)
    }
    pub fn symbol(handle: *mut c_void, name: &CStr) -> *mut c_void {
        unsafe { dlsym(handle, name.as_ptr()) }
    }
}

#[cfg(windows)]
mod loader {
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
    println!("host_answer() = {}", host_answer());
    let path = std::env::args().nth(1).expect("usage: host PLUGIN");
    let path = CString::new(path).expect("a path without NUL");
    let plugin = match loader::open(&path) {
        Ok(plugin) => plugin,
        Err(error) => {
            println!("cannot load the plugin: {error}");
            std::process::exit(3);
        }
    };
    let entry = loader::symbol(plugin, c"plugin_entry");
    if entry.is_null() {
        println!("the plugin exports no plugin_entry");
        std::process::exit(4);
    }
    let entry: extern "C" fn() -> i32 = unsafe { std::mem::transmute(entry) };
    println!("plugin_entry() = {}", entry());
}
