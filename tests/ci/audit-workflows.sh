#!/usr/bin/env bash
# The GitHub workflows and packaging manifests, audited here, offline (no GitHub needed):
# 1. zizmor's offline audits of .github/ (workflows and dependabot.yml): no finding of
#    medium severity or above;
# 2. the workflows and dependabot.yml against SchemaStore's schemas (check-jsonschema, which
#    ships them), and shellcheck on every bash `run:` block (tests/ci/shellcheck-workflows.py);
# 3. the manifests' URLs against the release's asset names (tests/ci/check-release-names.py).
# The tools (tests/ci/requirements.txt, from PyPI) go into a venv in target/ci-tools/, once.
# Usage: bash tests/ci/audit-workflows.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=target/ci-tools/venv
stamp=$venv/requirements.txt
if ! cmp -s tests/ci/requirements.txt "$stamp"; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/ci/requirements.txt
  cp tests/ci/requirements.txt "$stamp"
fi
py=$venv/bin/python

# --offline: no audit that asks GitHub (impostor commits, known-vulnerable actions).
"$venv/bin/zizmor" --offline --no-progress --color never --min-severity medium .github
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
"$venv/bin/check-jsonschema" --builtin-schema vendor.dependabot .github/dependabot.yml
"$py" tests/ci/shellcheck-workflows.py "$venv/bin/shellcheck"
"$py" tests/ci/check-release-names.py
