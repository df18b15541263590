#!/usr/bin/env bash
# What a cache hit costs as each install channel builds the front binary
# (`docker-credential-ecr-login`), measured whole-process beside /bin/true:
#   - packages (.deb/.rpm): static for musl (benches/bench.sh measures the same build);
#   - packaging/install.sh: static for glibc (crt-static), as it builds it now;
#   - a plain `cargo install` (and Homebrew, which builds with cargo on macOS, dynamic):
#     dynamic for glibc, the way install.sh built it before.
# The Windows zip cannot be timed here (wine is not Windows). The cache is seeded with a
# `docker login` token through `store`, so every `get` is a hit and no AWS code runs.
# Usage: bash benches/channels.sh      Knobs: RUNS (300), PROFILE (release)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-300}
profile=${PROFILE:-release}
host=$(rustc -vV | sed -n 's/^host: //p')
musl=x86_64-unknown-linux-musl
rustup target list --installed | grep -qx "$musl" || rustup target add "$musl" >&2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
build() { # name, then cargo arguments
  local name=$1; shift
  cargo build --quiet --locked --profile "$profile" -p ecr-login-front "$@" >&2
  local dir=target
  for a in "$@"; do case "$a" in --target=*) dir=target/${a#--target=} ;; esac; done
  local p=$profile; [ "$p" = dev ] && p=debug
  cp "$dir/$p/docker-credential-ecr-login" "$out/$name"
}
build musl --target="$musl"
RUSTFLAGS="-C target-feature=+crt-static" build glibc-static --target="$host"
build glibc-dynamic
export AWS_ECR_CACHE_DIR=$out/cache ECR_LOGIN_CONFIG=$out/config.toml HOME=$out
server=123456789012.dkr.ecr.us-east-1.amazonaws.com
printf '{"ServerURL":"%s","Username":"AWS","Secret":"bench-token"}' "$server" | "$out/musl" store
for b in musl glibc-static glibc-dynamic; do
  [ "$(printf %s "$server" | "$out/$b" get)" = "{\"ServerURL\":\"$server\",\"Username\":\"AWS\",\"Secret\":\"bench-token\"}" ] \
    || { echo "channels: $b get is not a hit" >&2; exit 1; }
done
printf %s "$server" > "$out/server"
# Timings by benches/spawn_bench.py (posix_spawn, stdin from the file, no shell; the rows run
# round-robin). hyperfine 1.15 has no --input.
python3 - "$out" > "$out/spec.json" <<'PY'
import json, sys
out = sys.argv[1]
rows = [("/bin/true", ["/bin/true"], None),
        ("musl static (.deb, .rpm)", [f"{out}/musl", "get"], "musl"),
        ("glibc static (install.sh now)", [f"{out}/glibc-static", "get"], "glibc-static"),
        ("glibc dynamic (cargo install; install.sh before)", [f"{out}/glibc-dynamic", "get"], "glibc-dynamic")]
print(json.dumps([{"name": n, "argv": a, "env": {}, "input": f"{out}/server", "allow_fail": False} for n, a, _ in rows]))
PY
python3 benches/spawn_bench.py "$out/spec.json" "$runs" 20 > "$out/times.json"
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
t = json.load(open(f"{out}/times.json"))
files = {"musl static": "musl", "glibc static": "glibc-static", "glibc dynamic": "glibc-dynamic"}
base = t["/bin/true"]["median"]
print("| channel | hit median | vs /bin/true | size |")
print("|---|---|---|---|")
for name, r in t.items():
    f = next((v for k, v in files.items() if name.startswith(k)), None)
    size = f"{os.path.getsize(os.path.join(out, f)) / 1e6:.1f} MB" if f else "-"
    print(f"| {name} | {r['median'] * 1e3:.2f} ms | {r['median'] / base:.2f}x | {size} |")
PY
