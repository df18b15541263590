#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need (Debian packages),
# checks formatting and lints, then runs every test including the end-to-end ones with
# real docker, skopeo and registry. Usage: bash tests/run-all.sh
set -euo pipefail
cd "$(dirname "$0")/.."

need=(docker.io docker-registry skopeo apache2-utils systemd man-db rpm)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

rustup component list --installed 2>/dev/null | grep -q rustfmt || rustup component add rustfmt clippy

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings

# The systemd user unit must pass systemd's own checker.
unit_dir=$(mktemp -d)
trap 'rm -rf "$unit_dir"' EXIT
sed "s#/usr/bin/docker-credential-ecr-login#$PWD/target/debug/docker-credential-ecr-login#" \
  systemd/docker-credential-ecr-login.service > "$unit_dir/docker-credential-ecr-login.service"
cargo build --locked
mkdir -p "$unit_dir/run" && chmod 700 "$unit_dir/run"
XDG_RUNTIME_DIR="$unit_dir/run" systemd-analyze verify --user "$unit_dir/docker-credential-ecr-login.service"

ECR_LOGIN_E2E=1 cargo test --locked

# The packages: build the .deb and .rpm, install the .deb, use it, remove it leaving nothing.
bash packaging/check-deb.sh
