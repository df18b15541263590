#!/usr/bin/env bash
# Installs ecr-login from this checkout for the current user and points Docker at it:
# both binaries into ~/.cargo/bin (cargo install), stripped, then `configure --store`, which
# makes ecr-login Docker's credsStore: every ECR registry works with no per-registry entry,
# and the credsStore it replaces (if any) keeps every other registry's logins. Nothing
# prompts; it ends by saying where the binaries went and what to run next.
# Usage: bash packaging/install.sh        (Linux and macOS; Windows: see the README)
#        PROFILE=release bash packaging/install.sh   (unstripped, with line tables: debuggable)
# CARGO_INSTALL_ROOT and CARGO_TARGET_DIR are honoured, as cargo install does.
set -euo pipefail
cd "$(dirname "$0")/.."
# Cargo.toml's `dist` profile, as the packages ship: optimised with LTO, stripped (issue 32:
# `release` keeps line tables for debugging and came to 119 MB). Measured against release
# stripped without LTO (benches/install-profiles.sh, two runs each): less CPU time in all
# (560-590 s against 710-770 s: with LTO the dependencies are compiled to bitcode only, and
# machine code is made once, for what the binary uses), about the same wall time on two
# cores, up to a minute more on many (its last step, LTO of the full binary, takes ~100 s on
# one core), and 11 MB against 17 MB for the full binary.
profile=${PROFILE:-dist}
bin=${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin
install() { cargo install --locked --profile "$profile" "$@"; }

# The front binary answers every cache hit, so it is linked static where the host allows:
# no dynamic loader and no libc to relocate, most of a hit's cost (benches/channels.sh). For
# musl when that target is installed, as the .deb and .rpm ship it; else for glibc
# (crt-static: it does no name lookups, so glibc's static-linking caveats do not apply).
# --target keeps the flag off build scripts. macOS has no static libc: built as usual.
host=$(rustc -vV | sed -n 's/^host: //p')
front=
case "$host" in
  *-linux-gnu)
    musl=${host%-gnu}-musl
    if rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
      if install --path crates/front --target "$musl"; then
        front="static, $musl"
      else
        echo "install: the $musl build failed (above); building the front binary static for glibc instead" >&2
      fi
    fi
    if [ -z "$front" ]; then
      RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
        install --path crates/front --target "$host"
      front="static, glibc"
    fi
    ;;
  *)
    install --path crates/front
    front="dynamic"
    ;;
esac
install --path .

# With $bin on PATH for this one call: configure's own "not on PATH" advice would send the
# user back here; the line below says what to add instead. Everything this script says goes
# to stderr, as cargo's own output does.
PATH="$bin:$PATH" "$bin/docker-credential-ecr-login" configure --store >&2

size() { wc -c <"$1" | awk '{ printf "%.1f MB", $1 / 1e6 }'; }
{
  echo "install: done, profile $profile, into $bin:"
  echo "  docker-credential-ecr-login  $(size "$bin/docker-credential-ecr-login")  (the front binary, $front)"
  echo "  ecr-login                    $(size "$bin/ecr-login")  (the full binary, for misses and commands)"
  case ":$PATH:" in
    *":$bin:"*) ;;
    *) echo "install: add $bin to PATH, so that Docker finds docker-credential-ecr-login" ;;
  esac
  echo "install: next, optionally, the renewal daemon as your user's service:"
  echo "  docker-credential-ecr-login configure --service"
} >&2
