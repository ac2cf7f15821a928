/* linkmatrix msvc stand-in CRT (NOT Microsoft's CRT): __chkstk for x86_64.
 * The body of compiler-rt's ___chkstk_ms: touch every 4 KiB page between rsp and
 * rsp - rax so the guard page grows the stack in order. Like MSVC's __chkstk it
 * does not move rsp; the caller subtracts rax itself. */
        .text
        .globl  __chkstk
        .p2align 4
__chkstk:
        push    %rcx
        push    %rax
        cmp     $0x1000, %rax
        lea     24(%rsp), %rcx
        jb      1f
2:
        sub     $0x1000, %rcx
        test    %rcx, (%rcx)
        sub     $0x1000, %rax
        cmp     $0x1000, %rax
        ja      2b
1:
        sub     %rax, %rcx
        test    %rcx, (%rcx)
        pop     %rax
        pop     %rcx
        ret
