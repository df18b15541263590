#!/usr/bin/env bash
# Boot storm (issue 29): NODES nodes (300) start within one second, each a separate process
# with its own cache directory, as an autoscaler's fresh nodes each run the kubelet's first
# pull. They share one account and region, whose GetAuthorizationToken quota the fake ECR
# enforces: 20 calls/s with a burst of 200 (SPEC Part H). Prints, as markdown:
#   - how many nodes were served within 60 s (the kubelet's exec timeout; goal: all),
#   - the API calls made, throttled ones included (goal: at most 1.5x the nodes),
#   - the slowest node, and the median.
# Not a timed test: run it by hand, on a quiet machine.
# Usage: bash benches/boot-storm.sh      Knobs: NODES (300), QUOTA (20/200), SPREAD (the
#        first-call spread, 1s), RETRY_FOR (50s), PROFILE (release)
set -euo pipefail
cd "$(dirname "$0")/.."
nodes=${NODES:-300}
quota=${QUOTA:-20/200}
spread=${SPREAD:-1s}
retry_for=${RETRY_FOR:-50s}
profile=${PROFILE:-release}
dir=target/$([ "$profile" = dev ] && echo debug || echo "$profile")

echo "boot-storm: building ($profile)" >&2
cargo build --locked --profile "$profile" --quiet --bins -p ecr-login -p ecr-login-front
cargo build --locked --release --quiet --example fake_ecr

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The fake serves until its stdin closes, then writes its call counts.
coproc FAKE { target/release/examples/fake_ecr --quota "$quota" --count-file "$work/calls"; }
read -r url <&"${FAKE[0]}"
printf '[kubelet]\nfirst_call_spread = "%s"\nretry_for = "%s"\n' "$spread" "$retry_for" >"$work/config.toml"

python3 - "$nodes" "$PWD/$dir/docker-credential-ecr-login" "$url" "$work" <<'PY'
import json, os, subprocess, sys, time
nodes, front, url, work = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
request = json.dumps({"apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                      "kind": "CredentialProviderRequest",
                      "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1"}).encode()
base = {"PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL_ECR": url,
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_EC2_METADATA_DISABLED": "true", "ECR_LOGIN_CONFIG": f"{work}/config.toml"}
# Every node's process first, each waiting for its request; then the requests, all at
# once: the first calls come within the window printed, as from nodes booted together.
spawned = [subprocess.Popen([front, "kubelet"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            env=dict(base, AWS_ECR_CACHE_DIR=f"{work}/node{i}",
                                     HOME=f"{work}/home{i}"))
           for i in range(nodes)]
procs, start = [], time.monotonic()
for p in spawned:
    p.stdin.write(request)
    p.stdin.close()
    procs.append((p, time.monotonic()))
launched = time.monotonic() - start
done, failed, errors = [], 0, {}
pending = list(procs)
while pending:
    still = []
    for p, t0 in pending:
        if p.poll() is None:
            still.append((p, t0))
            continue
        took = time.monotonic() - t0
        if p.returncode == 0 and b'"password"' in p.stdout.read():
            done.append(took)
        else:
            failed += 1
            line = p.stderr.read().decode(errors="replace").strip().splitlines()[-1:] or ["?"]
            errors[line[0][:160]] = errors.get(line[0][:160], 0) + 1
    pending = still
    time.sleep(0.02)
done.sort()
within = sum(1 for t in done if t <= 60)
print(f"| nodes | launched within | served within 60 s | failed | median | slowest |")
print(f"|---|---|---|---|---|---|")
slowest = f"{done[-1]:.1f} s" if done else "-"
median = f"{done[len(done)//2]:.1f} s" if done else "-"
print(f"| {nodes} | {launched:.2f} s | {within} | {failed} | {median} | {slowest} |")
for line, n in errors.items():
    print(f"\n{n} failed: {line}")
PY
# EOF on the fake's stdin: it writes its counts and exits.
eval "exec ${FAKE[1]}>&-"
wait "$FAKE_PID" 2>/dev/null || true
read -r calls throttled <<<"$(tr '\n' ' ' <"$work/calls")"
echo
echo "| API calls | throttled | calls per node |"
echo "|---|---|---|"
awk -v c="$calls" -v t="$throttled" -v n="$nodes" 'BEGIN { printf "| %d | %d | %.2f |\n", c, t, c / n }'
