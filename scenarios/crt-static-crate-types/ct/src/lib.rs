//! The library side, built as cdylib, staticlib and dylib: one C-callable function that uses
//! std (a heap allocation, so the allocator and with it the C library are linked in).

#[no_mangle]
pub extern "C" fn ct_answer() -> i32 {
    let numbers: Vec<i32> = (1..=6).collect();
    numbers.iter().sum::<i32>() * 2
}
