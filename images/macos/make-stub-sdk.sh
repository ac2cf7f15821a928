#!/bin/sh
# Make linkmatrix's STUB macOS SDK (not Apple's SDK) from the libSystem.tbd that PyPI's
# ziglang wheel ships (ziglang/lib/libc/darwin/libSystem.tbd, TAPI v4, one document per
# re-exported /usr/lib/system dylib).
#   usage: make-stub-sdk.sh WHEEL SDKDIR
# LLVM 22's TAPI reader rejects zig's file as is, so it is patched (GNU sed -z: the whole
# file is one pattern space, so the rules work across the wrapped YAML flow lists):
#   1. drop the arm64e.x1-macos / arm64e.x1-maccatalyst targets ("unknown architecture");
#   2. zig lists arm64e-macos but not plain arm64-macos, which rustc's aarch64-apple-darwin
#      objects are: add arm64-macos wherever arm64e-macos is listed;
#   3. dedupe "arm64-macos, arm64-macos" (lists that already had arm64-macos) and drop the
#      trailing commas that step 1 leaves before "]".
# Without the dedupe in rule 3 the output is byte-identical to the Python recipe of
# /work/shared/toolchains.md (checked); the dedupe only drops 8 repeated "arm64-macos".
# Then libc/libm/libpthread/libdl/libiconv/libresolv.tbd point at libSystem.tbd (std links
# -lc -lm ...; on macOS they are all libSystem), and SDKSettings.json names the version clang
# stamps into LC_BUILD_VERSION (sdk 14.0: an arbitrary, stated value; no Apple SDK is here).
set -eu
wheel=${1:?usage: make-stub-sdk.sh WHEEL SDKDIR}
sdk=${2:?usage: make-stub-sdk.sh WHEEL SDKDIR}
tbd=ziglang/lib/libc/darwin/libSystem.tbd
mkdir -p "$sdk/usr/lib" "$sdk/usr/include"
unzip -p "$wheel" "$tbd" > "$sdk/usr/lib/libSystem.tbd.zig"
sed -z -E \
    -e 's/arm64e\.x1-(macos|maccatalyst),?[[:space:]]*//g' \
    -e 's/arm64e-macos/arm64-macos, arm64e-macos/g' \
    -e 's/arm64-macos, arm64-macos/arm64-macos/g' \
    -e 's/,[[:space:]]*\]/ ]/g' \
    "$sdk/usr/lib/libSystem.tbd.zig" > "$sdk/usr/lib/libSystem.tbd"
rm "$sdk/usr/lib/libSystem.tbd.zig"
if grep -q 'arm64e\.x1' "$sdk/usr/lib/libSystem.tbd"; then
    echo "make-stub-sdk.sh: arm64e.x1 targets left in libSystem.tbd" >&2; exit 1
fi
for lib in c m pthread dl iconv resolv; do
    ln -sf libSystem.tbd "$sdk/usr/lib/lib$lib.tbd"
done
# clang-22 ignores an SDKSettings.json without MaximumDeploymentTarget ("SDK settings were
# ignored as 'SDKSettings.json' could not be parsed", and the sdk version then falls back to
# the deployment target) and aborts without a known CanonicalName.
printf '{"CanonicalName":"macosx14.0","DisplayName":"linkmatrix stub SDK (zig libSystem.tbd, not Apple)","Version":"14.0","MaximumDeploymentTarget":"14.0.99"}\n' \
    > "$sdk/SDKSettings.json"
printf '%s\n' \
    "linkmatrix STUB macOS SDK: NOT Apple's SDK." \
    "usr/lib/libSystem.tbd is zig's (from $(basename "$wheel")), patched by make-stub-sdk.sh." \
    "There are no headers: enough to link Rust std and plain C, nothing that includes <...>." \
    > "$sdk/README"
# The patched stub must parse with LLVM 22's TAPI reader for both architectures
# (zig's original fails here with "unknown architecture").
for arch in arm64 x86_64; do
    llvm-readtapi-22 -extract --arch="$arch" "$sdk/usr/lib/libSystem.tbd" -o "$sdk/.check.tbd"
done
rm -f "$sdk/.check.tbd"
