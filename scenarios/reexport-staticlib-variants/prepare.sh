#!/bin/sh
# Build the C static library (foo.o: foo; sum.o: sum_ints, vsum_ints) into $NATIVE, which
# rustc gets as -L native=$NATIVE. The target's C compiler, archiver and flags come from
# matrix.yaml (env CC, AR, CFLAGS). The archive has the name the target's linker looks for:
# foo.lib for MSVC (so that `#[link(name = "foo")]` without a kind finds it, as it would
# with a C library built by MSVC tools), libfoo.a elsewhere.
set -eu
: "${SRC:?}" "${NATIVE:?}" "${TARGET:?}" "${CC:?set CC for this target in matrix.yaml}" "${AR:?set AR for this target in matrix.yaml}"
case "$TARGET" in
    *-windows-msvc) archive=foo.lib ;;
    *) archive=libfoo.a ;;
esac
set -x
$CC ${CFLAGS:-} -c "$SRC/c/foo.c" -o "$NATIVE/foo.o"
$CC ${CFLAGS:-} -c "$SRC/c/sum.c" -o "$NATIVE/sum.o"
$AR rcs "$NATIVE/$archive" "$NATIVE/foo.o" "$NATIVE/sum.o"
