#!/usr/bin/env python3
"""Counts the `pub` items declared in ecr-login-core outside its tests (functions and
methods, types, traits, constants, statics, type aliases) and fails above the budget.

Modules, the fields of public structs and re-exports (`pub use`) are counted apart: a
module or a re-export declares nothing, and a field is part of its type. `pub(crate)` and
`pub(super)` are not API. An item that `unix.rs` and `windows.rs` both declare is one item:
each build has one of them. Usage: core-api.py [--list] [--budget N]"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2] / "crates" / "core" / "src"
DECL = re.compile(r"^\s*pub\s+(?:(?:unsafe|async|const)\s+)*(fn|struct|enum|trait|const|static|type|mod)\s+(\w+)")
FIELD = re.compile(r"^\s*pub\s+(\w+)\s*:")
REEXPORT = re.compile(r"^\s*pub\s+use\s")


def lines_outside_tests(path):
    """The file's lines, without `#[cfg(test)]` items (a module or a function)."""
    text = path.read_text().splitlines()
    out, skip_depth, pending = [], None, False
    for n, line in enumerate(text, 1):
        if skip_depth is not None:
            skip_depth += line.count("{") - line.count("}")
            if skip_depth <= 0 and "}" in line:
                skip_depth = None
            continue
        if line.strip().startswith("#[cfg(test)]"):
            pending = True
            continue
        if pending:
            pending = False
            if line.rstrip().endswith(";"):
                continue  # `mod tests;`
            depth = line.count("{") - line.count("}")
            if depth > 0:
                skip_depth = depth
            continue
        out.append((n, line))
    return out


def main():
    # 140 at issue 19's close. Issue 27 added the bounded reads and descriptor-based writes
    # (files), where Docker's config lives (paths), root's checks (privilege), text made safe
    # to print (printable) and the test hooks; issue 29 the kubelet's settings, the
    # matchImages list configure writes and doctor checks, and the kubelet's label glob;
    # issue 30 the token path's own error (TokenError), the fingerprint key as a value the
    # cache owns (Key, KeyError, Key::ephemeral), the environment seen through one seam
    # (AwsEnv), and the store's error moved into core beside the docker front end's.
    budget = 161
    if "--budget" in sys.argv:
        budget = int(sys.argv[sys.argv.index("--budget") + 1])
    items, modules, fields, reexports = [], [], [], []
    platform_items = set()
    for path in sorted(ROOT.rglob("*.rs")):
        if path.name == "tests.rs":
            continue
        rel = path.relative_to(ROOT)
        for n, line in lines_outside_tests(path):
            m = DECL.match(line)
            if m and m.group(1) == "mod":
                modules.append(f"{rel}:{n}: mod {m.group(2)}")
            elif m:
                if path.stem in ("unix", "windows"):
                    twin = (path.parent, m.group(1), m.group(2))
                    if twin in platform_items:
                        continue
                    platform_items.add(twin)
                items.append(f"{rel}:{n}: {m.group(1)} {m.group(2)}")
            elif FIELD.match(line):
                fields.append(f"{rel}:{n}: field {FIELD.match(line).group(1)}")
                continue
            if REEXPORT.match(line):
                reexports.append(f"{rel}:{n}: {line.strip()}")
    if "--list" in sys.argv:
        print("\n".join(items + modules + reexports))
    print(
        f"ecr-login-core: {len(items)} pub items declared (budget {budget});"
        f" {len(modules)} pub modules, {len(fields)} pub fields, {len(reexports)} re-exports"
    )
    if len(items) > budget:
        print(f"over budget by {len(items) - budget}: make what is not API pub(crate)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
