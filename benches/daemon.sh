#!/usr/bin/env bash
# The renewal daemon's cost: idle RSS, wake-ups per minute when nothing is due, and API
# calls per token lifetime (12 h in production; here the fake ECR endpoint hands out
# short-lived tokens so a lifetime passes in seconds, and the ratio is the same).
# Usage: bash benches/daemon.sh [IDLE_SECONDS (default 120)] [LIFETIME_SECONDS (default 12)]
set -euo pipefail
cd "$(dirname "$0")/.."
idle=${1:-120}
life=${2:-12}
cargo build --release --quiet --bins --example fake_ecr
bin=$PWD/target/release/docker-credential-ecr-login
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

start_fake() { # $1 = lifetime seconds; sets $url
  ./target/release/examples/fake_ecr --lifetime-secs "$1" --forever \
    > "$work/fake-url-$1" 2>/dev/null < /dev/null &
  pids+=($!)
  until [ -s "$work/fake-url-$1" ]; do sleep 0.05; done
  url=$(head -n1 "$work/fake-url-$1")
}

run_daemon() { # $1 = url, $2 = name; starts a daemon keeping one registry warm, sets $pid
  mkdir -p "$work/$2/home"
  printf '[daemon]\nkeep_warm = ["123456789012.dkr.ecr.us-east-1.amazonaws.com"]\n' > "$work/$2/config.toml"
  if [ -n "${run_daemon_config_extra:-}" ]; then cat "$run_daemon_config_extra" >> "$work/$2/config.toml"; fi
  env -i PATH="$PATH" HOME="$work/$2/home" AWS_ECR_CACHE_DIR="$work/$2/cache" \
    ECR_LOGIN_CONFIG="$work/$2/config.toml" AWS_ENDPOINT_URL_ECR="$1" \
    AWS_ACCESS_KEY_ID=AKIABENCHBENCHBENCH1 AWS_SECRET_ACCESS_KEY=x AWS_EC2_METADATA_DISABLED=true \
    ECR_LOGIN_LOG=info "$bin" daemon 2> "$work/$2/log" &
  pid=$!
  pids+=("$pid")
}

switches() { # total context switches of all threads of $1
  cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}'
}

# 1. Idle: a 12 h token, nothing due for hours; then the same with Docker's config
#    watched (configure --store recorded it), as on a Docker Desktop machine.
start_fake 43200
idle_run() { # $1 = name; sets rss, hwm, threads, wakes
  run_daemon "$url" "$1"
  local p=$pid
  until grep -q "renewed" "$work/$1/log"; do sleep 0.1; done
  # Let the blocking-pool threads of the first renewal and look retire (tokio: 10 s).
  sleep 15
  local before after
  before=$(switches "$p")
  sleep "$idle"
  after=$(switches "$p")
  rss=$(awk '/VmRSS/ {print $2}' /proc/"$p"/status)
  hwm=$(awk '/VmHWM/ {print $2}' /proc/"$p"/status)
  threads=$(ls /proc/"$p"/task | wc -l)
  wakes=$(( (after - before) * 60 / idle ))
  kill "$p"
}
idle_run idle
idle_rss=$rss idle_hwm=$hwm idle_threads=$threads idle_wakes=$wakes
mkdir -p "$work/watched/home/.docker"
printf '{\n\t"credsStore": "ecr-login"\n}\n' > "$work/watched/home/.docker/config.json"
printf '[store]\ndocker_config = "%s"\n' "$work/watched/home/.docker/config.json" > "$work/watched/config.toml.store"
run_daemon_config_extra=$work/watched/config.toml.store
idle_run watched

# 2. Renewals: tokens living $life s, over 10 lifetimes.
run_daemon_config_extra=
start_fake "$life"
run_daemon "$url" busy
sleep $(( life * 10 ))
kill "$pid"; wait "$pid" 2>/dev/null || true
renewals=$(grep -c "renewed " "$work/busy/log" || true)

echo "| measure | value |"
echo "|---|---|"
echo "| idle daemon RSS (VmRSS / peak VmHWM) | ${idle_rss} KB / ${idle_hwm} KB |"
echo "| threads when idle | ${idle_threads} |"
echo "| wake-ups per minute when nothing is due (context switches, all threads) | ${idle_wakes} |"
echo "| the same, watching Docker's config: RSS / peak | ${rss} KB / ${hwm} KB |"
echo "| the same, watching Docker's config: threads, wake-ups per minute | ${threads}, ${wakes} |"
echo "| API calls over 10 token lifetimes (${life} s tokens) | ${renewals} (= $(awk "BEGIN {printf \"%.2f\", $renewals/10}") per lifetime, i.e. per 12 h) |"
