//! Staticlib `order_provider`: defines a function that only the OTHER staticlib calls.

#[no_mangle]
pub extern "C" fn provider_value() -> u32 {
    41
}
