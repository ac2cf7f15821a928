/* Stand-in for Windows' bcryptprimitives.dll, which wine 8.0 lacks. Rust's std
 * (windows-gnu and windows-msvc) imports ProcessPrng from it for HashMap keys
 * and other OS randomness. This forwards to advapi32's RtlGenRandom
 * (SystemFunction036), which wine implements.
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 * It only matters for RUNNING exes under wine: linking never uses it (std
 * links the import library from mingw-w64 / rustc's raw-dylib). */
#include <windows.h>
#define SystemFunction036 NTAPI SystemFunction036
#include <ntsecapi.h>
#undef SystemFunction036

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
