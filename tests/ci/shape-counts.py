#!/usr/bin/env python3
"""The counts issue 30 asks for, from the source alone: `python3 tests/ci/shape-counts.py [DIR]`
(DIR: a checkout, default this one). Prints one line per count.

- `Error::Other` constructions outside tests (`Error::Other(` in crates/ and src/);
- functions over 80 lines in src/commands/doctor/ (a `fn` to its closing brace at the same
  indentation);
- lines of src/commands/doctor/;
- lines of hand-written error impls: `impl ... Display for`, `impl ... Error for` and
  `impl From<...> for` blocks of types whose name ends in `Error` (or `Why`, `Refused`,
  `Untrusted`), whole blocks;
- `pub` items of the root crate (src/), and how many are `pub(crate)`;
- `unsafe` blocks and `unsafe impl`s in crates/ and src/.
Test code (`#[cfg(test)] mod tests` and files named tests.rs) is left out of every count.
"""

import re
import sys
from pathlib import Path

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2])


def source_files(*dirs):
    for d in dirs:
        base = ROOT / d
        if not base.exists():
            continue
        for p in sorted(base.rglob("*.rs")):
            if p.name == "tests.rs" or "/tests/" in str(p.relative_to(ROOT)):
                continue
            yield p


def without_tests(text):
    """The file's lines with `#[cfg(test)]` items (a module or a function) removed."""
    lines = text.splitlines()
    out, skip, depth = [], False, 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "#[cfg(test)]" and not skip:
            skip, depth, started = True, 0, False
            i += 1
            continue
        if skip:
            depth += line.count("{") - line.count("}")
            if "{" in line:
                started = True
            if started and depth <= 0:
                skip = False
            elif not started and line.rstrip().endswith(";"):
                skip = False
            i += 1
            continue
        out.append(line)
        i += 1
    return out


def block_len(lines, start):
    """Lines from `start` to the line that closes the block opened there."""
    depth, opened = 0, False
    for j in range(start, len(lines)):
        depth += lines[j].count("{") - lines[j].count("}")
        if "{" in lines[j]:
            opened = True
        if opened and depth <= 0:
            return j - start + 1
        if not opened and lines[j].rstrip().endswith(";"):
            return j - start + 1
    return len(lines) - start


ERROR_NAME = re.compile(r"(Error|Why|Refused|Untrusted)\b")
IMPL = re.compile(r"^\s*impl\b.*\b(fmt::Display|Display|std::error::Error|error::Error|Error|From<[^>]*>)\s+for\s+(\S+)")


def main():
    other = fn80 = doctor_lines = impl_lines = pub_items = pub_crate = unsafe_blocks = 0
    long_fns = []
    for p in source_files("crates", "src"):
        rel = str(p.relative_to(ROOT))
        lines = without_tests(p.read_text())
        text = "\n".join(lines)
        other += text.count("Error::Other(")
        unsafe_blocks += len(re.findall(r"\bunsafe\s*(\{|impl\b)", text))
        if rel.startswith("src/commands/doctor/"):
            doctor_lines += len(p.read_text().splitlines())
            for i, line in enumerate(lines):
                m = re.match(r"^\s*(pub(\(crate\))?\s+)?(async\s+)?fn\s+(\w+)", line)
                if m:
                    n = block_len(lines, i)
                    if n > 80:
                        fn80 += 1
                        long_fns.append(f"{rel}:{m.group(4)} ({n})")
        for i, line in enumerate(lines):
            m = IMPL.match(line)
            if m and ERROR_NAME.search(m.group(2)) and not line.strip().startswith("//"):
                impl_lines += block_len(lines, i)
        if rel.startswith("src/"):
            for line in lines:
                s = line.strip()
                if re.match(r"pub\(crate\)\s+(fn|struct|enum|mod|const|static|type|trait|use)\b", s):
                    pub_crate += 1
                elif re.match(r"pub\s+(async\s+)?(fn|struct|enum|mod|const|static|type|trait|use)\b", s):
                    pub_items += 1
    print(f"Error::Other constructions: {other}")
    print(f"functions over 80 lines in src/commands/doctor/: {fn80}" + (f" ({', '.join(long_fns)})" if long_fns else ""))
    print(f"lines of src/commands/doctor/: {doctor_lines}")
    print(f"lines of hand-written error impls (Display, Error, From): {impl_lines}")
    print(f"pub items in the root crate (src/): {pub_items} pub, {pub_crate} pub(crate)")
    print(f"unsafe blocks and impls (crates/, src/): {unsafe_blocks}")


main()
