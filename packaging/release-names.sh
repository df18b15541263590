#!/usr/bin/env bash
# The names of a release's assets, in one place. The release workflow
# (.github/workflows/release.yml) names what it builds with this, and its publish job checks
# that it built exactly this list; tests/ci/check-release-names.py checks that the Homebrew
# formula and the Scoop and winget manifests point at names on it.
#
# Usage: bash packaging/release-names.sh targets                 # the binary archives' targets
#        bash packaging/release-names.sh source VERSION          # the source archive
#        bash packaging/release-names.sh archive VERSION TARGET  # that target's archive
#        bash packaging/release-names.sh packages VERSION TARGET # its .deb and .rpm (Linux)
#        bash packaging/release-names.sh sboms VERSION           # "ASSET.cdx.json TARGET" lines
#        bash packaging/release-names.sh manifests               # the filled-in manifests
#        bash packaging/release-names.sh built VERSION           # what the build jobs make
#        bash packaging/release-names.sh list VERSION            # every asset of the release
#        bash packaging/release-names.sh url VERSION             # where the assets download from
#        bash packaging/release-names.sh env                     # VERSION=, TAG=, SOURCE_DATE_EPOCH=
# ECR_LOGIN_REPO (owner/name, default ecr-login/ecr-login) names the GitHub repository.
set -euo pipefail
cd "$(dirname "$0")/.."

repo=${ECR_LOGIN_REPO:-ecr-login/ecr-login}
pkg=ecr-login
# Linux: the full binary for glibc, the front one static for musl, built on each architecture.
linux=(x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu)
# macOS: each architecture, and both in one (lipo).
macos=(x86_64-apple-darwin aarch64-apple-darwin universal-apple-darwin)
# Windows: MSVC builds with the C runtime linked in (no Visual C++ redistributable needed).
windows=(x86_64-pc-windows-msvc aarch64-pc-windows-msvc)
# The filled-in Homebrew formula, Scoop manifest and winget manifests.
manifests=(ecr-login.rb ecr-login.json ecr-login.ecr-login.yaml
  ecr-login.ecr-login.installer.yaml ecr-login.ecr-login.locale.en-US.yaml)

die() {
  echo "release-names: $*" >&2
  exit 2
}
cargo_version() { grep -m1 '^version = ' Cargo.toml | sed 's/^version = "\(.*\)"$/\1/'; }
source_archive() { echo "$pkg-$1.tar.gz"; }
archive() {
  case $2 in
    *-windows-*) echo "$pkg-$1-$2.zip" ;;
    *) echo "$pkg-$1-$2.tar.gz" ;;
  esac
}
packages() {
  case $2 in
    x86_64-unknown-linux-gnu) echo "${pkg}_$1-1_amd64.deb" && echo "$pkg-$1-1.x86_64.rpm" ;;
    aarch64-unknown-linux-gnu) echo "${pkg}_$1-1_arm64.deb" && echo "$pkg-$1-1.aarch64.rpm" ;;
    *) die "no packages for $2" ;;
  esac
}
# One SBOM per binary artifact and the source: the dependency graph cargo-cyclonedx sees
# for the target it was built for ("all" for the source).
sboms() {
  echo "$(source_archive "$1").cdx.json all"
  local t sbom_target
  for t in "${linux[@]}" "${macos[@]}" "${windows[@]}"; do
    sbom_target=$t
    # Both architectures' dependency graphs: the same crates (one macOS cfg).
    [ "$t" = universal-apple-darwin ] && sbom_target=aarch64-apple-darwin
    echo "$(archive "$1" "$t").cdx.json $sbom_target"
  done
  for t in "${linux[@]}"; do
    packages "$1" "$t" | sed "s/\$/.cdx.json $t/"
  done
}
built() {
  source_archive "$1"
  local t
  for t in "${linux[@]}" "${macos[@]}" "${windows[@]}"; do archive "$1" "$t"; done
  for t in "${linux[@]}"; do packages "$1" "$t"; done
  sboms "$1" | cut -d' ' -f1
  printf '%s\n' "${manifests[@]}"
}

cmd=${1:-}
case $cmd in
  targets) printf '%s\n' "${linux[@]}" "${macos[@]}" "${windows[@]}" ;;
  source) source_archive "${2:?VERSION}" ;;
  archive) archive "${2:?VERSION}" "${3:?TARGET}" ;;
  packages) packages "${2:?VERSION}" "${3:?TARGET}" ;;
  sboms) sboms "${2:?VERSION}" ;;
  manifests) printf '%s\n' "${manifests[@]}" ;;
  built) built "${2:?VERSION}" ;;
  # Then the publish job adds the checksums of all of those, and the provenance attestation
  # of the checksummed files (a Sigstore bundle, also kept by GitHub's attestation store).
  list) built "${2:?VERSION}" && echo SHA256SUMS && echo "$pkg-$2-provenance.sigstore.json" ;;
  url) echo "https://github.com/$repo/releases/download/v${2:?VERSION}" ;;
  env)
    version=$(cargo_version)
    # Release builds are tags v<Cargo.toml's version>: a tag that says otherwise is a mistake.
    if [ "${GITHUB_REF_TYPE:-}" = tag ] && [ "${GITHUB_REF_NAME:-}" != "v$version" ]; then
      die "tag ${GITHUB_REF_NAME:-} is not v$version (Cargo.toml's version)"
    fi
    echo "VERSION=$version"
    echo "TAG=v$version"
    # File times in every archive and package: the tagged commit's, so that the same
    # sources give the same bytes.
    echo "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct HEAD)"
    ;;
  *) die "usage: release-names.sh targets|source|archive|packages|sboms|manifests|built|list|url|env ..." ;;
esac
