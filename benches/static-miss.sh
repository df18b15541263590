#!/usr/bin/env bash
# A cold miss through the full binary, static (musl, packaging/static-full.sh) against glibc
# (issue 29: the full binary ships static; musl's allocator must not make the SDK path more
# than 1.5x slower). Each run is a kubelet request with an empty cache against the fake ECR
# over plain HTTP: process start, config, tokio, the SDK's credential chain and one
# GetAuthorizationToken, the cache write. hyperfine's table on stdout.
# Usage: bash benches/static-miss.sh    Knobs: RUNS (50), PROFILE (release)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-50}
profile=${PROFILE:-release}
sub=$([ "$profile" = dev ] && echo debug || echo "$profile")
musl=$(uname -m)-unknown-linux-musl
cargo build --locked --profile "$profile" --quiet --bin ecr-login
cargo build --locked --release --quiet --example fake_ecr
PROFILE=$profile bash packaging/static-full.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
coproc FAKE { target/release/examples/fake_ecr; }
read -r url <&"${FAKE[0]}"
printf '%s' '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"}' >"$work/request.json"
printf '[kubelet]\nfirst_call_spread = "0s"\n' >"$work/config.toml"
export AWS_ENDPOINT_URL_ECR=$url AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=secret
export AWS_EC2_METADATA_DISABLED=true AWS_ECR_CACHE_DIR=$work/cache ECR_LOGIN_CONFIG=$work/config.toml
# Through the shell (hyperfine 1.15 has no --input): the same cost for both.
hyperfine --style basic --export-markdown "$work/table.md" --warmup 3 --runs "$runs" \
  --prepare "rm -rf $work/cache" \
  -n "glibc (target/$sub)" "target/$sub/ecr-login kubelet <$work/request.json" \
  -n "musl static (target/$musl/$sub)" "target/$musl/$sub/ecr-login kubelet <$work/request.json" >&2
cat "$work/table.md"
