//! A host that hands its functions to a plugin in a `#[repr(C)]` table of function pointers:
//! its functions stay ordinary private Rust functions (not exported, not `#[no_mangle]`), and
//! the plugin needs nothing from the host at link time.

use std::error::Error;
use std::ffi::{c_char, CStr};
use std::sync::atomic::{AtomicU32, Ordering};

use table_api::{HostApi, PluginInit, ABI_VERSION};

static REGISTERED: AtomicU32 = AtomicU32::new(0);

extern "C" fn log(message: *const c_char) {
    let message = unsafe { CStr::from_ptr(message) };
    println!("host log: {}", message.to_string_lossy());
}

extern "C" fn register(id: u32) -> u32 {
    let count = REGISTERED.fetch_add(1, Ordering::SeqCst) + 1;
    println!("host register({id}) -> {count}");
    count
}

fn main() {
    let path = std::env::args().nth(1).expect("usage: table-host PLUGIN");
    let library = match unsafe { libloading::Library::new(&path) } {
        Ok(library) => library,
        Err(error) => {
            println!("cannot load the plugin: {}", chain(&error));
            std::process::exit(3);
        }
    };
    let init = match unsafe { library.get::<PluginInit>(b"plugin_init\0") } {
        Ok(init) => init,
        Err(error) => {
            println!("the plugin has no plugin_init: {}", chain(&error));
            std::process::exit(4);
        }
    };
    let api = HostApi { abi_version: ABI_VERSION, log, register };
    let status = unsafe { init(&api) };
    println!("plugin_init() = {status}");
    println!("host: registered = {}", REGISTERED.load(Ordering::SeqCst));
}

/// The error and its sources, on one line.
fn chain(error: &dyn Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text += &format!(": {cause}");
        source = cause.source();
    }
    text
}
