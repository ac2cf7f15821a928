//! A small std program that needs its C library for real: a thread (clone/futex through
//! pthreads), the environment, the clock, and a file read through the kernel's /proc. Each line
//! it prints proves one of them worked, so a run's output shows the binary did run.

use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    let worker = std::thread::spawn(|| (1..=10u64).sum::<u64>());
    println!("thread: sum 1..=10 = {}", worker.join().expect("the thread panicked"));

    let variables = std::env::vars_os().count();
    println!("env: {variables} variables, PATH set: {}", std::env::var_os("PATH").is_some());

    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    println!("clock: after 2020: {}", seconds > 1_577_836_800);

    // The executable reads itself: through /proc/self/exe on Linux, a path elsewhere.
    let own_size = std::env::current_exe()
        .and_then(std::fs::File::open)
        .and_then(|mut file| {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map(|_| bytes.len())
        });
    match own_size {
        Ok(size) => println!("file: read own executable, {} bytes > 0: {}", size, size > 0),
        Err(error) => println!("file: cannot read own executable: {error}"),
    }

    // Whether this container has a shell: false only in an empty (FROM scratch) container.
    #[cfg(unix)]
    println!("system: /bin/sh present: {}", std::path::Path::new("/bin/sh").exists());

    println!("static-scratch: done");
}
