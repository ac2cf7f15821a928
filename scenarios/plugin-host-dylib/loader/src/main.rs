//! A generic plugin loader that links nothing of the host's API: it shows whether the plugin
//! loads on its own, and what the system loader says when a library it needs is not found.

use std::error::Error;

fn main() {
    let path = std::env::args().nth(1).expect("usage: dylib-loader PLUGIN");
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
    println!("plugin loaded");
    println!("plugin: registered() = {}", unsafe { init() });
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
