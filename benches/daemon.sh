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

# 1. Idle: a 12 h token, nothing due for hours.
start_fake 43200
run_daemon "$url" idle
idle_pid=$pid
until grep -q "renewed" "$work/idle/log"; do sleep 0.1; done
# Let the blocking-pool thread of the first renewal retire (tokio keeps it 10 s).
sleep 15
before=$(switches "$idle_pid")
sleep "$idle"
after=$(switches "$idle_pid")
rss=$(awk '/VmRSS/ {print $2}' /proc/"$idle_pid"/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/"$idle_pid"/status)
threads=$(ls /proc/"$idle_pid"/task | wc -l)
wakes=$(( (after - before) * 60 / idle ))

# 2. Renewals: tokens living $life s, over 10 lifetimes.
start_fake "$life"
run_daemon "$url" busy
sleep $(( life * 10 ))
kill "$pid"; wait "$pid" 2>/dev/null || true
renewals=$(grep -c "renewed " "$work/busy/log" || true)

echo "| measure | value |"
echo "|---|---|"
echo "| idle daemon RSS (VmRSS / peak VmHWM) | ${rss} KB / ${hwm} KB |"
echo "| threads when idle | ${threads} |"
echo "| wake-ups per minute when nothing is due (context switches, all threads) | ${wakes} |"
echo "| API calls over 10 token lifetimes (${life} s tokens) | ${renewals} (= $(awk "BEGIN {printf \"%.2f\", $renewals/10}") per lifetime, i.e. per 12 h) |"
