#!/usr/bin/env python3
"""Fills the Homebrew formula and the Scoop and winget manifests in for a release.

Reads the committed templates (packaging/homebrew/ecr-login.rb, packaging/windows/scoop/,
packaging/windows/winget/) and writes copies into OUT with the version, each download's URL
and its SHA-256 taken from a SHA256SUMS file (sha256sum's format) of the built assets:

- the formula's `url` and `sha256`: the source archive, ecr-login-VERSION.tar.gz;
- Scoop's `version` and each architecture's `url` and `hash` (64bit: x86_64, arm64: aarch64);
- winget's `PackageVersion` in every file, and each installer's `InstallerUrl` and
  `InstallerSha256` (x64: x86_64, arm64: aarch64).

An entry's asset is the template's file name with the template's version replaced by
VERSION; when that is not in SHA256SUMS, the one Windows zip there for the entry's
architecture (packaging/windows/build-zip.sh makes a windows-gnu zip locally). Every entry
must be found, unless --partial (a local build of one zip), which leaves the others as the
template has them.

Usage: fill-manifests.py --version V --sums SHA256SUMS --out DIR
                         [--base-url URL] [--partial] [--windows-only]
The base URL defaults to `packaging/release-names.sh url V`.
"""

import argparse
import glob
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORMULA = "packaging/homebrew/ecr-login.rb"
SCOOP = "packaging/windows/scoop/ecr-login.json"
WINGET = "packaging/windows/winget/*.yaml"
SCOOP_ARCH = {"64bit": "x86_64", "arm64": "aarch64"}
WINGET_ARCH = {"x64": "x86_64", "arm64": "aarch64"}


def fail(message):
    sys.exit(f"fill-manifests: {message}")


def read_sums(path):
    sums = {}
    for line in open(path, encoding="utf-8"):
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](.+)", line.rstrip("\n"))
        if m:
            sums[os.path.basename(m.group(2))] = m.group(1)
    return sums


class Filler:
    def __init__(self, version, sums, base_url, partial):
        self.version, self.sums, self.base, self.partial = version, sums, base_url, partial

    def asset(self, template_url, template_version, arch=None):
        """(name, sha) of the asset for a template URL, or None when --partial allows it."""
        name = os.path.basename(template_url).replace(template_version, self.version)
        if name in self.sums:
            return name, self.sums[name]
        if arch:
            pattern = re.compile(rf"ecr-login-{re.escape(self.version)}-{arch}-pc-windows-[a-z]+\.zip")
            found = sorted(n for n in self.sums if pattern.fullmatch(n))
            if len(found) == 1:
                return found[0], self.sums[found[0]]
            if len(found) > 1:
                fail(f"more than one {arch} Windows zip: {', '.join(found)}")
        if self.partial:
            return None
        fail(f"{name} is not in the checksums")

    def url(self, name):
        return f"{self.base}/{name}"

    def formula(self, text):
        m = re.search(r'^  url "([^"]+)"$', text, re.M)
        if not m:
            fail(f"{FORMULA}: no url line")
        v = re.search(r"/v(\d[^/]*)/[^/]+$", m.group(1))
        if not v:
            fail(f"{FORMULA}: no version in {m.group(1)}")
        found = self.asset(m.group(1), v.group(1))
        if found is None:
            return text
        name, sha = found
        text = text.replace(m.group(0), f'  url "{self.url(name)}"', 1)
        text, n = re.subn(r'^  sha256 "[0-9a-f]*"$', f'  sha256 "{sha}"', text, count=1, flags=re.M)
        if n != 1:
            fail(f"{FORMULA}: no sha256 line")
        return text

    def scoop(self, text):
        m = json.loads(text)
        template_version = m["version"]
        m["version"] = self.version
        for key, entry in m["architecture"].items():
            arch = SCOOP_ARCH.get(key) or fail(f"{SCOOP}: unknown architecture {key}")
            found = self.asset(entry["url"], template_version, arch)
            if found:
                entry["url"], entry["hash"] = self.url(found[0]), found[1]
        return json.dumps(m, indent=4, ensure_ascii=False) + "\n"

    def winget(self, text, path):
        m = re.search(r"^PackageVersion: (.+)$", text, re.M)
        if not m:
            fail(f"{path}: no PackageVersion")
        template_version = m.group(1).strip()
        out, arch, pending = [], None, None
        for line in text.splitlines(keepends=True):
            if line.startswith("PackageVersion:"):
                line = f"PackageVersion: {self.version}\n"
            a = re.match(r"\s*- Architecture: (\S+)", line)
            if a:
                arch = WINGET_ARCH.get(a.group(1)) or fail(f"{path}: unknown architecture {a.group(1)}")
            u = re.match(r"(\s*)InstallerUrl: (\S+)", line)
            if u:
                if arch is None:
                    fail(f"{path}: InstallerUrl before Architecture")
                pending = self.asset(u.group(2), template_version, arch)
                if pending:
                    line = f"{u.group(1)}InstallerUrl: {self.url(pending[0])}\n"
            s = re.match(r"(\s*)InstallerSha256: ", line)
            if s and pending:
                line = f'{s.group(1)}InstallerSha256: "{pending[1]}"\n'
                pending = None
            out.append(line)
        return "".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--version", required=True)
    p.add_argument("--sums", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--base-url")
    p.add_argument("--partial", action="store_true")
    p.add_argument("--windows-only", action="store_true")
    a = p.parse_args()
    base = a.base_url or subprocess.run(
        ["bash", os.path.join(ROOT, "packaging/release-names.sh"), "url", a.version],
        check=True, capture_output=True, text=True).stdout.strip()
    f = Filler(a.version, read_sums(a.sums), base.rstrip("/"), a.partial)
    os.makedirs(a.out, exist_ok=True)
    jobs = [] if a.windows_only else [(FORMULA, f.formula)]
    jobs.append((SCOOP, f.scoop))
    for path in sorted(glob.glob(os.path.join(ROOT, WINGET))):
        rel = os.path.relpath(path, ROOT)
        jobs.append((rel, lambda text, rel=rel: f.winget(text, rel)))
    for rel, fill in jobs:
        text = open(os.path.join(ROOT, rel), encoding="utf-8").read()
        dest = os.path.join(a.out, os.path.basename(rel))
        with open(dest, "w", encoding="utf-8", newline="\n") as w:
            w.write(fill(text))
        print(dest)


if __name__ == "__main__":
    main()
