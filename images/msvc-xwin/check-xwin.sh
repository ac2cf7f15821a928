#!/bin/sh
# linkmatrix msvc-xwin: check the user-supplied xwin output copied into $1 (the Dockerfile
# ADDs images/msvc-xwin/fetched/xwin/ or fetched/xwin.tar* there) and record what it holds.
# Expected layout: what `xwin --accept-license splat --output DIR` writes, which is also what
# cargo-xwin keeps in ~/.cache/cargo-xwin/xwin/ (same layout, plus a DONE file):
#   crt/lib/x86_64/{msvcrt,vcruntime}.lib                   (MSVC CRT, Microsoft's)
#   sdk/lib/ucrt/x86_64/ucrt.lib                            (Universal CRT, Windows SDK)
#   sdk/lib/um/x86_64/{kernel32,ntdll,userenv,ws2_32,dbghelp}.lib  (Windows SDK import libs)
#   crt/include, sdk/include/{ucrt,um,shared}               (headers, for C code)
set -eu
dir=${1:?usage: check-xwin.sh DIR}
missing=""
for f in crt/lib/x86_64/msvcrt.lib crt/lib/x86_64/vcruntime.lib \
         sdk/lib/ucrt/x86_64/ucrt.lib \
         sdk/lib/um/x86_64/kernel32.lib sdk/lib/um/x86_64/ntdll.lib sdk/lib/um/x86_64/userenv.lib \
         sdk/lib/um/x86_64/ws2_32.lib sdk/lib/um/x86_64/dbghelp.lib \
         crt/include/vcruntime.h sdk/include/ucrt/stdio.h sdk/include/um/windows.h; do
    [ -e "$dir/$f" ] || missing="$missing $f"
done
if [ -n "$missing" ]; then
    cat >&2 <<MSG
msvc-xwin: no usable xwin output in the build context (missing:$missing).
This image needs Microsoft's CRT and Windows SDK, which linkmatrix never downloads or
redistributes. On a machine that can reach Microsoft's servers, accept the license and run
either
    xwin --accept-license --arch x86_64 splat --output <DIR>
or  cargo xwin build --target x86_64-pc-windows-msvc   (then <DIR> = ~/.cache/cargo-xwin/xwin)
and place <DIR>'s contents as images/msvc-xwin/fetched/xwin/ (crt/ and sdk/ directly inside),
or a tarball of them as images/msvc-xwin/fetched/xwin.tar.gz (or .tar.xz), before building.
MSG
    exit 1
fi
# Provenance: which CRT / SDK versions went into this image (xwin keeps no version file; the
# header macros say it).
{
    echo "xwin output supplied by the user (Microsoft CRT + Windows SDK, not redistributable)"
    grep -h -m1 -E '#define _VC_CRT_BUILD_VERSION |#define _VC_CRT_MAJOR_VERSION |#define _VC_CRT_MINOR_VERSION ' \
        "$dir/crt/include/crtversion.h" 2>/dev/null || true
    grep -h -m1 -E '#define WDK_NTDDI_VERSION' "$dir/sdk/include/shared/sdkddkver.h" 2>/dev/null || true
    [ -f "$dir/DONE" ] && echo "cargo-xwin DONE: $(cat "$dir/DONE")"
    echo "libraries:"
    (cd "$dir" && find crt/lib sdk/lib -name '*.lib' -type f | sort | xargs sha256sum)
} > "$dir/MANIFEST"
grep -v '^[0-9a-f]\{64\} ' "$dir/MANIFEST"
echo "$(grep -c '^[0-9a-f]\{64\} ' "$dir/MANIFEST") .lib files recorded in $dir/MANIFEST"
