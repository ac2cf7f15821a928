"""A target's std, built once into a sysroot that plain stable cargo uses, as rustup's. Pure.

`rustup target add` gives a stable user a prebuilt std in `<sysroot>/lib/rustlib/<target>/lib`;
Debian ships none for a cross target. So std is built here once per (image, std configuration)
with `-Zbuild-std` (the one step that needs RUSTC_BOOTSTRAP=1, as rust's own bootstrap builds
std with it), its rlibs copied into a sysroot in the image's cache volume, and every scenario
crate is then built by plain `cargo --target T` with `--sysroot` in RUSTFLAGS: a stable rustc,
its defaults (legacy symbol mangling on 1.96) and its refusals (`-Z` options) as a user meets
them. Std's own crates.io dependencies are resolved by the std build alone, so a scenario's
vendored crates no longer change them.
"""

from __future__ import annotations

import hashlib
import json

from orchestrator.config.matrix import TargetSpec

CACHE_ROOT = "/cache"
SYSROOTS = f"{CACHE_ROOT}/sysroots"
# Bumped when the script below changes what a sysroot holds: a new key, a fresh build.
RECIPE_VERSION = "1"


def std_crates(target: TargetSpec) -> tuple[str, ...]:
    """The crates `-Zbuild-std` builds: the target's, plus panic_abort beside std.

    A rustup sysroot holds both panic runtimes; without panic_abort an artifact asking for
    `-C panic=abort` on an unwinding target would fail for want of a file, not of a feature.
    """
    crates = list(target.build_std)
    if "std" in crates and "panic_abort" not in crates:
        crates.append("panic_abort")
    return tuple(crates)


def std_key(target: TargetSpec) -> str:
    """Everything that changes the std of a target: one sysroot per distinct set.

    The image (so the rustc release) is the cache volume's own key; here: the triple, the crates
    and features, the panic strategy, the target's rustflags (`-C target-feature=-crt-static`,
    `-C target-cpu`, ... change std's code) and its environment (CC and CFLAGS reach build
    scripts of std's dependencies). The linker flags among them change nothing in an rlib, but
    telling them apart would be a guess; a few extra builds are the price of never sharing wrong.
    """
    text = json.dumps(
        [
            RECIPE_VERSION,
            target.triple,
            std_crates(target),
            target.build_std_features,
            target.panic,
            target.rustflags,
            target.env,
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def sysroot_dir(target: TargetSpec) -> str:
    """Where the target's sysroot lives in the image's cache volume."""
    return f"{SYSROOTS}/{std_key(target)}"


def sysroot_rustflags(target: TargetSpec) -> tuple[str, ...]:
    """The target's rustflags for a scenario crate: its own, then the sysroot that holds std."""
    if not target.build_std:
        return target.rustflags
    return (*target.rustflags, "--sysroot", sysroot_dir(target))


# $1 sysroot, $2 triple, $3 crates, $4 features, $5 panic ("" for the target's default).
# Built in a temp dir beside the sysroot and renamed into place: a cell killed half-way leaves
# no half sysroot, and two containers racing for one key both end with a whole one. Run as root
# (runner.ensure_std) in /cache/sysroots, which the image makes root's: the cells read it only.
_SCRIPT = r"""
set -eu
dest="$1"; triple="$2"; crates="$3"; features="$4"; panic="$5"
if [ -f "$dest/COMPLETE" ]; then echo "PRESENT $dest"; exit 0; fi
parent="$(dirname "$dest")"; mkdir -p "$parent"
tmp="$(mktemp -d "$parent/.building-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/crate/src"
{
  printf '[package]\nname = "linkmatrix-sysroot"\nversion = "0.0.0"\nedition = "2021"\n'
  printf '[lib]\npath = "src/lib.rs"\n'
  if [ -n "$panic" ]; then printf '[profile.release]\npanic = "%s"\n' "$panic"; fi
} > "$tmp/crate/Cargo.toml"
echo '#![no_std]' > "$tmp/crate/src/lib.rs"
set -- -Zbuild-std="$crates"
if [ -n "$features" ]; then set -- "$@" -Zbuild-std-features="$features"; fi
# run as root (the sysroot is read-only to the cells): a CARGO_HOME of its own, with the
# release's config (its std vendor directory), so it leaves no root-owned lock in the shared one
mkdir -p "$tmp/cargo-home"
cp "${CARGO_HOME:?}/config.toml" "$tmp/cargo-home/config.toml"
echo "+ RUSTC_BOOTSTRAP=1 RUSTFLAGS='${RUSTFLAGS:-}'" \
  "cargo build --offline --release --target $triple $*"
CARGO_HOME="$tmp/cargo-home" RUSTC_BOOTSTRAP=1 cargo build --offline --release \
  --target "$triple" "$@" --manifest-path "$tmp/crate/Cargo.toml" --target-dir "$tmp/target"
real="$(rustc --print sysroot)"
host="$(rustc -vV | sed -n 's/^host: //p')"
lib="$tmp/sysroot/lib/rustlib/$triple/lib"
mkdir -p "$lib"
for rlib in "$tmp/target/$triple/release/deps/"*.rlib; do
  case "$(basename "$rlib")" in liblinkmatrix_sysroot-*) ;; *) cp -p "$rlib" "$lib/" ;; esac
done
# objects the release's own sysroot holds for the target (1.85's rsbegin.o/rsend.o of windows-gnu)
for object in "$real/lib/rustlib/$triple/lib/"*.o; do
  if [ -f "$object" ]; then cp -p "$object" "$lib/"; fi
done
# the host's std, proc_macro and tools (rust-lld), as in a rustup sysroot
if [ "$host" != "$triple" ]; then
  ln -s "$real/lib/rustlib/$host" "$tmp/sysroot/lib/rustlib/$host"
fi
rustc -vV > "$tmp/sysroot/COMPLETE"
ls "$lib"
if mv -T "$tmp/sysroot" "$dest" 2>/dev/null; then echo "BUILT $dest"; else echo "PRESENT $dest"; fi
"""


def std_build_command(target: TargetSpec) -> tuple[str, ...]:
    """The std step: build the target's sysroot unless it exists; last line BUILT or PRESENT."""
    return (
        "sh",
        "-c",
        _SCRIPT,
        "linkmatrix-std",
        sysroot_dir(target),
        target.triple,
        ",".join(std_crates(target)),
        ",".join(target.build_std_features),
        target.panic or "",
    )


def std_build_env(target: TargetSpec) -> dict[str, str]:
    """The std build's environment: the target's own, its rustflags as the artifacts get them."""
    env = dict(target.env)
    if target.rustflags:
        env["RUSTFLAGS"] = " ".join(target.rustflags)
    return env


def std_was_built(stdout: str) -> bool | None:
    """True: the script built std; False: it found it; None: it said neither (it failed)."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    if last.startswith("BUILT "):
        return True
    if last.startswith("PRESENT "):
        return False
    return None
