/* linkmatrix msvc stand-in CRT (NOT Microsoft's CRT): the EXE entry point.
 * Rust's std on Windows reads its arguments with GetCommandLineW, so main gets no argv. */
void __linkmatrix_run_initializers(void);
__declspec(dllimport) void __stdcall ExitProcess(unsigned int);
int main(int, char **);

void mainCRTStartup(void) {
    __linkmatrix_run_initializers();
    ExitProcess((unsigned int)main(0, 0));
}
