#!/usr/bin/env bash
# A Linux or macOS release archive (Windows: packaging/windows/build-zip.sh): both binaries,
# the man page and the bash, zsh and fish completions that build.rs generates, the systemd
# user unit (Linux), the README and the license, under ecr-login-VERSION-TARGET/ in a .tar.gz
# whose file times (SOURCE_DATE_EPOCH, else the last commit's), owners and order are fixed,
# so the same sources give the same bytes. Written into target/packages/archives/, named by
# packaging/release-names.sh.
#
# TARGET:
#   <arch>-unknown-linux-gnu  on that machine: both binaries static for musl
#                             (packaging/static-full.sh), as the .deb ships them (after
#                             build-packages.sh this reuses its build);
#   <arch>-apple-darwin       both binaries for that architecture (either Mac builds both);
#   universal-apple-darwin    both architectures' binaries, joined with lipo.
# Usage: bash packaging/build-archive.sh TARGET     (PROFILE=dev: reuse the test build)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: build-archive.sh TARGET}
profile=${PROFILE:-dist}
sub=$([ "$profile" = dev ] && echo debug || echo "$profile")
version=$(grep -m1 '^version = ' Cargo.toml | sed 's/^version = "\(.*\)"$/\1/')
name=$(bash packaging/release-names.sh archive "$version" "$target")
out=target/packages/archives
bin=docker-credential-ecr-login
host=$(rustc -vV | sed -n 's/^host: //p')
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

die() {
  echo "build-archive: $*" >&2
  exit 1
}
# --target T, or nothing for the host (whose build then lands where build-packages.sh's does).
target_args() { [ "$1" = "$host" ] || echo "--target $1"; }
target_dir() { if [ "$1" = "$host" ]; then echo "target/$sub"; else echo "target/$1/$sub"; fi; }
ensure_target() {
  [ "$1" = "$host" ] || rustup target list --installed | grep -qx "$1" || rustup target add "$1"
}

# build FULL_TARGET FRONT_TARGET: both binaries; sets full, front and assets (build.rs's
# man page and completions, found from cargo's own report, as build-packages.sh does).
build() {
  local messages=target/build-archive-$1.json
  ensure_target "$1"
  ensure_target "$2"
  mkdir -p target
  # shellcheck disable=SC2046 # target_args is empty or two words
  # The full binary a PIE whatever .cargo/config.toml says of musl (static-full.sh).
  RUSTFLAGS="${RUSTFLAGS-}" cargo build --locked --profile "$profile" -p ecr-login --bins $(target_args "$1") \
    --message-format=json-render-diagnostics >"$messages"
  # shellcheck disable=SC2046
  cargo build --locked --profile "$profile" -p ecr-login-front $(target_args "$2")
  full=$(target_dir "$1")/ecr-login
  front=$(target_dir "$2")/$bin
  assets=$(grep '"reason":"build-script-executed"' "$messages" |
    grep -o '"out_dir":"[^"]*/build/ecr-login-[0-9a-f]*/out"' |
    sed 's/^"out_dir":"//; s/"$//' | tail -n 1)/assets
  [ -d "$assets" ] || die "no man page and completions from build.rs"
}

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
extra=()
case $target in
  *-unknown-linux-gnu)
    [ "$target" = "$host" ] || die "build $target on a $target machine (this is $host)"
    build "$target" "${target%-gnu}-musl"
    # The full binary static too: the kubelet's provider runs on nodes without glibc.
    PROFILE=$profile bash packaging/static-full.sh "${target%%-*}"
    full=target/${target%-gnu}-musl/$sub/ecr-login
    extra=("systemd/$bin.service:systemd/$bin.service:644")
    ;;
  x86_64-apple-darwin | aarch64-apple-darwin)
    build "$target" "$target"
    ;;
  universal-apple-darwin)
    build x86_64-apple-darwin x86_64-apple-darwin
    x86_full=$full x86_front=$front
    build aarch64-apple-darwin aarch64-apple-darwin
    lipo -create -output "$stage/ecr-login" "$x86_full" "$full"
    lipo -create -output "$stage/$bin" "$x86_front" "$front"
    full=$stage/ecr-login front=$stage/$bin
    ;;
  *) die "no archive for $target (Windows: packaging/windows/build-zip.sh)" ;;
esac

mkdir -p "$out"
# Entries: source:path in the archive:mode.
python3 - "$out/$name" "${name%.tar.gz}" "$epoch" \
  "$front:$bin:755" "$full:ecr-login:755" \
  "$assets/$bin.1:man/man1/$bin.1:644" \
  "$assets/$bin.bash:completions/$bin.bash:644" \
  "$assets/_$bin:completions/_$bin:644" \
  "$assets/$bin.fish:completions/$bin.fish:644" \
  "README.md:README.md:644" "LICENSE:LICENSE:644" ${extra[@]+"${extra[@]}"} <<'PY'
import gzip, io, sys, tarfile
path, top, epoch, entries = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]

def info(name, mode, size=0, kind=tarfile.REGTYPE):
    i = tarfile.TarInfo(f"{top}/{name}" if name else top)
    i.type, i.mode, i.size, i.mtime = kind, mode, size, epoch
    i.uid = i.gid = 0
    i.uname = i.gname = ""
    return i

files = sorted((dest, src, int(mode, 8)) for src, dest, mode in (e.rsplit(":", 2) for e in entries))
dirs = sorted({dest.rsplit("/", 1)[0] for dest, _, _ in files if "/" in dest})
for d in list(dirs):  # and their parents
    while "/" in d:
        d = d.rsplit("/", 1)[0]
        dirs.append(d)
with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
    with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info("", 0o755, kind=tarfile.DIRTYPE))
        for d in sorted(set(dirs)):
            tar.addfile(info(d, 0o755, kind=tarfile.DIRTYPE))
        for dest, src, mode in files:
            data = open(src, "rb").read()
            tar.addfile(info(dest, mode, len(data)), io.BytesIO(data))
PY
sha=$(shasum -a 256 "$out/$name" 2>/dev/null || sha256sum "$out/$name")
echo "$out/$name $(wc -c <"$out/$name" | tr -d ' ') bytes, sha256 ${sha%% *}"
