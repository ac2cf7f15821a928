#!/bin/sh
# linkmatrix macos-sdk: check the user-supplied macOS SDK that the Dockerfile's ADD unpacked
# into $1 (from images/macos-sdk/fetched/sdk/MacOSX<version>.sdk.tar.xz, osxcross style), and
# point $1/MacOSX.sdk at it so that SDKROOT in matrix.yaml does not depend on the version.
set -eu
dir=${1:?usage: install-sdk.sh DIR}
cd "$dir"
set -- $(ls -d MacOSX*.sdk 2>/dev/null | grep -v '^MacOSX\.sdk$' || true)
if [ $# -ne 1 ]; then
    cat >&2 <<MSG
macos-sdk: expected exactly one macOS SDK in the build context, found $#${1:+ ($*)}.
This image needs Apple's macOS SDK, which linkmatrix never downloads or redistributes (Apple's
Xcode license). On a Mac with Xcode or the Command Line Tools, package it the osxcross way, e.g.
    git clone https://github.com/tpoechtrager/osxcross && osxcross/tools/gen_sdk_package.sh
(or: tar -C "\$(xcrun --sdk macosx --show-sdk-path)/.." -cJf MacOSX<ver>.sdk.tar.xz MacOSX<ver>.sdk
 where MacOSX<ver>.sdk is the real directory, not the MacOSX.sdk symlink), and place the one
tarball as images/macos-sdk/fetched/sdk/MacOSX<ver>.sdk.tar.xz (.tar.gz/.tar.bz2 also work;
its top-level directory must be MacOSX<ver>.sdk) before building.
MSG
    exit 1
fi
sdk=$1
for f in SDKSettings.json usr/lib/libSystem.tbd; do
    if [ ! -e "$sdk/$f" ]; then echo "macos-sdk: $sdk has no $f: not a macOS SDK" >&2; exit 1; fi
done
ln -sfn "$sdk" MacOSX.sdk
version=$(sed -n 's/.*"Version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$sdk/SDKSettings.json" | head -n1)
echo "macOS SDK supplied by the user: $sdk (SDKSettings.json Version ${version:-unknown})" > README
# LLVM 22 must read its libSystem.tbd for both architectures linkmatrix targets.
for arch in arm64 x86_64; do
    llvm-readtapi-22 -extract --arch="$arch" "$sdk/usr/lib/libSystem.tbd" -o /tmp/check.tbd
done
rm -f /tmp/check.tbd
cat README
