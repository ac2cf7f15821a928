//! A program that embeds a JVM and is itself the JNI library its Java code loads: the pattern of
//! statically linked JNI libraries (JNI specification, "Library and Version Management"; JEP 178).
//!
//! `Callback.run()` calls `System.loadLibrary("linkmatrix")`. The JVM first looks for
//! `JNI_OnLoad_linkmatrix` in the main program (HotSpot: `dlsym` on the handle of
//! `dlopen(NULL)`); if it finds it, the library is "built in", and native methods such as
//! `Callback.answer` are looked up in the main program too (`Java_Callback_answer`). Both lookups
//! see only what the executable exports dynamically: without `-Z export-executable-symbols` the
//! JVM goes on to search `java.library.path` for `liblinkmatrix.so` and throws.
//!
//! Usage: host CLASSPATH_DIR (the folder holding Callback.class). Prints what happened and exits
//! 0 whether Java got its answer or threw; other failures (no JVM, no class) exit 1.

use jni_sys::{
    jclass, jint, jobject, jvalue, JNIEnv, JNI_CreateJavaVM, JavaVM, JavaVMInitArgs, JavaVMOption,
    JNI_FALSE, JNI_OK, JNI_VERSION_1_8,
};
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;

/// Called by the JVM when Java loads the library `linkmatrix` and finds it built into the
/// program. A statically linked library must return JNI_VERSION_1_8 or later.
#[no_mangle]
pub extern "system" fn JNI_OnLoad_linkmatrix(_vm: *mut JavaVM, _reserved: *mut c_void) -> jint {
    println!("JNI_OnLoad_linkmatrix called");
    JNI_VERSION_1_8
}

/// `static native int answer()` of class `Callback`.
#[no_mangle]
pub extern "system" fn Java_Callback_answer(_env: *mut JNIEnv, _class: jclass) -> jint {
    println!("Java_Callback_answer called");
    42
}

fn fail(message: String) -> ! {
    println!("{message}");
    std::process::exit(1);
}

/// `String.valueOf(throwable)`, through JNI, without letting another exception escape.
unsafe fn describe(env: *mut JNIEnv, throwable: jobject) -> String {
    let f = &**env;
    let class = (f.GetObjectClass.unwrap())(env, throwable);
    let to_string = (f.GetMethodID.unwrap())(
        env,
        class,
        c"toString".as_ptr(),
        c"()Ljava/lang/String;".as_ptr(),
    );
    if to_string.is_null() {
        (f.ExceptionClear.unwrap())(env);
        return "(no toString)".into();
    }
    let text = (f.CallObjectMethodA.unwrap())(env, throwable, to_string, ptr::null());
    if text.is_null() {
        (f.ExceptionClear.unwrap())(env);
        return "(toString failed)".into();
    }
    let chars = (f.GetStringUTFChars.unwrap())(env, text, ptr::null_mut());
    let owned = CStr::from_ptr(chars).to_string_lossy().into_owned();
    (f.ReleaseStringUTFChars.unwrap())(env, text, chars);
    owned
}

unsafe fn embed(class_path: &str) {
    let options: Vec<CString> = [
        format!("-Djava.class.path={class_path}"),
        // no hsperfdata file under /tmp: cells run as an unprivileged user with no network
        "-XX:-UsePerfData".to_string(),
        "-Xmx64m".to_string(),
    ]
    .into_iter()
    .map(|option| CString::new(option).expect("an option without NUL"))
    .collect();
    let mut vm_options: Vec<JavaVMOption> = options
        .iter()
        .map(|option| JavaVMOption {
            optionString: option.as_ptr() as *mut c_char,
            extraInfo: ptr::null_mut(),
        })
        .collect();
    let mut init = JavaVMInitArgs {
        version: JNI_VERSION_1_8,
        nOptions: vm_options.len() as jint,
        options: vm_options.as_mut_ptr(),
        ignoreUnrecognized: JNI_FALSE,
    };
    let mut vm: *mut JavaVM = ptr::null_mut();
    let mut env: *mut JNIEnv = ptr::null_mut();
    let created = JNI_CreateJavaVM(
        &mut vm,
        &mut env as *mut *mut JNIEnv as *mut *mut c_void,
        &mut init as *mut JavaVMInitArgs as *mut c_void,
    );
    if created != JNI_OK {
        fail(format!("JNI_CreateJavaVM failed: {created}"));
    }
    let f = &**env;
    let class = (f.FindClass.unwrap())(env, c"Callback".as_ptr());
    if class.is_null() {
        let throwable = (f.ExceptionOccurred.unwrap())(env);
        (f.ExceptionClear.unwrap())(env);
        fail(format!(
            "cannot find class Callback: {}",
            describe(env, throwable)
        ));
    }
    let run = (f.GetStaticMethodID.unwrap())(env, class, c"run".as_ptr(), c"()I".as_ptr());
    if run.is_null() {
        (f.ExceptionClear.unwrap())(env);
        fail("Callback has no static int run()".into());
    }
    let no_arguments: *const jvalue = ptr::null();
    let answer = (f.CallStaticIntMethodA.unwrap())(env, class, run, no_arguments);
    let throwable = (f.ExceptionOccurred.unwrap())(env);
    if throwable.is_null() {
        println!("Callback.run() = {answer}");
    } else {
        (f.ExceptionClear.unwrap())(env);
        println!("Callback.run() threw {}", describe(env, throwable));
    }
}

fn main() {
    let class_path = std::env::args().nth(1).expect("usage: host CLASSPATH_DIR");
    // Like the java launcher, create the JVM on a new thread rather than the primordial one.
    let worker = std::thread::Builder::new()
        .name("jvm".into())
        .stack_size(8 << 20)
        .spawn(move || unsafe { embed(&class_path) })
        .expect("a thread for the JVM");
    if worker.join().is_err() {
        fail("the JVM thread panicked".into());
    }
    // The JVM is not destroyed: DestroyJavaVM would wait for every non-daemon Java thread.
    std::process::exit(0);
}
