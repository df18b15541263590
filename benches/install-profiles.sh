#!/usr/bin/env bash
# Which cargo profile packaging/install.sh should build (issue 32), measured as a user meets
# it. For each profile given: `bash packaging/install.sh` itself, into a scratch HOME,
# CARGO_INSTALL_ROOT and an empty CARGO_TARGET_DIR (the crates are fetched once beforehand:
# downloads cost every profile the same), timed in wall and CPU (user+sys of the whole build,
# which a shared machine does not inflate); the installed binaries' sizes and whether they
# carry .debug_info; the build's serial tail (the ecr-login crate, built after every
# dependency, with nothing beside it: on many cores the install takes at least that); then,
# through each installed front binary, a cold miss (empty cache, one
# GetAuthorizationToken call to the fake ECR endpoint, examples/fake_ecr.rs over plain HTTP,
# timed by hyperfine with `--prepare` emptying the cache, as benches/bench.sh does) and a hit
# (benches/spawn_bench.py, the profiles taking turns). Markdown on stdout, progress on stderr.
# The profiles: Cargo.toml's (dist, release), and `local`, defined here (release without
# debug info, stripped: what a lighter install profile would be).
# Usage: bash benches/install-profiles.sh [PROFILE...]     (default: dist local release)
# Knobs (environment): RUNS (300) hits, COLD_RUNS (30) misses, NICE (10) for the builds.
set -euo pipefail
cd "$(dirname "$0")/.."
profiles=("$@")
((${#profiles[@]})) || profiles=(dist local release)
runs=${RUNS:-300}
cold_runs=${COLD_RUNS:-30}
niceness=${NICE:-10}
say() { echo "install-profiles: $*" >&2; }
# shellcheck source=benches/common.sh
. benches/common.sh

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
command -v readelf >/dev/null || missing+=(binutils)
install_missing ${missing[@]+"${missing[@]}"}

start_work

# The user's cargo and toolchains, while HOME is the scratch one.
export CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup}
# `local`, from cargo's configuration in the environment (not in Cargo.toml: nothing ships it).
export CARGO_PROFILE_LOCAL_INHERITS=release CARGO_PROFILE_LOCAL_DEBUG=false CARGO_PROFILE_LOCAL_STRIP=true
say "fetching crates, and the fake endpoint (dev profile)"
cargo fetch --locked --quiet
cargo build --locked --quiet --example fake_ecr
fake_bin=$PWD/target/debug/examples/fake_ecr

declare -A wall cpu front_note tail_wall tail_cpu
for p in "${profiles[@]}"; do
  say "installing with PROFILE=$p (nice -n $niceness)"
  mkdir -p "$work/$p/home"
  env HOME="$work/$p/home" CARGO_INSTALL_ROOT="$work/$p/root" CARGO_TARGET_DIR="$work/$p/target" \
    PROFILE="$p" nice -n "$niceness" /usr/bin/time -f '%e %U %S' -o "$work/$p/time" \
    bash packaging/install.sh 2>"$work/$p/log" || { tail -n 30 "$work/$p/log" >&2; exit 1; }
  read -r w u s <"$work/$p/time"
  wall[$p]=$w
  cpu[$p]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", u + s }')
  front_note[$p]=$(sed -n 's/.*(the front binary, \(.*\))$/\1/p' "$work/$p/log")
  grep -q '"credsStore": "ecr-login"' "$work/$p/home/.docker/config.json" \
    || { say "$p: configure --store did not take effect"; exit 1; }
  # The build's serial tail: the ecr-login crate itself (its build script, compile, LTO and
  # link), which starts when every dependency is done and which nothing runs beside. Rebuilt
  # alone in the same target directory; what the total minus this spreads over the cores.
  CARGO_TARGET_DIR="$work/$p/target" cargo clean --quiet -p ecr-login --profile "$p"
  CARGO_TARGET_DIR="$work/$p/target" nice -n "$niceness" /usr/bin/time -f '%e %U %S' -o "$work/$p/tail" \
    cargo build --locked --quiet --profile "$p" --bin ecr-login
  read -r w u s <"$work/$p/tail"
  tail_wall[$p]=$w
  tail_cpu[$p]=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.0f", u + s }')
  rm -rf "$work/$p/target"
  say "$p: ${wall[$p]} s wall, ${cpu[$p]} s CPU; its tail ${tail_wall[$p]} s wall, ${tail_cpu[$p]} s CPU"
done

# The fake endpoint, serving until its stdin closes.
mkfifo "$work/fake.in"
"$fake_bin" --lifetime-secs 43200 <"$work/fake.in" >"$work/fake.url" 2>/dev/null &
fake_pid=$!
exec {fake_fd}>"$work/fake.in"
until [ -s "$work/fake.url" ]; do sleep 0.02; done
url=$(head -n1 "$work/fake.url")
printf '%s' 123456789012.dkr.ecr.us-east-1.amazonaws.com >"$work/in-ecr"
# Nothing from the caller's AWS setup; the endpoint is part of the cache key, so the hits
# set it too.
base_env=(PATH=/usr/bin:/bin HOME="$work/home" AWS_ACCESS_KEY_ID=AKIABENCHBENCHBENCH1
  AWS_SECRET_ACCESS_KEY=x AWS_EC2_METADATA_DISABLED=true ECR_LOGIN_CONFIG="$work/no-config.toml"
  AWS_ENDPOINT_URL_ECR="$url")
mkdir -p "$work/home"

declare -A miss
spec='[{"name": "/bin/true", "argv": ["/bin/true"], "env": {}, "input": "'"$work/in-ecr"'", "allow_fail": false}]'
for p in "${profiles[@]}"; do
  front=$work/$p/root/bin/docker-credential-ecr-login
  say "$p: $cold_runs cold misses"
  env -i "${base_env[@]}" hyperfine --style basic --warmup 2 --runs "$cold_runs" \
    --prepare "rm -rf $work/$p/cold" --export-json "$work/$p/cold.json" -n "$p" \
    "AWS_ECR_CACHE_DIR=$work/$p/cold $front get < $work/in-ecr" >&2
  miss[$p]=$(jq -r '.results[0].median * 1000 | . * 10 | round / 10' "$work/$p/cold.json")
  # Warm this profile's cache for the hits.
  env -i "${base_env[@]}" AWS_ECR_CACHE_DIR="$work/$p/warm" "$front" get <"$work/in-ecr" >/dev/null
  spec=$(jq -c --arg n "$p" --arg f "$front" --arg c "$work/$p/warm" --arg i "$work/in-ecr" \
    '. + [{name: $n, argv: [$f, "get"], env: {AWS_ECR_CACHE_DIR: $c}, input: $i, allow_fail: false}]' <<<"$spec")
done
say "hits: $runs each, round-robin"
printf '%s' "$spec" >"$work/spec.json"
env -i "${base_env[@]}" python3 benches/spawn_bench.py "$work/spec.json" "$runs" 20 >"$work/hits.json"
exec {fake_fd}>&-

mb() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f", b / 1e6 }'; }
debug() { if readelf -S -W "$1" | grep -q '\.debug_info'; then echo yes; else echo no; fi; }
echo "## Installing with packaging/install.sh, by profile ($(nproc) CPUs, shared; builds under nice -n $niceness)"
echo
echo "| profile | install wall s | install CPU s (user+sys) | serial tail wall / CPU s | front MB | full MB | .debug_info | cold miss median ms | hit median ms | front binary |"
echo "|---|---:|---:|---:|---:|---:|---|---:|---:|---|"
for p in "${profiles[@]}"; do
  r=$work/$p/root/bin
  hit=$(jq -r --arg n "$p" '.[$n].median * 1000 | . * 100 | round / 100' "$work/hits.json")
  echo "| $p | ${wall[$p]} | ${cpu[$p]} | ${tail_wall[$p]} / ${tail_cpu[$p]} | $(mb "$r/docker-credential-ecr-login") | $(mb "$r/ecr-login") |" \
    "$(debug "$r/docker-credential-ecr-login") / $(debug "$r/ecr-login") | ${miss[$p]} | $hit | ${front_note[$p]} |"
done
echo
echo "\`/bin/true\` in the same hit rounds: $(jq -r '.["/bin/true"].median * 1000 | . * 100 | round / 100' "$work/hits.json") ms."
echo "Cold miss: $cold_runs runs, each from an empty cache, straight to the fake over plain HTTP."
echo "Serial tail: the ecr-login crate alone (build script, compile, LTO, link), rebuilt after the install."
