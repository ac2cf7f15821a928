//! Link the host executable against the JVM of Debian's openjdk-17-jdk-headless (images/glibc),
//! and find it at run time through an rpath: libjvm.so is in no directory ld.so searches.

use std::path::Path;

const JVM_DIR: &str = "/usr/lib/jvm/java-17-openjdk-amd64/lib/server";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=ARTIFACTS");
    let libjvm = Path::new(JVM_DIR).join("libjvm.so");
    assert!(
        libjvm.is_file(),
        "{} is missing: this scenario needs the JDK of the glibc image",
        libjvm.display()
    );
    println!("cargo:rustc-link-search=native={JVM_DIR}");
    println!("cargo:rustc-link-lib=dylib=jvm");
    println!("cargo:rustc-link-arg-bins=-Wl,-rpath,{JVM_DIR}");
}
