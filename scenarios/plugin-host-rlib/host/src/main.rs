//! A host program that registers itself with its API (rlib-host-api, linked statically), loads a
//! plugin with libloading, calls its `plugin_init`, and prints the count each side sees. If the
//! plugin's calls reached the host's copy of the API, both would see 2; with two copies, each
//! sees 1.

use std::error::Error;

fn main() {
    let path = std::env::args().nth(1).expect("usage: rlib-host PLUGIN");
    rlib_host_api::host_register(1);
    println!("host: host_registered() = {}", rlib_host_api::host_registered());
    let library = match unsafe { libloading::Library::new(&path) } {
        Ok(library) => library,
        Err(error) => {
            println!("cannot load the plugin: {}", chain(&error));
            std::process::exit(3);
        }
    };
    let init = match unsafe { library.get::<unsafe extern "C" fn() -> u32>(b"plugin_init\0") } {
        Ok(init) => init,
        Err(error) => {
            println!("the plugin has no plugin_init: {}", chain(&error));
            std::process::exit(4);
        }
    };
    let seen = unsafe { init() };
    println!("plugin: host_registered() = {seen}");
    println!("host after plugin_init: host_registered() = {}", rlib_host_api::host_registered());
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
