#!/usr/bin/env bash
# The Windows and macOS packaging files parse: the Scoop manifest as JSON, the winget
# manifests as YAML with the fields winget requires, the Homebrew formula with `ruby -c`.
# Checks the committed templates, and the filled-in ones when build-zip.sh has run.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m pip show pyyaml >/dev/null 2>&1 || python3 -m pip install -q pyyaml
python3 - <<'PY'
import glob, json, sys, yaml
scoop = glob.glob("packaging/windows/scoop/*.json") + glob.glob("target/packages/windows/*.json")
for path in scoop:
    m = json.load(open(path))
    for key in ("version", "architecture", "bin", "license"):
        assert key in m, f"{path}: no {key}"
    assert len(m["architecture"]["64bit"]["hash"]) == 64, path
winget = glob.glob("packaging/windows/winget/*.yaml") + glob.glob("target/packages/windows/*.yaml")
for path in winget:
    m = yaml.safe_load(open(path))
    for key in ("PackageIdentifier", "PackageVersion", "ManifestType", "ManifestVersion"):
        assert key in m, f"{path}: no {key}"
    if m["ManifestType"] == "installer":
        assert len(m["Installers"][0]["InstallerSha256"]) == 64, path
print(f"manifests: {len(scoop)} Scoop, {len(winget)} winget parse")
PY
ruby -c packaging/homebrew/ecr-login.rb
