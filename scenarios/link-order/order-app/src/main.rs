//! Calls only `consumer_value` (staticlib `order_consumer`); nothing here refers to
//! `order_provider`, whose `provider_value` is needed by order_consumer alone. Whether the link
//! finds it depends on the linker: a traditional Unix linker scans each archive once, in
//! command-line order.

extern "C" {
    fn consumer_value() -> u32;
}

/// Callable by name where there is no `main` to run (wasm32-unknown-unknown exports an
/// executable's #[no_mangle] functions).
#[no_mangle]
pub extern "C" fn app_value() -> u32 {
    unsafe { consumer_value() }
}

fn main() {
    println!("consumer_value() = {}", app_value());
}
