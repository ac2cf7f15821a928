#!/bin/sh
# Build the C static library libfoo.a into $NATIVE (passed to rustc as -L native=$NATIVE).
# The target's C compiler, archiver and flags come from matrix.yaml (env CC, AR, CFLAGS).
set -eu
: "${SRC:?}" "${NATIVE:?}" "${CC:?set CC for this target in matrix.yaml}" "${AR:?set AR for this target in matrix.yaml}"
set -x
$CC ${CFLAGS:-} -c "$SRC/c/foo.c" -o "$NATIVE/foo.o"
$AR rcs "$NATIVE/libfoo.a" "$NATIVE/foo.o"
