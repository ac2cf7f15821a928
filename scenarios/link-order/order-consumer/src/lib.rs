//! Staticlib `order_consumer`: calls `provider_value`, which it leaves undefined
//! (order_provider defines it).

extern "C" {
    fn provider_value() -> u32;
}

#[no_mangle]
pub extern "C" fn consumer_value() -> u32 {
    unsafe { provider_value() + 1 }
}
