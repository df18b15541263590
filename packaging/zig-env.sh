# Sourced (from the checkout's root) by packaging/cross-build.sh and tests/macos/check.sh:
# zig from PyPI in target/zig-venv and cargo-zigbuild, on PATH, for cross-linking.
venv=target/zig-venv
if [ ! -x "$venv/bin/python-zig" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q ziglang
  ln -sf python3 "$venv/bin/python-zig"
fi
export PATH=$PWD/$venv/bin:$PATH
command -v cargo-zigbuild >/dev/null || cargo install --locked cargo-zigbuild
