/* A variadic C function and its va_list twin (the C idiom that lets a wrapper forward).
   The compiler builtins keep this free of any C library header, so that it builds for
   wasm32-unknown-unknown and for the stand-in MSVC route as well. */
int vsum_ints(int n, __builtin_va_list args) {
    int total = 0;
    for (int i = 0; i < n; i++) total += __builtin_va_arg(args, int);
    return total;
}

int sum_ints(int n, ...) {
    __builtin_va_list args;
    __builtin_va_start(args, n);
    int total = vsum_ints(n, args);
    __builtin_va_end(args);
    return total;
}
