#!/usr/bin/env bash
# Builds the .deb and the .rpm into target/packages/, with Debian's own tools (dpkg-deb,
# dpkg-shlibdeps, rpmbuild), and prints their sizes and how long each step took.
#
# 1. Both binaries static for musl (packaging/static-full.sh; a node without glibc runs them,
#    issue 29), `--profile $PROFILE` (default `dist`: stripped, LTO, one codegen unit); the
#    full binary's build.rs generates the man page and the bash, zsh and fish completions
#    into $OUT_DIR/assets/.
# 2. Both packages are staged from one list of files (FILES below), with their modes.
# 3. dpkg-deb and rpmbuild pack them. Nothing is installed from crates.io for this.
#
# Usage: bash packaging/build-packages.sh
#        PROFILE=dev bash packaging/build-packages.sh   # reuse the test build, for CI
set -euo pipefail
cd "$(dirname "$0")/.."

profile=${PROFILE:-dist}
bin=docker-credential-ecr-login
pkg=ecr-login
out=target/packages
# This machine's architecture: the packages are built natively (the release builds each on
# its own runner), so the front binary's musl target and the .rpm's arch follow it.
arch=$(uname -m)
musl=$arch-unknown-linux-musl
go=amazon-ecr-credential-helper
maintainer="ecr-login maintainers <maintainers@users.noreply.r-seed-8a13ae41.example>"
summary="Docker credential helper for Amazon ECR with a token cache and renewal daemon"
# The profile's output directory ("dev" builds into target/debug), under the musl target.
dir=target/$musl/$([ "$profile" = dev ] && echo debug || echo "$profile")

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

for tool in dpkg-deb dpkg-shlibdeps rpmbuild; do
  command -v "$tool" >/dev/null || {
    echo "build-packages: needs $tool: apt-get install dpkg-dev rpm" >&2
    exit 1
  }
done
# The .deb's version is Cargo.toml's with revision 1; its changelog must have that entry on top.
version=$(grep -m1 '^version = ' Cargo.toml | sed 's/^version = "\(.*\)"$/\1/')
changelog=$(dpkg-parsechangelog -l packaging/deb/changelog -S Version)
if [ "$changelog" != "$version-1" ]; then
  echo "build-packages: packaging/deb/changelog is at $changelog; add an entry for $version-1" >&2
  exit 1
fi

t0=$(now)
mkdir -p target
messages=target/build-packages-messages.json
# Both binaries ship static (musl). The front one, which Docker execs on every pull: no
# dynamic loader, no libc to relocate, so a cache hit costs less than starting /bin/true.
# The full one: the kubelet's provider on a node without glibc (Talos, distroless) execs it.
PROFILE=$profile bash packaging/static-full.sh "$arch"
# The same build again (nothing to compile), for cargo's report of build.rs's output.
. packaging/zig-env.sh
# (RUSTFLAGS as static-full.sh sets it for the full binary: a static PIE.)
RUSTFLAGS="${RUSTFLAGS-}" cargo zigbuild --locked --profile "$profile" --target "$musl" -p ecr-login --bins \
  --message-format=json-render-diagnostics >"$messages"
build_time=$(elapsed "$t0")

# The build script's output directory, from cargo's own report rather than a glob over
# target/*/build/, which may hold stale directories from earlier builds.
assets=$(grep '"reason":"build-script-executed"' "$messages" |
  grep -o '"out_dir":"[^"]*/build/ecr-login-[0-9a-f]*/out"' |
  sed 's/^"out_dir":"//; s/"$//' | tail -n 1)/assets
[ -d "$assets" ] || { echo "build-packages: no man page and completions from build.rs" >&2; exit 1; }

t1=$(now)
rm -rf "$out" && mkdir -p "$out"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
gzip -9nc "$assets/$bin.1" >"$stage/$bin.1.gz"
gzip -9nc packaging/deb/changelog >"$stage/changelog.Debian.gz"
# File times in the packages: the last commit's, so the same sources give the same bytes.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# What both packages ship: source, destination, mode. Then what differs by distribution.
common=(
  "$dir/$bin /usr/bin/$bin 755"
  "$dir/ecr-login /usr/bin/ecr-login 755"
  "systemd/$bin.service /usr/lib/systemd/user/$bin.service 644"
  "$stage/$bin.1.gz /usr/share/man/man1/$bin.1.gz 644"
  "$assets/$bin.bash /usr/share/bash-completion/completions/$bin 644"
  "$assets/$bin.fish /usr/share/fish/vendor_completions.d/$bin.fish 644"
  "README.md /usr/share/doc/$pkg/README.md 644"
  "packaging/kubernetes/credential-provider-config.yaml /usr/share/doc/$pkg/examples/credential-provider-config.yaml 644"
)
deb_only=(
  "$assets/_$bin /usr/share/zsh/vendor-completions/_$bin 644"
  "packaging/deb/copyright /usr/share/doc/$pkg/copyright 644"
  "$stage/changelog.Debian.gz /usr/share/doc/$pkg/changelog.Debian.gz 644"
)
rpm_only=(
  "$assets/_$bin /usr/share/zsh/site-functions/_$bin 644"
  "LICENSE /usr/share/licenses/$pkg/LICENSE 644"
)
# stage ROOT ENTRY...: copies each file into ROOT with its mode and the fixed time.
stage_files() {
  local root=$1 entry src dest mode
  shift
  for entry in "$@"; do
    read -r src dest mode <<<"$entry"
    install -D -m "$mode" "$src" "$root$dest"
    touch -h -d "@$epoch" "$root$dest"
  done
  # Debug builds keep their symbols; packaged binaries do not need them.
  strip --strip-unneeded "$root/usr/bin/ecr-login" "$root/usr/bin/$bin" 2>/dev/null || true
}

# --- .deb ---------------------------------------------------------------------------------
deb_root=$stage/deb
stage_files "$deb_root" "${common[@]}" "${deb_only[@]}"
# Depends: what the binaries need from the system; static, nothing (dpkg-shlibdeps finds no
# library to depend on).
mkdir -p "$stage/shlibs/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" >"$stage/shlibs/debian/control"
depends=$(cd "$stage/shlibs" && dpkg-shlibdeps -O "$deb_root/usr/bin/ecr-login" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
mkdir -p "$deb_root/DEBIAN"
(cd "$deb_root" && find usr -type f | sort | xargs md5sum) >"$deb_root/DEBIAN/md5sums"
cat >"$deb_root/DEBIAN/control" <<CONTROL
Package: $pkg
Version: $version-1
Architecture: $(dpkg --print-architecture)
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$deb_root" | cut -f1)
Depends: $depends
Conflicts: $go
Replaces: $go
Provides: $go
Section: utils
Priority: optional
Homepage: https://github.com/ecr-login/ecr-login
Description: $summary
 A drop-in replacement for amazon-ecr-credential-helper (same binary name, same
 "ecr-login" credHelpers entry, same AWS_ECR_* variables). Docker, podman, skopeo,
 buildah, BuildKit, the kubelet and Bazel exec it to get ECR tokens. It answers from
 a file-locked on-disk cache, and an optional systemd user service renews tokens
 before they expire.
CONTROL
# Static binaries depend on nothing: no empty field.
sed -i '/^Depends: *$/d' "$deb_root/DEBIAN/control"
deb=$out/${pkg}_$version-1_$(dpkg --print-architecture).deb
SOURCE_DATE_EPOCH=$epoch dpkg-deb --root-owner-group -Zxz --build "$deb_root" "$deb" >/dev/null
deb_time=$(elapsed "$t1")

# --- .rpm ---------------------------------------------------------------------------------
t2=$(now)
rpm_root=$stage/rpm-files
stage_files "$rpm_root" "${common[@]}" "${rpm_only[@]}"
files=$(cd "$rpm_root" && find usr -type f | sort | sed 's#^#/#')
mkdir -p "$stage/rpmbuild"
cat >"$stage/$pkg.spec" <<SPEC
Name: $pkg
Version: $version
Release: 1
Summary: $summary
License: Apache-2.0
URL: https://github.com/ecr-login/ecr-login
BuildArch: $arch
AutoReqProv: no
Conflicts: $go
Provides: $go
%global debug_package %{nil}
%global __os_install_post %{nil}
%define _build_id_links none
%description
A drop-in replacement for amazon-ecr-credential-helper: Docker, podman, skopeo,
buildah, BuildKit, the kubelet and Bazel exec it to get ECR tokens from a file-locked
cache, and an optional systemd user service renews them before they expire.
%install
cp -a $rpm_root/. %{buildroot}/
%files
%doc /usr/share/doc/$pkg/README.md
%doc /usr/share/doc/$pkg/examples/credential-provider-config.yaml
%license /usr/share/licenses/$pkg/LICENSE
$(echo "$files" | grep -v -e "^/usr/share/doc/$pkg/" -e "^/usr/share/licenses/")
%postun
if [ "\$1" = 0 ]; then
  rmdir /usr/share/doc/$pkg/examples /usr/share/doc/$pkg /usr/share/licenses/$pkg 2>/dev/null || :
fi
SPEC
SOURCE_DATE_EPOCH=$epoch rpmbuild -bb --quiet \
  --define "_topdir $stage/rpmbuild" --define "_rpmdir $stage/rpmbuild/RPMS" \
  --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
  "$stage/$pkg.spec" >/dev/null 2>"$stage/rpmbuild.log" || {
  cat "$stage/rpmbuild.log" >&2
  exit 1
}
cp "$stage/rpmbuild/RPMS/$pkg-$version-1.$arch.rpm" "$out/"
rpm=$out/$pkg-$version-1.$arch.rpm
rpm_time=$(elapsed "$t2")

kib() { awk -v n="$1" 'BEGIN { printf "%.0f KiB", n / 1024 }'; }
row() { printf '%-30s %s\n' "$1" "$2"; }
row "binaries ($profile profile)" "front $(kib "$(stat -c %s "$deb_root/usr/bin/$bin")"), full $(kib "$(stat -c %s "$deb_root/usr/bin/ecr-login")")"
row "$(basename "$deb")" "$(kib "$(stat -c %s "$deb")"), installed $(dpkg-deb -f "$deb" Installed-Size) KiB"
rpm_installed=""
if command -v rpm >/dev/null; then
  rpm_installed=", installed $(kib "$(rpm -qp --queryformat '%{SIZE}' "$rpm")")"
fi
row "$(basename "$rpm")" "$(kib "$(stat -c %s "$rpm")")$rpm_installed"
row "time" "cargo build $build_time, dpkg-deb $deb_time, rpmbuild $rpm_time, total $(elapsed "$t0")"
