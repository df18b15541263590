#!/usr/bin/env bash
# The Windows release: both .exe files, the README and the license in one zip, and the Scoop
# and winget manifests with its URL and SHA-256 filled in (packaging/fill-manifests.py), all
# into target/packages/windows/. By default for x86_64-pc-windows-gnu, built on Linux with
# Debian's mingw-w64; the release builds TARGET=<arch>-pc-windows-msvc on Windows (Git Bash).
# The zip's file times are SOURCE_DATE_EPOCH (else the last commit's): same sources, same bytes.
# Usage: bash packaging/windows/build-zip.sh   (PROFILE=dev: reuse the test build, for CI)
#        TARGET=aarch64-pc-windows-msvc bash packaging/windows/build-zip.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${TARGET:-x86_64-pc-windows-gnu}
profile=${PROFILE:-dist}
version=$(grep -m1 '^version = ' Cargo.toml | sed 's/^version = "\(.*\)"$/\1/')
out=target/packages/windows
name=$(bash packaging/release-names.sh archive "$version" "$target")
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
# Windows has `python`; `python3` there may be the Store's stand-in.
py=python3
python3 -c '' 2>/dev/null || py=python

rustup target list --installed | grep -qx "$target" || rustup target add "$target"
cargo build --locked --profile "$profile" --target "$target" -p ecr-login -p ecr-login-front --bins
rm -rf "$out" && mkdir -p "$out"
dir=target/$target/$([ "$profile" = dev ] && echo debug || echo "$profile")
"$py" - "$out/$name" "$dir" "$epoch" <<'PY'
import sys, time, zipfile
zip_path, bin_dir, epoch = sys.argv[1], sys.argv[2], int(sys.argv[3])
stamp = time.gmtime(max(epoch, 315532800))[:6]  # zip times start in 1980
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
    for src, name in ((f"{bin_dir}/docker-credential-ecr-login.exe", "docker-credential-ecr-login.exe"),
                      (f"{bin_dir}/ecr-login.exe", "ecr-login.exe"),
                      ("README.md", "README.md"), ("LICENSE", "LICENSE.txt")):
        info = zipfile.ZipInfo(name, stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        z.writestr(info, open(src, "rb").read())
PY
sha=$(sha256sum "$out/$name" | cut -d' ' -f1)
# The manifests' entry for this zip's architecture; any other keeps the template's.
echo "$sha  $name" >"$out/$name.sha256"
"$py" packaging/fill-manifests.py --version "$version" --sums "$out/$name.sha256" \
  --base-url "$(bash packaging/release-names.sh url "$version")" \
  --out "$out" --partial --windows-only >/dev/null
echo "$out/$name $(stat -c %s "$out/$name") bytes, sha256 $sha"
