//! Link the two staticlibs built before this crate: linkmatrix copies each artifact's files to
//! `$ARTIFACTS/<artifact name>/`. This is what a user's build script does with prebuilt
//! libraries: a native search path and `static=` link directives (cargo passes them to rustc
//! as `-L native=…` and `-l static=…`, in this order).
//! Shared by package `counter-app` (artifacts counter-a, counter-b) and `counter-app-lto`
//! (artifacts counter-a-lto, counter-b-lto).
use std::env;

fn main() {
    println!("cargo:rerun-if-env-changed=ARTIFACTS");
    let artifacts = env::var("ARTIFACTS").expect("ARTIFACTS (set by linkmatrix for every build)");
    let package = env::var("CARGO_PKG_NAME").expect("set by cargo");
    let suffix = package.strip_prefix("counter-app").expect("counter-app or counter-app-lto");
    for (artifact, lib) in [("counter-a", "counter_a"), ("counter-b", "counter_b")] {
        let dir = format!("{artifacts}/{artifact}{suffix}");
        // the folder is refilled in every cell: relink whenever its files change
        println!("cargo:rerun-if-changed={dir}");
        println!("cargo:rustc-link-search=native={dir}");
        println!("cargo:rustc-link-lib=static={lib}");
    }
}
