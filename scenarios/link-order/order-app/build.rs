//! Only the search paths: each artifact names the two libraries itself, in its own order, with
//! `-l static=…` rustc arguments (which is what cargo makes of a build script's
//! `cargo:rustc-link-lib=static=…` lines: rustc hands them to the linker in the order given).
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=ARTIFACTS");
    let artifacts = env::var("ARTIFACTS").expect("ARTIFACTS (set by linkmatrix for every build)");
    for artifact in ["provider", "consumer"] {
        let dir = format!("{artifacts}/{artifact}");
        // the folder is refilled in every cell: relink whenever its files change
        println!("cargo:rerun-if-changed={dir}");
        println!("cargo:rustc-link-search=native={dir}");
    }
}
