#!/usr/bin/env bash
# What `doctor` costs, release build, as a user runs it (the front binary, handing over to
# `ecr-login` beside it): `doctor --offline` (goal: under 50 ms) and the full run against the
# local fake ECR endpoint (examples/fake_ecr.rs; goal: under 500 ms), each as min / median /
# max over RUNS runs, timed spawn to reap by benches/spawn_bench.py (the two take turns).
#
# The set-up is a healthy one with static keys: credHelpers for one registry, the fake as
# AWS_ENDPOINT_URL_ECR (plain HTTP, so no TLS step), no daemon. The full run makes one real
# GetAuthorizationToken per run.
#
# Usage: bash benches/doctor.sh      Knobs (environment): RUNS (30), WARMUP (3)
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-30}
warmup=${WARMUP:-3}
say() { echo "doctor-bench: $*" >&2; }
# shellcheck source=benches/common.sh
. benches/common.sh
command -v python3 >/dev/null || { say "needs python3"; exit 1; }

# Only the two binaries and the fake: a whole release build is heavy.
say "building (release): ecr-login, docker-credential-ecr-login, the fake ECR"
cargo build --release --quiet --bin ecr-login -p ecr-login
cargo build --release --quiet -p ecr-login-front
cargo build --release --quiet --example fake_ecr
bin=$PWD/target/release

start_work

# The fake serves until its stdin closes (the fd below, closed when this script exits).
mkfifo "$work/fake.in"
"$bin/examples/fake_ecr" < "$work/fake.in" > "$work/fake.url" 2>/dev/null &
fake_pid=$!
# shellcheck disable=SC2034 # never read: held open, so the fake keeps serving
exec {fake_fd}>"$work/fake.in"
until [ -s "$work/fake.url" ]; do sleep 0.02; done
url=$(head -n1 "$work/fake.url")

registry=123456789012.dkr.ecr.us-east-1.amazonaws.com
mkdir -p "$work/home/.docker"
printf '{"credHelpers": {"%s": "ecr-login"}}\n' "$registry" > "$work/home/.docker/config.json"
printf '[daemon]\nkeep_warm = ["%s"]\n' "$registry" > "$work/config.toml"
# Everything runs in this environment and nothing else from the caller's.
base_env=(PATH="$bin:/usr/bin:/bin" HOME="$work/home" AWS_ECR_CACHE_DIR="$work/cache"
  ECR_LOGIN_CONFIG="$work/config.toml" AWS_ACCESS_KEY_ID=AKIABENCHBENCHBENCH1
  AWS_SECRET_ACCESS_KEY=x AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL_ECR="$url")
run() { env -i "${base_env[@]}" "$@"; }

# Once, for the record (stderr): what the runs below report.
run "$bin/docker-credential-ecr-login" doctor >&2 || { say "doctor failed in this set-up"; exit 1; }

cat > "$work/spec.json" <<EOF
[
  {"name": "doctor --offline", "argv": ["$bin/docker-credential-ecr-login", "doctor", "--offline"], "env": {}, "input": "/dev/null"},
  {"name": "doctor (fake ECR)", "argv": ["$bin/docker-credential-ecr-login", "doctor"], "env": {}, "input": "/dev/null"}
]
EOF
say "timing $runs runs of each (after $warmup warm-up runs)"
run python3 benches/spawn_bench.py "$work/spec.json" "$runs" "$warmup" > "$work/result.json"

python3 - "$work/result.json" "$runs" <<'EOF'
import json, sys
result, runs = json.load(open(sys.argv[1])), sys.argv[2]
goals = {"doctor --offline": 50, "doctor (fake ECR)": 500}
print(f"| command ({runs} runs) | min ms | median ms | max ms | goal ms |")
print("|---|---:|---:|---:|---:|")
for name, goal in goals.items():
    r = result[name]
    ms = lambda s: f"{s * 1000:.1f}"
    ok = "" if r["median"] * 1000 < goal else " (missed)"
    print(f"| `{name}` | {ms(r['min'])} | {ms(r['median'])} | {ms(r['max'])} | < {goal}{ok} |")
EOF
