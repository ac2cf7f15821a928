//! Two lookups that go through glibc's Name Service Switch (NSS): a host name
//! (`getaddrinfo`, through `std::net::ToSocketAddrs`) and the current user's passwd entry
//! (`getpwuid_r`, declared here as a C program would include <pwd.h>). In a statically linked
//! glibc program NSS still loads its modules (libnss_*.so) at run time, which is what GNU ld's
//! warning on these functions is about. Each result is printed, failures included.

use std::ffi::{c_char, c_int, CStr};
use std::net::ToSocketAddrs;

/// `struct passwd` of glibc and musl on x86_64 Linux.
#[repr(C)]
struct Passwd {
    pw_name: *mut c_char,
    pw_passwd: *mut c_char,
    pw_uid: u32,
    pw_gid: u32,
    pw_gecos: *mut c_char,
    pw_dir: *mut c_char,
    pw_shell: *mut c_char,
}

extern "C" {
    fn getuid() -> u32;
    fn getpwuid_r(
        uid: u32,
        pwd: *mut Passwd,
        buf: *mut c_char,
        buflen: usize,
        result: *mut *mut Passwd,
    ) -> c_int;
}

fn lookup_host(name: &str) {
    match (name, 80).to_socket_addrs() {
        Ok(addresses) => {
            let mut ips: Vec<String> = addresses.map(|a| a.ip().to_string()).collect();
            ips.sort();
            ips.dedup();
            println!("getaddrinfo({name}): {}", ips.join(" "));
        }
        Err(error) => println!("getaddrinfo({name}) failed: {error}"),
    }
}

fn lookup_user() {
    let uid = unsafe { getuid() };
    let mut entry = std::mem::MaybeUninit::<Passwd>::uninit();
    let mut buffer = vec![0 as c_char; 4096];
    let mut found: *mut Passwd = std::ptr::null_mut();
    let status = unsafe {
        getpwuid_r(uid, entry.as_mut_ptr(), buffer.as_mut_ptr(), buffer.len(), &mut found)
    };
    if status != 0 {
        println!("getpwuid_r({uid}) failed: error {status}");
    } else if found.is_null() {
        println!("getpwuid_r({uid}): no entry");
    } else {
        let name = unsafe { CStr::from_ptr((*found).pw_name) };
        println!("getpwuid_r({uid}): {}", name.to_string_lossy());
    }
}

fn main() {
    // What the lookups have to go on: these files exist in a Debian container, and in an empty
    // one only where the container engine mounts them (/etc/hosts, /etc/resolv.conf).
    for file in ["/etc/nsswitch.conf", "/etc/hosts", "/etc/passwd"] {
        println!("{file} present: {}", std::path::Path::new(file).exists());
    }
    lookup_host("localhost");
    lookup_user();
    println!("crt-static-nss: done");
}
