#!/usr/bin/env bash
# Whole-process benchmarks of the credential helper, printed as markdown tables on stdout
# (progress and hyperfine's own output go to stderr).
#
#  1. cache-hit `get`, `version`, non-ECR `get`: median, mean ± σ, peak RSS, ratio to a bare
#     process start (/bin/true), beside Debian's Go helper (amazon-ecr-credential-helper)
#     when it is installed, its cache pre-populated so that its `get` makes no network call;
#     then the hit against its floor, in one round-robin run: a static no-op built as ours is
#     (benches/noop.rs), ours and the Go helper, with the ratios, peak RSS, system calls,
#     minor page faults and (with valgrind) instructions of each; as root, once as root
#     (who looks at every path first) and once as an unprivileged user (nobody);
#  2. cold `get` against the fake ECR endpoint (examples/fake_ecr.rs), ours and the Go
#     helper's through the same HTTPS proxy (benches/tls_proxy.py: the Go helper ignores
#     AWS_ENDPOINT_URL_ECR), plus ours straight to the fake over plain HTTP;
#  3. 32 parallel cold `get`s: wall time and API calls;
#  4. 200 sequential `get`s while the daemon renews short-lived tokens underneath.
#
# Usage: bash benches/bench.sh
# Knobs (environment): RUNS (300), WARMUP (20), COLD_RUNS (100), PAR_ROUNDS (10),
# SEQ_GETS (200), SEQ_PACE seconds between sequential gets (0.05), SEQ_LIFETIME token
# lifetime in seconds for the daemon run (10), RSS_RUNS (20), PROFILE: the cargo profile of
# the binaries measured (dist, as the packages ship them; release builds faster),
# HIT_ONLY=1: section 1 alone, BEFORE: another build of the front binary (an older commit's)
# to time beside ours in the floor tables, on the same cache.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-300}
warmup=${WARMUP:-20}
cold_runs=${COLD_RUNS:-100}
par_rounds=${PAR_ROUNDS:-10}
seq_gets=${SEQ_GETS:-200}
seq_pace=${SEQ_PACE:-0.05}
seq_lifetime=${SEQ_LIFETIME:-10}
rss_runs=${RSS_RUNS:-20}
profile=${PROFILE:-dist}
hit_only=${HIT_ONLY:-}
before=${BEFORE:-}

say() { echo "bench: $*" >&2; }
# shellcheck source=benches/common.sh
. benches/common.sh

# --- tools -------------------------------------------------------------------------------
missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[ -x /usr/bin/time ] || missing+=(time)
command -v jq >/dev/null || missing+=(jq)
command -v openssl >/dev/null || missing+=(openssl)
command -v python3 >/dev/null || missing+=(python3)
command -v pass >/dev/null || missing+=(pass)
command -v docker-credential-pass >/dev/null || missing+=(golang-docker-credential-helpers)
install_missing ${missing[@]+"${missing[@]}"}

say "building ($profile)"
cargo build --release --quiet --example fake_ecr
# As the packages ship them: the front binary static (musl: no dynamic loader, no libc to
# relocate), the full one beside it, where the front hands misses to.
musl=x86_64-unknown-linux-musl
rustup target list --installed | grep -qx "$musl" || rustup target add "$musl" >&2
cargo build --profile "$profile" --quiet --bin ecr-login
cargo build --profile "$profile" --quiet -p ecr-login-front --target "$musl"
mkdir -p target/bench-bin
cp "target/$musl/$profile/docker-credential-ecr-login" "target/$profile/ecr-login" target/bench-bin/
ours=$PWD/target/bench-bin/docker-credential-ecr-login
# The floor: a process that does nothing, static for musl, no unwinding; as rustc links it
# by default (static-pie), and as .cargo/config.toml links ours (not position-independent).
rustc --edition 2024 -C opt-level=3 -C panic=abort -C strip=symbols --target "$musl" \
  benches/noop.rs -o target/bench-bin/noop
rustc --edition 2024 -C opt-level=3 -C panic=abort -C strip=symbols --target "$musl" \
  -C relocation-model=static benches/noop.rs -o target/bench-bin/noop-static
noop=$PWD/target/bench-bin/noop
if [ -n "$before" ]; then
  # Beside the full binary too, so that it could hand a miss over like ours (a hit does not).
  mkdir -p target/bench-bin/before
  cp "$before" target/bench-bin/before/docker-credential-ecr-login
  cp "target/$profile/ecr-login" target/bench-bin/before/
  before=$PWD/target/bench-bin/before/docker-credential-ecr-login
  say "before: $BEFORE"
fi
fake_bin=$PWD/target/release/examples/fake_ecr

# The Go helper has the same binary name as ours: use it only by its full path, and only
# if it is Debian's package and not a copy of ours.
go=/usr/bin/docker-credential-ecr-login
go_version=
if [ -x "$go" ] && dpkg -S "$go" 2>/dev/null | grep -q '^amazon-ecr-credential-helper:' \
  && ! cmp -s "$go" "$ours"; then
  go_version=$(dpkg-query -W -f='${Version}' amazon-ecr-credential-helper)
  say "Go helper: $go (amazon-ecr-credential-helper $go_version)"
else
  say "Go helper not installed (apt-get install amazon-ecr-credential-helper): its rows are skipped"
  go=
fi

# --- scratch space, servers --------------------------------------------------------------
work=$(mktemp -d)
# Others may pass through (not list): the floor tables run as nobody too, on files in here.
chmod 711 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ ! -d "$work/pass" ] || bash benches/pass-store.sh --teardown "$work/pass"
  rm -rf "$work"
}
trap cleanup EXIT

registry=123456789012.dkr.ecr.us-east-1.amazonaws.com
printf '%s' "$registry" > "$work/in-ecr"
printf '%s' "https://index.docker.io/v1/" > "$work/in-docker"
mkdir -p "$work/home"
akid=AKIABENCHBENCHBENCH1
# Everything runs in this environment and nothing else from the caller's.
base_env=(PATH="$PATH" HOME="$work/home" AWS_ACCESS_KEY_ID="$akid" AWS_SECRET_ACCESS_KEY=x
  AWS_EC2_METADATA_DISABLED=true ECR_LOGIN_CONFIG="$work/no-config.toml")

declare -A fake_url fake_fd fake_pid proxy_port proxy_fd
# start_fake NAME LIFETIME_SECS: a fake ECR endpoint counting its token calls into
# $work/NAME.count when stopped, with an HTTPS proxy in front of it.
start_fake() {
  local name=$1 life=$2 fd
  mkfifo "$work/$name.in"
  "$fake_bin" --lifetime-secs "$life" --count-file "$work/$name.count" \
    < "$work/$name.in" > "$work/$name.url" 2>/dev/null &
  fake_pid[$name]=$!
  pids+=($!)
  exec {fd}>"$work/$name.in"
  fake_fd[$name]=$fd
  until [ -s "$work/$name.url" ]; do sleep 0.02; done
  fake_url[$name]=$(head -n1 "$work/$name.url")
  local port=${fake_url[$name]##*:}
  mkfifo "$work/$name.proxy-in"
  python3 benches/tls_proxy.py "$work/leaf.pem" "$work/leaf.key" "$port" \
    < "$work/$name.proxy-in" > "$work/$name.proxy-port" 2> "$work/$name.proxy-err" &
  pids+=($!)
  exec {fd}>"$work/$name.proxy-in"
  proxy_fd[$name]=$fd
  until [ -s "$work/$name.proxy-port" ]; do sleep 0.02; done
  proxy_port[$name]=$(head -n1 "$work/$name.proxy-port")
}
# stop_fake NAME: stops the proxy and the fake (closing their stdin), and sets $calls to the
# number of token calls the fake served. Not in a subshell: the shell must close its fds.
stop_fake() {
  local name=$1 fd
  fd=${proxy_fd[$name]}; exec {fd}>&-
  fd=${fake_fd[$name]}; exec {fd}>&-
  wait "${fake_pid[$name]}" 2>/dev/null || true
  calls=$(cat "$work/$name.count")
}

# A throw-away CA and a certificate for the ECR API host, for the HTTPS proxy.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=ecr-login-bench-ca -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj /CN=api.ecr.us-east-1.amazonaws.com -keyout "$work/leaf.key" -out "$work/leaf.csr" 2>/dev/null
printf 'subjectAltName=DNS:api.ecr.us-east-1.amazonaws.com,DNS:localhost\n' > "$work/leaf.ext"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
  -CAcreateserial -days 2 -extfile "$work/leaf.ext" -out "$work/leaf.pem" 2>/dev/null

start_fake main 43200
# The endpoint is part of our cache key (a test double's token is another token), so every
# run of ours that should hit the cache warmed here sets the same variables.
ours_direct=(AWS_ENDPOINT_URL_ECR="${fake_url[main]}" AWS_ENDPOINT_URL_ECR_PUBLIC="${fake_url[main]}")
via_proxy() { echo "HTTPS_PROXY=http://127.0.0.1:${proxy_port[$1]} SSL_CERT_FILE=$work/ca.pem"; }

# --- warm caches -------------------------------------------------------------------------
run() { env -i "${base_env[@]}" "$@"; }
reply=$(run "${ours_direct[@]}" AWS_ECR_CACHE_DIR="$work/ours-cache" "$ours" get < "$work/in-ecr")
secret=$(jq -r .Secret <<<"$reply")
[ -n "$secret" ] && [ "$secret" != null ] || { say "our cold get failed: $reply"; exit 1; }

if [ -n "$go" ]; then
  # The Go helper's cache (ecr-login/cache in awslabs/amazon-ecr-credential-helper 0.6.0):
  # $AWS_ECR_CACHE_DIR/cache.json = {"Registries": {KEY: AuthEntry}, "Version": "1.0"} with
  # KEY = "<region>-<checksum(access key id)>-<registry id>", where checksum(s) is
  # base64(s followed by the 16 bytes of md5("")) (it calls md5.New().Sum([]byte(s)),
  # which appends the digest of nothing to s), and an AuthEntry served while less than
  # half its RequestedAt..ExpiresAt window has passed.
  sum=$({ printf '%s' "$akid"; printf '\xd4\x1d\x8c\xd9\x8f\x00\xb2\x04\xe9\x80\x09\x98\xec\xf8\x42\x7e'; } | base64 -w0)
  mkdir -p "$work/go-cache"
  jq -n --arg key "us-east-1-$sum-${registry%%.*}" \
    --arg token "$(printf 'AWS:%s' "$secret" | base64 -w0)" \
    --arg now "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    --arg exp "$(date -u -d '+12 hours' +%Y-%m-%dT%H:%M:%SZ)" \
    --arg proxy "https://$registry" \
    '{Registries: {($key): {AuthorizationToken: $token, RequestedAt: $now, ExpiresAt: $exp,
      ProxyEndpoint: $proxy, Service: "ecr"}}, Version: "1.0"}' > "$work/go-cache/cache.json"
  go_reply=$(run AWS_ECR_CACHE_DIR="$work/go-cache" "$go" get < "$work/in-ecr")
  [ "$(jq -r .Secret <<<"$go_reply")" = "$secret" ] \
    || { say "the Go helper did not answer from the pre-populated cache: $go_reply"; exit 1; }
fi

# A hit must make no network call: check with strace when it is there.
net_note=
if command -v strace >/dev/null; then
  check_no_net() { # NAME CMD...
    local log=$work/strace.$RANDOM
    run "$@" < "$work/in-ecr" > /dev/null 2>&1 || true
    strace -f -qq -o "$log" -e trace=connect env -i "${base_env[@]}" "$@" < "$work/in-ecr" > /dev/null 2>&1 || true
    local n
    n=$(grep -c 'connect(.*AF_INET' "$log" || true)
    [ "$n" = 0 ] || { say "a cache-hit get connected to the network: $(grep connect "$log")"; exit 1; }
  }
  check_no_net "${ours_direct[@]}" AWS_ECR_CACHE_DIR="$work/ours-cache" "$ours" get
  [ -z "$go" ] || check_no_net AWS_ECR_CACHE_DIR="$work/go-cache" "$go" get
  net_note="strace: no \`connect\` to the network on either cache-hit \`get\`."
fi

# --- 1. whole-process table --------------------------------------------------------------
# Timings: benches/spawn_bench.py (posix_spawn, stdin from the file, no shell, the rows run
# round-robin). Peak RSS: GNU time, which forks (a small parent) and execs the program.
rows=() spec='[]'
# row NAME STDIN ALLOW_FAIL VAR=VALUE... CMD ARGS...
row() {
  local name=$1 input=$2 allow_fail=$3
  shift 3
  local envs=()
  while [[ $1 == *=* ]]; do envs+=("$1"); shift; done
  spec=$(jq -c --arg name "$name" --arg input "$input" --argjson fail "$allow_fail" \
    --args '. + [{name: $name, input: $input, allow_fail: ($fail == 1),
      env: ($ARGS.positional | map(select(startswith("VAR:")) | ltrimstr("VAR:") | split("=")
        | {(.[0]): (.[1:] | join("="))}) | add // {}),
      argv: ($ARGS.positional | map(select(startswith("ARG:")) | ltrimstr("ARG:")))}]' \
    <<<"$spec" "${envs[@]/#/VAR:}" "${@/#/ARG:}")
  say "peak RSS: $name"
  local max=0 i r
  for ((i = 0; i < rss_runs; i++)); do
    run "${envs[@]}" /usr/bin/time -f %M -o "$work/rss" "$@" < "$input" > /dev/null 2>&1 || true
    r=$(tail -n1 "$work/rss")
    [ "$r" -le "$max" ] || max=$r
  done
  rows+=("$name|$max")
}

# credsStore mode: ecr-login gets every registry. Another registry's login, kept by the
# fallback (pass, through docker-credential-pass) or by ecr-login's own file store.
eval "$(bash benches/pass-store.sh "$work/pass")"
pass_env=(GNUPGHOME="$GNUPGHOME" PASSWORD_STORE_DIR="$PASSWORD_STORE_DIR")
other=127.0.0.1:5000
printf '%s' "$other" > "$work/in-other"
login="{\"ServerURL\":\"$other\",\"Username\":\"alice\",\"Secret\":\"alice-pw\"}"
printf '[store]\nfallback = "pass"\n' > "$work/store-pass.toml"
run "${pass_env[@]}" docker-credential-pass store <<<"$login" >/dev/null
run ECR_LOGIN_STORE_DIR="$work/logins" "$ours" store <<<"$login" >/dev/null 2>&1
pass_bin=$(command -v docker-credential-pass)

row '`/bin/true`' "$work/in-ecr" 0 /bin/true
row 'ours: cache-hit `get`' "$work/in-ecr" 0 "${ours_direct[@]}" AWS_ECR_CACHE_DIR="$work/ours-cache" "$ours" get
row 'ours: `version`' "$work/in-ecr" 0 "$ours" version
row 'ours: non-ECR `get` (not found, exit 1)' "$work/in-docker" 1 "${ours_direct[@]}" AWS_ECR_CACHE_DIR="$work/ours-cache" "$ours" get
row 'ours as credsStore: ECR cache-hit `get`' "$work/in-ecr" 0 "${ours_direct[@]}" AWS_ECR_CACHE_DIR="$work/ours-cache" ECR_LOGIN_CONFIG="$work/store-pass.toml" "$ours" get
row 'ours as credsStore: other registry, own store' "$work/in-other" 0 ECR_LOGIN_STORE_DIR="$work/logins" "$ours" get
row 'ours as credsStore: other registry, via pass' "$work/in-other" 0 "${pass_env[@]}" ECR_LOGIN_CONFIG="$work/store-pass.toml" "$ours" get
row '`docker-credential-pass get`, directly' "$work/in-other" 0 "${pass_env[@]}" "$pass_bin" get
if [ -n "$go" ]; then
  row 'Go helper: cache-hit `get`' "$work/in-ecr" 0 AWS_ECR_CACHE_DIR="$work/go-cache" "$go" get
  row 'Go helper: `version`' "$work/in-ecr" 0 "$go" version
  row 'Go helper: non-ECR `get` (not found, exit 1)' "$work/in-docker" 1 AWS_ECR_CACHE_DIR="$work/go-cache" "$go" get
fi
say "timing ${#rows[@]} commands round-robin: $runs runs each after $warmup warm-ups"
printf '%s' "$spec" > "$work/spec.json"
env -i "${base_env[@]}" python3 benches/spawn_bench.py "$work/spec.json" "$runs" "$warmup" > "$work/times.json"
# Cross-check with hyperfine where no stdin is needed (-N: no shell).
say "hyperfine -N cross-check"
env -i "${base_env[@]}" hyperfine -N --style basic --warmup "$warmup" --runs "$runs" \
  --export-json "$work/hf-n.json" -n '`/bin/true`' /bin/true -n 'ours `version`' "$ours version" \
  ${go:+-n 'Go helper `version`' "$go version"} >&2

ms() { awk -v s="$1" 'BEGIN { printf "%.2f", s * 1000 }'; }
stat_of() { jq -r --arg n "$1" --arg k "$2" '.[$n][$k]' "$work/times.json"; }
base=$(stat_of '`/bin/true`' median)
pie=$(readelf -h "$ours" | awk '/Type:/ { print ($2 == "DYN") ? "PIE" : "non-PIE" }')
echo "## Whole process ($(nproc) CPUs, $(uname -r), $runs runs each after $warmup warm-ups)"
echo
echo "Ours: the front binary built for $musl, static ($profile profile, $pie, $(( $(stat -c %s "$ours") / 1048576 )) MiB), the full one beside it."
echo "Times: spawn to exit, no shell, stdin from a file, the commands taking turns"
echo "(benches/spawn_bench.py). Peak RSS: the largest of $rss_runs runs under GNU time (\`%M\`)."
echo
echo "| command | median ms | mean ± σ ms | peak RSS KB | median / \`/bin/true\` |"
echo "|---|---:|---:|---:|---:|"
for r in "${rows[@]}"; do
  IFS='|' read -r name rss <<<"$r"
  median=$(stat_of "$name" median)
  printf '| %s | %s | %s ± %s | %s | %s |\n' "$name" "$(ms "$median")" "$(ms "$(stat_of "$name" mean)")" \
    "$(ms "$(stat_of "$name" stddev)")" "$rss" "$(awk -v a="$median" -v b="$base" 'BEGIN { printf "%.2fx", a / b }')"
done
echo
echo "hyperfine -N (no shell, no stdin) cross-check, medians: $(jq -r '[.results[] | "\(.command) \(.median * 1000 * 100 | round / 100) ms"] | join(", ")' "$work/hf-n.json")."
[ -z "$net_note" ] || echo "$net_note"
[ -z "$go" ] || echo "Go helper: Debian's amazon-ecr-credential-helper $go_version."
echo

# --- 1b. the hit against its floor ---------------------------------------------------------
# One round-robin run of the static no-op, our cache-hit `get` (and BEFORE's) and the Go
# helper's, each row with what a run costs besides time: peak RSS (GNU time, as above),
# system calls (strace -f -c: every thread's, from the exec), minor page faults (the mean of
# the timed runs, from wait4) and, with valgrind, user-space instructions (callgrind). The
# counts do not move with the load on the machine; the times do, alike for every row.
# As root the front binary first looks at every path it may use (src privilege.rs), which a
# user's does not: then the table is made twice, as root and as nobody (through setpriv,
# with caches of nobody's own).
floor_cols=()
floor_row() { # NAME VAR=VALUE... CMD ARGS...: one row; uses $as, $fenv, $fdir
  local name=$1
  shift
  local envs=()
  while [[ $1 == *=* ]]; do envs+=("$1"); shift; done
  floor_spec=$(jq -c --arg name "$name" --arg input "$work/in-ecr" \
    --args '. + [{name: $name, input: $input, allow_fail: false,
      env: ($ARGS.positional | map(select(startswith("VAR:")) | ltrimstr("VAR:") | split("=")
        | {(.[0]): (.[1:] | join("="))}) | add // {}),
      argv: ($ARGS.positional | map(select(startswith("ARG:")) | ltrimstr("ARG:")))}]' \
    <<<"$floor_spec" "${fenv[@]/#/VAR:}" "${envs[@]/#/VAR:}" "${@/#/ARG:}")
  floor_names+=("$name")
  local max=0 i r sys=- ins=-
  for ((i = 0; i < rss_runs; i++)); do
    run "${fenv[@]}" "${envs[@]}" "${as[@]}" /usr/bin/time -f %M -o "$fdir/rss" "$@" \
      < "$work/in-ecr" > /dev/null 2>&1 || true
    r=$(tail -n1 "$fdir/rss")
    [ "$r" -le "$max" ] || max=$r
  done
  if command -v strace >/dev/null; then
    run "${fenv[@]}" "${envs[@]}" "${as[@]}" strace -f -qq -c -o "$fdir/sc" "$@" \
      < "$work/in-ecr" > /dev/null 2>&1 || true
    sys=$(awk '$NF == "total" { print $4 }' "$fdir/sc")
  fi
  if command -v valgrind >/dev/null; then
    run "${fenv[@]}" "${envs[@]}" "${as[@]}" valgrind --tool=callgrind \
      --callgrind-out-file=/dev/null "$@" < "$work/in-ecr" > /dev/null 2> "$fdir/vg" || true
    ins=$(sed -n 's/.*Collected : //p' "$fdir/vg")
  fi
  floor_cols+=("$name|$max|$sys|${ins:--}")
}
# floor WHO: the table as WHO: `self` (whoever runs this) or `user` (nobody, as root).
floor() {
  local who=$1
  fdir=$work/floor-$who as=() fenv=()
  floor_spec='[]' floor_names=() floor_cols=()
  local ours_cache=$work/ours-cache go_cache=$work/go-cache py=python3
  mkdir -p "$fdir"
  if [ "$who" = user ]; then
    as=(setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups)
    # The system's python: one on PATH may live where nobody cannot go (pyenv under /root).
    py=/usr/bin/python3
    ours_cache=$fdir/ours-cache go_cache=$fdir/go-cache
    mkdir -p "$fdir/home" "$go_cache"
    [ -z "$go" ] || cp "$work/go-cache/cache.json" "$go_cache/"
    chown -R nobody: "$fdir"
    fenv=(HOME="$fdir/home")
    # nobody's own entry, fetched once from the fake by nobody's full binary.
    run "${fenv[@]}" "${ours_direct[@]}" AWS_ECR_CACHE_DIR="$ours_cache" "${as[@]}" "$ours" get \
      < "$work/in-ecr" | jq -e .Secret > /dev/null \
      || { say "nobody's cold get failed"; exit 1; }
  fi
  say "the hit against its floor, as $who"
  floor_row 'static no-op (`fn main(){}`, musl)' "$noop"
  floor_row 'the same no-op, not position-independent' "${noop}-static"
  floor_row 'ours: cache-hit `get`' "${ours_direct[@]}" AWS_ECR_CACHE_DIR="$ours_cache" "$ours" get
  [ -z "$before" ] \
    || floor_row 'ours before (`BEFORE`): cache-hit `get`' "${ours_direct[@]}" AWS_ECR_CACHE_DIR="$ours_cache" "$before" get
  [ -z "$go" ] || floor_row 'Go helper: cache-hit `get`' AWS_ECR_CACHE_DIR="$go_cache" "$go" get
  printf '%s' "$floor_spec" > "$fdir/spec.json"
  chmod -R a+rX "$fdir/spec.json"
  run "${fenv[@]}" "${as[@]}" "$py" benches/spawn_bench.py "$fdir/spec.json" "$runs" "$warmup" \
    > "$fdir/times.json"
  local t=$fdir/times.json
  f_stat() { jq -r --arg n "$1" --arg k "$2" '.[$n][$k]' "$t"; }
  local floor_ms ours_ms
  floor_ms=$(f_stat "${floor_names[0]}" median)
  ours_ms=$(f_stat 'ours: cache-hit `get`' median)
  if [ "$who" = user ]; then
    echo "### The cache hit against its floor, as an unprivileged user (nobody)"
  else
    echo "### The cache hit against its floor, as $(id -un) (uid $(id -u))"
  fi
  echo
  echo "| command | median ms | / static no-op | ours / this | peak RSS KB | system calls | minor page faults | instructions |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  local c name rss sys ins med ours_rss=
  for c in "${floor_cols[@]}"; do
    IFS='|' read -r name rss sys ins <<<"$c"
    med=$(f_stat "$name" median)
    [ "$name" != 'ours: cache-hit `get`' ] || ours_rss=$rss
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$(ms "$med")" \
      "$(awk -v a="$med" -v b="$floor_ms" 'BEGIN { printf "%.2f", a / b }')" \
      "$(awk -v a="$ours_ms" -v b="$med" 'BEGIN { printf "%.2f", a / b }')" \
      "$rss" "$sys" "$(printf '%.1f' "$(f_stat "$name" minflt)")" "$ins"
  done
  echo
  # Against the goals: each says whether it is met in this run.
  goal() { awk -v v="$1" -v max="$2" -v what="$3" -v f="$4" \
    'BEGIN { printf "%s " f " (goal ≤ " f ": %s)", what, v, max, (v <= max) ? "met" : "NOT met" }'; }
  local line
  line="$(goal "$(awk -v a="$ours_ms" -v b="$floor_ms" 'BEGIN { print a / b }')" 1.5 'ours / static no-op' '%.2f')"
  if [ -n "$go" ]; then
    line+="; $(goal "$(awk -v a="$ours_ms" -v b="$(f_stat 'Go helper: cache-hit `get`' median)" 'BEGIN { print a / b }')" 0.15 'ours / Go' '%.2f')"
  fi
  line+="; $(goal "$(awk -v k="$ours_rss" 'BEGIN { print k * 1024 / 1e6 }')" 1.5 'peak RSS (MB)' '%.2f')."
  echo "$line"
  echo
}
echo "## The cache hit against its floor ($runs runs each after $warmup warm-ups, round robin)"
echo
echo "The floor is a static no-op (benches/noop.rs: musl, \`opt-level=3\`, \`panic=abort\`), linked as"
echo "rustc links it by default (static-pie); the second row links it as ours is (not position-independent)."
echo "Goals (issue 31): ours / no-op ≤ 1.5, ours / Go ≤ 0.15, peak RSS ≤ 1.5 MB."
echo "System calls: \`strace -f -c\`, from the exec to the exit, every thread. Minor page faults:"
echo "the mean over the timed runs (\`wait4\`). Instructions: user space, \`valgrind --tool=callgrind\`"
echo "(valgrind hides SHA-NI, so SHA-256 counts as its portable code there)."
echo
floor self
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1 \
  && setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups /usr/bin/python3 -c '' 2>/dev/null; then
  floor user
fi
if [ -n "$hit_only" ]; then
  exit 0
fi

# --- 2. cold get ------------------------------------------------------------------------
say "cold get"
cold_rows=()
cold() { # NAME CACHE_DIR COMMAND-STRING
  local json=$work/hf.$RANDOM.json
  say "timing: $1"
  env -i "${base_env[@]}" hyperfine --style basic --warmup 3 --runs "$cold_runs" \
    --prepare "rm -rf $2" --export-json "$json" -n "$1" "$3" >&2
  cold_rows+=("$1|$(jq -r '.results[0] | "\(.median)|\(.mean)|\(.stddev)"' "$json")")
}
cold 'ours, HTTPS via the proxy' "$work/cold-ours" \
  "$(via_proxy main) AWS_ECR_CACHE_DIR=$work/cold-ours $ours get < $work/in-ecr"
[ -z "$go" ] || cold 'Go helper, HTTPS via the proxy' "$work/cold-go" \
  "$(via_proxy main) AWS_ECR_CACHE_DIR=$work/cold-go $go get < $work/in-ecr"
cold 'ours, plain HTTP straight to the fake' "$work/cold-ours" \
  "${ours_direct[*]} AWS_ECR_CACHE_DIR=$work/cold-ours $ours get < $work/in-ecr"
stop_fake main
main_calls=$calls
echo "## Cold \`get\` (empty cache, one GetAuthorizationToken call to the fake endpoint)"
echo
echo "| command | median ms | mean ± σ ms |"
echo "|---|---:|---:|"
for r in "${cold_rows[@]}"; do
  IFS='|' read -r name median mean sd <<<"$r"
  printf '| %s | %s | %s ± %s |\n' "$name" "$(ms "$median")" "$(ms "$mean")" "$(ms "$sd")"
done
echo
echo "Each run starts from an empty cache directory (hyperfine \`--prepare 'rm -rf …'\`). The proxy"
echo "(benches/tls_proxy.py) answers CONNECT and terminates TLS 1.3 with a throw-away CA given to both"
echo "helpers in SSL_CERT_FILE; the Go helper cannot be pointed at the fake any other way. The fake"
echo "served $main_calls token calls: 1 to warm the cache above, 1 per cold run ($(( ${#cold_rows[@]} * (cold_runs + 3) )) with warm-ups)."
echo

# --- 3. 32 parallel cold gets ------------------------------------------------------------
parallel() { # NAME CACHE_DIR VAR=VALUE... CMD...: sets par_result="median_ms|calls_per_round|failures"
  local name=$1 cache=$2
  shift 2
  start_fake "$name" 43200
  local envs=() a
  for a in "$@"; do
    a=${a//@PROXY@/${proxy_port[$name]}}
    envs+=("$a")
  done
  local walls=() fails=0 r i t0 t1
  for ((r = 0; r < par_rounds; r++)); do
    rm -rf "$cache"
    local ps=()
    t0=$EPOCHREALTIME
    for ((i = 0; i < 32; i++)); do
      env -i "${base_env[@]}" AWS_ECR_CACHE_DIR="$cache" "${envs[@]}" < "$work/in-ecr" > "$work/par.$i" 2>&1 &
      ps+=($!)
    done
    for i in "${!ps[@]}"; do
      if ! wait "${ps[$i]}"; then
        fails=$((fails + 1))
        if [ ! -s "$work/$name.first-failure" ]; then
          head -c 300 "$work/par.$i" > "$work/$name.first-failure"
          # The Go helper puts the reason in its log, not on stdout.
          grep -m1 'level=error' "$cache/log/ecr-login.log" 2>/dev/null | head -c 300 >> "$work/$name.first-failure" || true
        fi
      fi
    done
    t1=$EPOCHREALTIME
    walls+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) * 1000 }')")
  done
  stop_fake "$name"
  local median
  median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
  par_result="$median|$(awk -v c="$calls" -v r="$par_rounds" 'BEGIN { printf "%.1f", c / r }')|$fails"
}
say "32 parallel cold gets"
proxy_env=(HTTPS_PROXY=http://127.0.0.1:@PROXY@ SSL_CERT_FILE="$work/ca.pem")
par_rows=()
parallel par-ours "$work/par-ours" "${proxy_env[@]}" "$ours" get
par_rows+=("ours, HTTPS via the proxy|$par_result")
if [ -n "$go" ]; then
  parallel par-go "$work/par-go" "${proxy_env[@]}" "$go" get
  par_rows+=("Go helper, HTTPS via the proxy|$par_result")
fi
echo "## 32 parallel cold \`get\`s for one registry ($par_rounds rounds, empty cache each round)"
echo
echo "| command | median wall ms (all 32 done) | GetAuthorizationToken calls per round | failed gets |"
echo "|---|---:|---:|---:|"
for r in "${par_rows[@]}"; do
  IFS='|' read -r name wall calls fails <<<"$r"
  echo "| $name | $wall | $calls | $fails |"
done
echo
for f in "$work"/par-*.first-failure; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .first-failure)
  echo "First failure ($n): \`$(tr '\n' ' ' < "$f")\`; proxy errors: $(sort "$work/$n.proxy-err" | uniq -c | head -3 | tr '\n' ';')"
  echo
done

# --- 4. sequential gets with the daemon renewing underneath -------------------------------
say "$seq_gets sequential gets with the daemon renewing ${seq_lifetime}s tokens"
start_fake seq "$seq_lifetime"
printf '[daemon]\nrenew_after = 0.3\nkeep_warm = ["%s"]\n' "$registry" > "$work/seq-config.toml"
seq_env=(AWS_ENDPOINT_URL_ECR="${fake_url[seq]}" AWS_ECR_CACHE_DIR="$work/seq-cache"
  ECR_LOGIN_CONFIG="$work/seq-config.toml")
env -i "${base_env[@]}" "${seq_env[@]}" ECR_LOGIN_LOG=info "$ours" daemon 2> "$work/daemon.log" &
daemon=$!
pids+=("$daemon")
until grep -q "renewed " "$work/daemon.log"; do sleep 0.05; done
lat=() fails=0 t_start=$EPOCHREALTIME
for ((i = 0; i < seq_gets; i++)); do
  t0=$EPOCHREALTIME
  env -i "${base_env[@]}" "${seq_env[@]}" "$ours" get < "$work/in-ecr" > /dev/null 2>> "$work/seq.err" \
    || fails=$((fails + 1))
  t1=$EPOCHREALTIME
  lat+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
  sleep "$seq_pace"
done
t_end=$EPOCHREALTIME
# The same loop around /bin/true, for what `env` + fork + exec from bash cost here.
base_lat=()
for ((i = 0; i < 50; i++)); do
  t0=$EPOCHREALTIME
  env -i "${base_env[@]}" /bin/true < "$work/in-ecr" > /dev/null
  t1=$EPOCHREALTIME
  base_lat+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) * 1000 }')")
done
kill -TERM "$daemon"
wait "$daemon" 2>/dev/null || true
stop_fake seq
seq_calls=$calls
renewals=$(grep -c "renewed " "$work/daemon.log" || true)
pct() { printf '%s\n' "${@:2}" | sort -n | awk -v p="$1" '{ v[NR] = $1 } END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print v[i] }'; }
sum=$(printf '%s\n' "${lat[@]}" | awk '{ s += $1 } END { printf "%.1f", s }')
echo "## $seq_gets sequential \`get\`s while the daemon renews (tokens live ${seq_lifetime} s, \`renew_after = 0.3\`, one get every ${seq_pace} s)"
echo
echo "| measure | value |"
echo "|---|---:|"
echo "| wall time of the whole run | $(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }') s |"
echo "| time inside the $seq_gets gets (sum) | $sum ms |"
echo "| per get p50 / p99 / max (bash fork+exec included) | $(pct 50 "${lat[@]}") / $(pct 99 "${lat[@]}") / $(pct 100 "${lat[@]}") ms |"
echo "| same loop around \`/bin/true\`, p50 / p99 | $(pct 50 "${base_lat[@]}") / $(pct 99 "${base_lat[@]}") ms |"
echo "| failed gets | $fails |"
echo "| GetAuthorizationToken calls by the daemon (\`renewed\` in its log) | $renewals |"
echo "| GetAuthorizationToken calls by the gets (fake's total $seq_calls minus the daemon's) | $((seq_calls - renewals)) |"
