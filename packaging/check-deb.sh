#!/usr/bin/env bash
# CI check of the packages, on this machine: builds both (packaging/build-packages.sh),
# installs the .deb with dpkg, runs the installed binary, finds its man page, verifies the
# installed systemd unit, removes the package and checks that none of its files remain;
# then checks that the .rpm lists the same paths. Needs root (or sudo); installs dpkg-dev,
# man-db, rpm and systemd from apt when missing. If Debian's amazon-ecr-credential-helper is
# installed, the .deb replaces it (as it must), and apt reinstalls it at the end.
#
# Usage: bash packaging/check-deb.sh        (PROFILE=release: see build-packages.sh)
set -euo pipefail
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"
pkg=ecr-login
bin=docker-credential-ecr-login
version=$(grep -m1 '^version = ' Cargo.toml | sed 's/^version = "\(.*\)"$/\1/')

fail() {
  echo "check-deb: $*" >&2
  exit 1
}

# Leave the machine as we found it: an installed ecr-login is someone's, not ours to remove.
is_installed() { [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null) == ?i* ]]; }
if is_installed "$pkg"; then
  fail "$pkg is already installed here; remove it first (dpkg -r $pkg)"
fi
# Debian's Go helper, when present, is what our Conflicts/Replaces displace: dpkg -i must
# remove it, and it is put back from apt at the end.
go=amazon-ecr-credential-helper
go_version=""
if is_installed "$go"; then
  go_version=$(dpkg-query -W -f='${Version}' "$go")
fi

need=(dpkg-dev man-db rpm systemd)
missing=()
for p in "${need[@]}"; do is_installed "$p" || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

bash packaging/build-packages.sh
deb=$(ls target/packages/*.deb)
rpm=$(ls target/packages/*.rpm)

# Every path both packages ship; the zsh directory and the license differ by distribution.
common=(
  "/usr/bin/$bin"
  "/usr/bin/ecr-login"
  "/usr/lib/systemd/user/$bin.service"
  "/usr/share/man/man1/$bin.1.gz"
  "/usr/share/bash-completion/completions/$bin"
  "/usr/share/fish/vendor_completions.d/$bin.fish"
  "/usr/share/doc/$pkg/README.md"
  "/usr/share/doc/$pkg/examples/credential-provider-config.yaml"
)
deb_paths=("${common[@]}" "/usr/share/zsh/vendor-completions/_$bin" "/usr/share/doc/$pkg/copyright")
rpm_paths=("${common[@]}" "/usr/share/zsh/site-functions/_$bin" "/usr/share/licenses/$pkg/LICENSE")

# Package relations: a drop-in replacement for Debian's and Fedora's Go helper.
for field in Conflicts Replaces Provides; do
  [[ $(dpkg-deb -f "$deb" "$field") == *"$go"* ]] || fail "$deb: $field does not name $go"
done

scratch=$(mktemp -d)
installed=0
cleanup() {
  $sudo rm -rf "$scratch"
  if ((installed)); then $sudo dpkg -r "$pkg" >/dev/null || true; fi
  if [ -n "$go_version" ] && ! is_installed "$go"; then
    echo "check-deb: reinstalling $go $go_version, which $pkg replaced" >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      "$go=$go_version" >/dev/null ||
      echo "check-deb: could not reinstall $go $go_version: apt-get install $go" >&2
  fi
}
trap cleanup EXIT
$sudo dpkg -i "$deb"
installed=1
if [ -n "$go_version" ] && is_installed "$go"; then
  fail "dpkg -i $pkg left $go installed: Conflicts/Replaces do not work"
fi

dpkg -L "$pkg" | sort >target/packages/deb-files.txt
for p in "${deb_paths[@]}"; do
  grep -qxF "$p" target/packages/deb-files.txt || fail "$deb does not install $p"
  [ -f "$p" ] || fail "$p is not on disk after dpkg -i (a dpkg path-exclude?)"
done

out=$(/usr/bin/$bin version)
echo "$out"
[[ $out == *"$version"* ]] || fail "installed binary says '$out', expected version $version"
# The front binary hands every human command to the full one beside it.
/usr/bin/$bin configure --help | grep -q -- --role-arn || fail "$bin configure --help does not reach ecr-login"

page=$(man -w $bin)
[ "$page" = /usr/share/man/man1/$bin.1.gz ] || fail "man -w $bin gives '$page'"
warnings=$(MANWIDTH=80 man --warnings -P cat $bin 2>&1 >/dev/null) || fail "man $bin fails"
[ -z "$warnings" ] || fail "man $bin warns: $warnings"

bash -n "/usr/share/bash-completion/completions/$bin"
# What bash would offer for `docker-credential-ecr-login configure --ro<TAB>`.
offered=$(bash -c '
  source "/usr/share/bash-completion/completions/$1"
  fn=$(complete -p "$1" | grep -o -- "-F [^ ]*" | cut -c4-)
  COMP_WORDS=("$1" configure --ro) COMP_CWORD=2
  "$fn" "$1" --ro configure
  echo "${COMPREPLY[*]}"' _ "$bin")
[ "$offered" = --role-arn ] || fail "bash completes 'configure --ro' to '$offered', not --role-arn"

# systemd-analyze verify --user needs a runtime directory of its own.
mkdir -m 700 "$scratch/run"
XDG_RUNTIME_DIR="$scratch/run" systemd-analyze verify --user /usr/lib/systemd/user/$bin.service ||
  fail "systemd-analyze verify rejects the installed unit"

$sudo dpkg -r "$pkg"
installed=0
if is_installed "$pkg"; then fail "$pkg is still installed after dpkg -r"; fi
# Nothing of the package may remain: no file, and no directory that no other package owns.
while read -r p; do
  [ "$p" = /. ] && continue
  if [ -d "$p" ]; then
    dpkg -S "$p" >/dev/null 2>&1 || fail "dpkg -r left the directory $p behind"
  elif [ -e "$p" ] || [ -L "$p" ]; then
    fail "dpkg -r left $p behind"
  fi
done <target/packages/deb-files.txt

rpm -qlp "$rpm" | sort >target/packages/rpm-files.txt
for p in "${rpm_paths[@]}"; do
  grep -qxF "$p" target/packages/rpm-files.txt || fail "$rpm does not ship $p"
done
for query in conflicts provides; do
  [[ $(rpm -qp --"$query" "$rpm") == *"$go"* ]] || fail "$rpm: $query does not name $go"
done

# The .rpm installs into a scratch root and erases from it leaving none of its files or
# directories (its post-uninstall scriptlet removes those; it needs a shell and rmdir in
# the root). Debian's rpm warns that it should not install packages: here it may.
root=$scratch/root
mkdir -p "$root/dev"
$sudo mknod -m 666 "$root/dev/null" c 1 3
for b in /bin/sh /bin/rmdir; do
  for f in "$b" $(ldd "$b" | grep -o '/[^ ]*'); do install -D "$(readlink -f "$f")" "$root$f"; done
done
$sudo rpm --root "$root" --nodeps -i "$rpm"
for p in "${rpm_paths[@]}"; do
  [ -f "$root$p" ] || fail "rpm -i did not install $p"
done
$sudo rpm --root "$root" -e "$pkg"
left=$(find "$root/usr" -path "*ecr-login*")
[ -z "$left" ] || fail "rpm -e left behind: $left"

echo "check-deb: $(basename "$deb") installs, runs, verifies and removes cleanly;" \
  "$(basename "$rpm") ships the same paths, installs and erases cleanly"
