#!/usr/bin/env python3
"""shellcheck on every bash `run:` block of the workflows (what actionlint would add).

Each block is checked as GitHub runs it: `bash -e -o pipefail`, with the job's and the
workflow's `defaults.run.shell`. PowerShell blocks are skipped. A `${{ }}` expression in a
block is itself an error: untrusted text must reach a script through `env:`.

Usage: python3 tests/ci/shellcheck-workflows.py [SHELLCHECK]      (PyYAML)
"""

import glob
import os
import re
import subprocess
import sys
import tempfile

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    shellcheck = sys.argv[1] if len(sys.argv) > 1 else "shellcheck"
    failures, blocks = 0, 0
    for path in sorted(glob.glob(os.path.join(ROOT, ".github/workflows/*.yml"))):
        rel = os.path.relpath(path, ROOT)
        wf = yaml.safe_load(open(path, encoding="utf-8"))
        wf_shell = wf.get("defaults", {}).get("run", {}).get("shell")
        for job_id, job in wf["jobs"].items():
            job_shell = job.get("defaults", {}).get("run", {}).get("shell")
            for n, step in enumerate(job.get("steps", []), 1):
                if "run" not in step:
                    continue
                shell = step.get("shell") or job_shell or wf_shell or "bash"
                where = f"{rel}: {job_id} step {n} ({step.get('name', step['run'].splitlines()[0])})"
                if "${{" in step["run"]:
                    print(f"{where}: a ${{{{ }}}} expression inside run: (pass it through env:)")
                    failures += 1
                if shell in ("pwsh", "powershell"):
                    continue
                blocks += 1
                with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
                    f.write("#!/usr/bin/env bash\nset -eo pipefail\n" + step["run"])
                run = subprocess.run([shellcheck, "--shell=bash", "--format=gcc", f.name],
                                     capture_output=True, text=True)
                os.unlink(f.name)
                if run.returncode:
                    failures += 1
                    out = re.sub(r"^\S+?:(\d+):", lambda m: f"line {int(m.group(1)) - 2}:", run.stdout, flags=re.M)
                    print(f"{where}:\n{out}")
    if failures:
        sys.exit(f"shellcheck-workflows: {failures} block(s) with findings")
    print(f"shellcheck: {blocks} bash run: blocks clean")


if __name__ == "__main__":
    main()
