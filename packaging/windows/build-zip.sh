#!/usr/bin/env bash
# The Windows release: both .exe files (x86_64-pc-windows-gnu, built with Debian's
# mingw-w64), the README and the license in one zip, and the Scoop and winget manifests
# with its URL and SHA-256 filled in, all into target/packages/windows/.
# Usage: bash packaging/windows/build-zip.sh   (PROFILE=dev: reuse the test build, for CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
target=x86_64-pc-windows-gnu
profile=${PROFILE:-dist}
version=$(grep -m1 '^version = ' Cargo.toml | sed 's/^version = "\(.*\)"$/\1/')
out=target/packages/windows
name=ecr-login-$version-$target

rustup target list --installed | grep -qx "$target" || rustup target add "$target"
cargo build --locked --profile "$profile" --target "$target" -p ecr-login -p ecr-login-front --bins
rm -rf "$out" && mkdir -p "$out"
dir=target/$target/$([ "$profile" = dev ] && echo debug || echo "$profile")
python3 - "$out/$name.zip" "$dir" <<'PY'
import sys, zipfile
zip_path, bin_dir = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    for exe in ("docker-credential-ecr-login.exe", "ecr-login.exe"):
        z.write(f"{bin_dir}/{exe}", exe)
    z.write("README.md", "README.md")
    z.write("LICENSE", "LICENSE.txt")
PY
sha=$(sha256sum "$out/$name.zip" | cut -d' ' -f1)
url="https://github.com/ecr-login/ecr-login/releases/download/v$version/$name.zip"
sed -e "s#\"version\": \"[^\"]*\"#\"version\": \"$version\"#" \
    -e "s#\"url\": \"https://[^\"]*\"#\"url\": \"$url\"#" \
    -e "s#\"hash\": \"[0-9a-f]*\"#\"hash\": \"$sha\"#" \
    packaging/windows/scoop/ecr-login.json > "$out/ecr-login.json"
for f in packaging/windows/winget/*.yaml; do
  sed -e "s#^PackageVersion: .*#PackageVersion: $version#" \
      -e "s#InstallerUrl: .*#InstallerUrl: $url#" \
      -e "s#InstallerSha256: .*#InstallerSha256: \"$sha\"#" "$f" > "$out/$(basename "$f")"
done
echo "$out/$name.zip $(stat -c %s "$out/$name.zip") bytes, sha256 $sha"
