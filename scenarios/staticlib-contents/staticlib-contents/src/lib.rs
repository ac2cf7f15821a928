//! A staticlib whose archive is inspected, not linked: what members does rustc put in it, which
//! symbols do they define, and which do they leave undefined for the final link?
//! One item of each kind a C user of the library meets: a function, read-only data, writable
//! data, and a function the library expects its user to provide.

/// Read-only data under its C name (`const uint32_t CONTENTS_TABLE[4]` in a header).
#[no_mangle]
pub static CONTENTS_TABLE: [u32; 4] = [2, 3, 5, 7];

/// Writable data under its C name (zero-initialised).
#[no_mangle]
pub static mut CONTENTS_CALLS: u32 = 0;

extern "C" {
    /// Provided by whoever links the library: stays undefined in the archive.
    fn contents_user_hook(value: u32) -> u32;
}

/// A function: sums the table, counts the call, prints through std (so std's I/O and the
/// platform's write function are reachable), and hands the sum to the user's hook.
#[no_mangle]
pub extern "C" fn contents_sum() -> u32 {
    let sum: u32 = CONTENTS_TABLE.iter().sum();
    unsafe {
        CONTENTS_CALLS += 1;
    }
    println!("contents_sum() = {sum}");
    unsafe { contents_user_hook(sum) }
}
