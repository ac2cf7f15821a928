/* linkmatrix msvc stand-in CRT (NOT Microsoft's CRT): pieces shared by EXEs and DLLs.
 * - the .CRT$XI* / .CRT$XC* initializer tables (C and "C++" constructors; Rust std puts
 *   a few function pointers there), run by the entry points below;
 * - the TLS directory `_tls_used` with `_tls_index` and the .CRT$XL* callback table (Rust
 *   std registers its thread-local destructor callback in .CRT$XLB);
 * - `_fltused`, which every object using floating point references.
 * lld-link sorts grouped sections ($ suffix) alphabetically, so __x?_a / __x?_z bracket
 * whatever the program put in between. */
typedef void (*initfn)(void);
typedef void (__stdcall *tlscb)(void *, unsigned long, void *);

__attribute__((section(".CRT$XIA"), used)) initfn __xi_a = 0;
__attribute__((section(".CRT$XIZ"), used)) initfn __xi_z = 0;
__attribute__((section(".CRT$XCA"), used)) initfn __xc_a = 0;
__attribute__((section(".CRT$XCZ"), used)) initfn __xc_z = 0;

static void run_table(initfn *a, initfn *z) {
    for (initfn *p = a + 1; p < z; ++p)
        if (*p)
            (*p)();
}

void __linkmatrix_run_initializers(void) {
    run_table(&__xi_a, &__xi_z);
    run_table(&__xc_a, &__xc_z);
}

/* Implicit TLS (#[thread_local] on msvc reads _tls_index): the loader copies
 * [_tls_start, _tls_end) for each thread and calls the .CRT$XL* callbacks. */
unsigned long _tls_index = 0;
__attribute__((section(".tls"))) char _tls_start = 0;
__attribute__((section(".tls$ZZZ"))) char _tls_end = 0;
__attribute__((section(".CRT$XLA"), used)) tlscb __xl_a = 0;
__attribute__((section(".CRT$XLZ"), used)) tlscb __xl_z = 0;

typedef struct {
    unsigned long long StartAddressOfRawData, EndAddressOfRawData, AddressOfIndex, AddressOfCallBacks;
    unsigned long SizeOfZeroFill, Characteristics;
} IMAGE_TLS_DIRECTORY64;

/* lld-link fills the PE TLS data directory from the symbol named _tls_used. */
const IMAGE_TLS_DIRECTORY64 _tls_used = {
    (unsigned long long)&_tls_start, (unsigned long long)&_tls_end,
    (unsigned long long)&_tls_index, (unsigned long long)(&__xl_a + 1), 0, 0,
};

int _fltused = 0x9875;
