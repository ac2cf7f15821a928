//! A Rust binary linking two separately built Rust staticlibs: counter_a defines
//! `SHARED_COUNTER` and `bump_a`, counter_b declares the global and defines `bump_b`.
//! If the program holds ONE global, bump_a, bump_b, bump_a count 1, 2, 3.

extern "C" {
    fn bump_a() -> u32;
    fn bump_b() -> u32;
    static mut SHARED_COUNTER: u32;
}

/// The whole sequence, callable by name where there is no `main` to run (wasm32-unknown-unknown
/// exports an executable's #[no_mangle] functions).
#[no_mangle]
pub extern "C" fn count_three_bumps() -> u32 {
    unsafe {
        bump_a();
        bump_b();
        bump_a();
        SHARED_COUNTER
    }
}

fn main() {
    unsafe {
        println!("bump_a() = {}", bump_a());
        println!("bump_b() = {}", bump_b());
        println!("bump_a() = {}", bump_a());
        let counter = SHARED_COUNTER; // a copy: formatting it in place would borrow a static mut
        println!("SHARED_COUNTER = {counter}");
    }
}
