#!/usr/bin/env bash
# Builds the .deb and the .rpm into target/packages/ from a clean checkout, and prints their
# sizes and how long each step took.
#
# 1. `cargo build --profile $PROFILE` (default `dist`: stripped, LTO, one codegen unit); its
#    build.rs generates the man page and the bash, zsh and fish completions from the clap
#    definitions into $OUT_DIR/assets/.
# 2. Those are copied to target/assets/ (the man page gzipped), where the asset lists in
#    Cargo.toml ([package.metadata.deb], [package.metadata.generate-rpm]) expect them.
# 3. cargo-deb and cargo-generate-rpm package the build; they are installed with
#    `cargo install --locked` when missing.
#
# Usage: bash packaging/build-packages.sh
#        PROFILE=release bash packaging/build-packages.sh   # faster build, for CI
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${PROFILE:-dist}
bin=docker-credential-ecr-login
assets=target/assets
out=target/packages

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

# cargo-deb computes the .deb's Depends with it, and leaves them out (with a warning) without.
if ! command -v dpkg-shlibdeps >/dev/null; then
  echo "build-packages: needs dpkg-shlibdeps: apt-get install dpkg-dev" >&2
  exit 1
fi
# The .deb's version is Cargo.toml's with revision 1; its changelog must have that entry on top.
version=$(grep -m1 '^version = ' Cargo.toml | sed 's/^version = "\(.*\)"$/\1/')
changelog=$(dpkg-parsechangelog -l packaging/deb/changelog -S Version)
if [ "$changelog" != "$version-1" ]; then
  echo "build-packages: packaging/deb/changelog is at $changelog; add an entry for $version-1" >&2
  exit 1
fi
for tool in cargo-deb cargo-generate-rpm; do
  if ! command -v "$tool" >/dev/null; then
    echo "installing $tool" >&2
    cargo install --locked "$tool"
  fi
done

t0=$(now)
mkdir -p target
messages=target/build-packages-messages.json
cargo build --locked --profile "$profile" --bins \
  --message-format=json-render-diagnostics >"$messages"
# The front binary, which Docker execs on every pull, ships static (musl): no dynamic
# loader, no libc to relocate, so a cache hit costs less than starting /bin/true.
musl=x86_64-unknown-linux-musl
rustup target list --installed 2>/dev/null | grep -qx "$musl" || rustup target add "$musl"
cargo build --locked --profile "$profile" -p ecr-login-front --target "$musl"
cp "target/$musl/$profile/$bin" "target/$profile/$bin"
build_time=$(elapsed "$t0")

# The build script's output directory, from cargo's own report rather than a glob over
# target/*/build/, which may hold stale directories from earlier builds.
out_dir=$(grep '"reason":"build-script-executed"' "$messages" |
  grep -o '"out_dir":"[^"]*/build/ecr-login-[0-9a-f]*/out"' |
  sed 's/^"out_dir":"//; s/"$//' | tail -n 1)
if [ -z "$out_dir" ] || [ ! -d "$out_dir/assets" ]; then
  echo "build-packages: cannot find the man page and completions build.rs generates" >&2
  exit 1
fi
rm -rf "$assets"
mkdir -p "$assets"
cp "$out_dir"/assets/* "$assets"/
# -n: no name or time stamp in the header, so the same page gives the same bytes.
gzip -9n "$assets/$bin.1"

rm -rf "$out"
mkdir -p "$out"
t1=$(now)
# File times in the packages: the last commit's. Set for these two steps only: aws-lc-sys's
# build script watches SOURCE_DATE_EPOCH, so a new value for `cargo build` rebuilds everything.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
SOURCE_DATE_EPOCH=$epoch cargo deb --locked --no-build --profile "$profile" --output "$out/" >/dev/null
deb_time=$(elapsed "$t1")
t2=$(now)
SOURCE_DATE_EPOCH=$epoch cargo generate-rpm --profile "$profile" --output "$out/" >/dev/null
rpm_time=$(elapsed "$t2")

target_dir=$(cargo metadata --format-version 1 --no-deps | grep -o '"target_directory":"[^"]*"' |
  sed 's/^"target_directory":"//; s/"$//')
deb=$(ls "$out"/*.deb)
rpm=$(ls "$out"/*.rpm)
kib() { awk -v n="$1" 'BEGIN { printf "%.0f KiB", n / 1024 }'; }
row() { printf '%-30s %s\n' "$1" "$2"; }
row "binary ($profile profile)" "$(kib "$(stat -c %s "$target_dir/$profile/$bin")")"
row "$(basename "$deb")" "$(kib "$(stat -c %s "$deb")"), installed $(dpkg-deb -f "$deb" Installed-Size) KiB"
rpm_installed=""
if command -v rpm >/dev/null; then
  rpm_installed=", installed $(kib "$(rpm -qp --queryformat '%{SIZE}' "$rpm")")"
fi
row "$(basename "$rpm")" "$(kib "$(stat -c %s "$rpm")")$rpm_installed"
row "time" "cargo build $build_time, cargo deb $deb_time, cargo generate-rpm $rpm_time, total $(elapsed "$t0")"
