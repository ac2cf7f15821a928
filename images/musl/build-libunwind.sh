#!/bin/sh
# Build a musl libunwind.a from the LLVM libunwind sources bundled in the
# ziglang wheel, with Debian's clang-22 against Debian's musl headers.
# Flags follow rust's bootstrap (src/bootstrap/src/core/build_steps/llvm.rs,
# step Libunwind), which makes the libunwind.a that rustup ships in the musl
# self-contained dir: hidden visibility, unwind tables, native-only, -fPIC
# (the same archive is linked into static-pie exes and musl cdylibs).
# Usage: build-libunwind.sh WHEEL OUT_DIR
set -eu
wheel=$1 out=$2
work=$(mktemp -d)
unzip -q "$wheel" 'ziglang/lib/libunwind/*' -d "$work"
src=$work/ziglang/lib/libunwind
musl_inc=/usr/include/x86_64-linux-musl
common="--target=x86_64-linux-musl -nostdlibinc -isystem $musl_inc -I$src/include -O2 -fPIC \
  -funwind-tables -fvisibility=hidden -fstrict-aliasing -D_LIBUNWIND_DISABLE_VISIBILITY_ANNOTATIONS \
  -D_LIBUNWIND_IS_NATIVE_ONLY -DNDEBUG"
cd "$work"
set -x
for f in libunwind.cpp Unwind-EHABI.cpp Unwind-seh.cpp; do
  clang-22 $common -std=c++17 -nostdinc++ -fno-exceptions -fno-rtti \
    -fvisibility-global-new-delete=force-hidden -c "$src/src/$f" -o "${f%.cpp}.o"
done
for f in UnwindLevel1.c UnwindLevel1-gcc-ext.c Unwind-sjlj.c; do
  clang-22 $common -std=c99 -c "$src/src/$f" -o "${f%.c}.o"
done
for f in UnwindRegistersRestore.S UnwindRegistersSave.S; do
  clang-22 $common -c "$src/src/$f" -o "${f%.S}.o"
done
mkdir -p "$out"
llvm-ar-22 rcs "$out/libunwind.a" *.o
{ set +x; } 2>/dev/null
# Only libc symbols may stay undefined (no glibc *_chk functions, no C++ runtime).
llvm-nm-22 --defined-only "$out/libunwind.a" | awk 'NF==3 {print $3}' | sort -u > defined
llvm-nm-22 -u "$out/libunwind.a" | awk 'NF==2 {print $2}' | sort -u > undefined
needs=$(comm -23 undefined defined | tr '\n' ' ')
echo "libunwind.a needs from libc: $needs"
case " $needs" in
  *_chk\ *|*" _Z"*|*" __cxa"*) echo "error: libunwind.a needs glibc or C++ runtime symbols" >&2; exit 1 ;;
esac
rm -rf "$work"
