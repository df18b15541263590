#!/usr/bin/env python3
"""The packaging manifests point at assets the release workflow produces.

- The asset names are packaging/release-names.sh's; the release workflow
  (.github/workflows/release.yml) builds exactly the targets it names (checked here, from the
  build jobs' matrices and the macOS job's loop) and its publish job checks, at release time,
  that the files it built are exactly `release-names.sh built` (checked here to be there).
- Every URL in the Homebrew formula (`url` lines; `head` is the git repository), the Scoop
  manifest (each architecture's and autoupdate's, `$version` substituted) and the winget
  installer manifest (InstallerUrl) is
  https://github.com/ecr-login/ecr-login/releases/download/vVERSION/<an asset on that list>,
  for the architecture its entry says, with VERSION Cargo.toml's version; and every version
  field says VERSION.
- packaging/fill-manifests.py, given a SHA256SUMS of that list, fills every entry in.
- Every `uses:` in every workflow is pinned to a full commit SHA, with its version beside it.

Usage: python3 tests/ci/check-release-names.py      (PyYAML)
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REPO = "ecr-login/ecr-login"
SCOOP_ARCH = {"64bit": "x86_64", "arm64": "aarch64"}
WINGET_ARCH = {"x64": "x86_64", "arm64": "aarch64"}
errors = []


def error(message):
    errors.append(message)


def names(*args):
    out = subprocess.run(["bash", "packaging/release-names.sh", *args], cwd=ROOT,
                         check=True, capture_output=True, text=True).stdout
    return out.split()


def cargo_version():
    text = open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8").read()
    return re.search(r'^version = "([^"]+)"', text, re.M).group(1)


def workflow(path):
    # PyYAML reads `on:` as True; the jobs are what matters here.
    return yaml.safe_load(open(os.path.join(ROOT, path), encoding="utf-8"))


def check_workflow_targets(release, targets):
    built = set()
    for job in release["jobs"].values():
        for entry in job.get("strategy", {}).get("matrix", {}).get("include", []):
            if "target" in entry:
                built.add(entry["target"])
        for step in job.get("steps", []):
            m = re.search(r"for t in ([^;]+); do\s+bash packaging/build-archive\.sh", step.get("run", ""))
            if m:
                built.update(m.group(1).split())
    if built != set(targets):
        error(f"release.yml builds {sorted(built)}, release-names.sh names {sorted(targets)}")
    text = open(os.path.join(ROOT, ".github/workflows/release.yml"), encoding="utf-8").read()
    for call in ("release-names.sh built", "release-names.sh list"):
        if call not in text:
            error(f"release.yml never checks its assets against `{call}`")


def check_url(where, url, version, assets, arch=None):
    base = f"https://github.com/{REPO}/releases/download/v{version}/"
    if not url.startswith(base):
        error(f"{where}: {url} is not under {base}")
        return
    name = url[len(base):]
    if name not in assets:
        error(f"{where}: {name} is not an asset the release produces")
    if arch and f"-{arch}-" not in name:
        error(f"{where}: {name} is not for {arch}")


def check_manifests(version, assets):
    urls = 0
    formula = open(os.path.join(ROOT, "packaging/homebrew/ecr-login.rb"), encoding="utf-8").read()
    for url in re.findall(r'^\s*url\s+"([^"]+)"', formula, re.M):
        check_url("homebrew formula", url, version, assets)
        urls += 1
    for path in glob.glob(os.path.join(ROOT, "packaging/windows/scoop/*.json")):
        where = os.path.relpath(path, ROOT)
        m = json.load(open(path, encoding="utf-8"))
        if m.get("version") != version:
            error(f"{where}: version {m.get('version')}, Cargo.toml {version}")
        if "url" in m:
            check_url(where, m["url"], version, assets)
            urls += 1
        for section, sub in ((m, version), (m.get("autoupdate", {}), "$version")):
            for key, entry in section.get("architecture", {}).items():
                arch = SCOOP_ARCH.get(key)
                if not arch:
                    error(f"{where}: unknown architecture {key}")
                    continue
                url = entry["url"].replace("$version", version) if sub == "$version" else entry["url"]
                check_url(f"{where} {key}", url, version, assets, arch)
                urls += 1
    for path in glob.glob(os.path.join(ROOT, "packaging/windows/winget/*.yaml")):
        where = os.path.relpath(path, ROOT)
        m = yaml.safe_load(open(path, encoding="utf-8"))
        if str(m.get("PackageVersion")) != version:
            error(f"{where}: PackageVersion {m.get('PackageVersion')}, Cargo.toml {version}")
        for installer in m.get("Installers", []):
            arch = WINGET_ARCH.get(installer.get("Architecture"))
            if not arch:
                error(f"{where}: unknown architecture {installer.get('Architecture')}")
                continue
            check_url(f"{where} {installer['Architecture']}", installer["InstallerUrl"], version, assets, arch)
            urls += 1
    return urls


def check_fill(version, built):
    """fill-manifests.py, given checksums of every built asset, fills every entry in."""
    with tempfile.TemporaryDirectory() as tmp:
        sums = {name: f"{abs(hash(name)) % (1 << 64):016x}" * 4 for name in built}
        with open(os.path.join(tmp, "SHA256SUMS"), "w") as f:
            f.writelines(f"{sha}  {name}\n" for name, sha in sums.items())
        base = f"https://github.com/{REPO}/releases/download/v{version}"
        run = subprocess.run([sys.executable, "packaging/fill-manifests.py", "--version", version,
                              "--sums", os.path.join(tmp, "SHA256SUMS"), "--out", os.path.join(tmp, "out"),
                              "--base-url", base], cwd=ROOT, capture_output=True, text=True)
        if run.returncode:
            error(f"fill-manifests.py with every built asset's checksum: {run.stderr.strip()}")
            return
        out = os.path.join(tmp, "out")
        filled = sorted(os.listdir(out))
        manifests = names("manifests")
        if filled != sorted(manifests):
            error(f"fill-manifests.py wrote {filled}, the release publishes {sorted(manifests)}")
        text = "".join(open(os.path.join(out, f), encoding="utf-8").read() for f in filled)
        for url in re.findall(rf"{re.escape(base)}/([^\"\s]+)", text):
            if url not in sums:
                error(f"filled manifests: {url} is not a built asset")
            elif sums[url] not in text:
                error(f"filled manifests: {url} without its SHA-256")
        if re.search(r"\b0{64}\b", text):
            error("filled manifests: a SHA-256 left as the template's zeros")


def check_pins():
    for path in sorted(glob.glob(os.path.join(ROOT, ".github/workflows/*.yml"))):
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            m = re.match(r"\s*(?:-\s+)?uses:\s*(\S+)(.*)$", line)
            if not m or m.group(1).startswith("./"):
                continue
            if not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", m.group(1)):
                error(f"{os.path.relpath(path, ROOT)}:{n}: {m.group(1)} is not pinned to a commit SHA")
            elif not re.fullmatch(r"\s*# v\d+(\.\d+)*\s*", m.group(2)):
                error(f"{os.path.relpath(path, ROOT)}:{n}: no `# vX.Y.Z` beside {m.group(1)}")


def main():
    version = cargo_version()
    targets = names("targets")
    built = names("built", version)
    assets = set(names("list", version))
    check_workflow_targets(workflow(".github/workflows/release.yml"), targets)
    urls = check_manifests(version, assets)
    check_fill(version, built)
    check_pins()
    if errors:
        print("\n".join(f"check-release-names: {e}" for e in errors), file=sys.stderr)
        sys.exit(1)
    print(f"release names: {len(assets)} assets for {len(targets)} targets; "
          f"{urls} manifest URLs point at them; fill-manifests.py fills them all; actions pinned")


if __name__ == "__main__":
    main()
