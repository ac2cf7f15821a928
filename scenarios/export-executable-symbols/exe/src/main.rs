//! An executable that defines a C-ABI symbol meant to be looked up at run time
//! (plugins calling back into their host, `dlsym(NULL, ...)`, wasm exports).

#[no_mangle]
pub extern "C" fn exported_from_exe() -> i32 {
    7
}

fn main() {
    println!("hello from exe, exported_from_exe() = {}", exported_from_exe());
}
