/* linkmatrix msvc stand-in CRT (NOT Microsoft's CRT): the DLL entry point.
 * Kept in its own object so that linking a DLL never pulls in main(). */
void __linkmatrix_run_initializers(void);

int __stdcall _DllMainCRTStartup(void *module, unsigned long reason, void *reserved) {
    (void)module; (void)reserved;
    if (reason == 1 /* DLL_PROCESS_ATTACH */)
        __linkmatrix_run_initializers();
    return 1;
}
