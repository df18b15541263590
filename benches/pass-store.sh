#!/usr/bin/env bash
# A pass store in a temp dir, for docker-credential-pass: a passphrase-less gpg key (nothing
# can prompt), `pass init`. Prints `export` lines to eval; `--teardown DIR` stops gpg-agent
# and removes it. Used by benches/bench.sh for the credsStore rows.
#   eval "$(bash benches/pass-store.sh)"; bash benches/pass-store.sh --teardown "$PASS_TEST_DIR"
set -euo pipefail

if [[ ${1:-} == --teardown ]]; then
  dir=${2:?usage: pass-store.sh --teardown DIR}
  if [[ -d $dir/gnupg ]]; then
    GNUPGHOME=$dir/gnupg gpgconf --kill all 2>/dev/null || true
    # where /run/user/$UID exists gpg puts the sockets there, in a dir named by a hash
    # of GNUPGHOME: remove it too (a no-op when the sockets live in GNUPGHOME itself)
    GNUPGHOME=$dir/gnupg gpgconf --remove-socketdir 2>/dev/null || true
  fi
  rm -rf -- "$dir"
  exit 0
fi

dir=${1:-$(mktemp -d /tmp/pass.XXXXXX)}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export GNUPGHOME=$dir/gnupg
export PASSWORD_STORE_DIR=$dir/password-store
mkdir -p -m 700 "$GNUPGHOME"

# No pinentry can ever pop up or block: the key has no passphrase, and if anything still
# asks, pinentry is /bin/false so it fails at once instead of hanging on a tty.
cat > "$GNUPGHOME/gpg-agent.conf" <<'EOF'
pinentry-program /bin/false
allow-loopback-pinentry
EOF
cat > "$GNUPGHOME/gpg.conf" <<'EOF'
batch
no-tty
pinentry-mode loopback
EOF
unset GPG_TTY GPG_AGENT_INFO DISPLAY || true

uid="ecr-login test <ecr-login-test@example.invalid>"
# ed25519 (the 2.2 default) is instant: no entropy wait. `never` = no expiry.
gpg --batch --pinentry-mode loopback --passphrase '' \
    --quick-gen-key "$uid" default default never >&2 2>/dev/null
fpr=$(gpg --batch --with-colons --list-secret-keys "$uid" | awk -F: '$1=="fpr"{print $10; exit}')
[[ -n $fpr ]] || { echo "pass-setup: key generation failed" >&2; exit 1; }

pass init "$fpr" >&2

# Smoke test: round trip through pass itself (what docker-credential-pass does first).
printf 'ok' | pass insert -f -m pass-setup-check >/dev/null
[[ $(pass show pass-setup-check) == ok ]] || { echo "pass-setup: pass round trip failed" >&2; exit 1; }
pass rm -f pass-setup-check >/dev/null

printf 'export PASS_TEST_DIR=%q\n' "$dir"
printf 'export GNUPGHOME=%q\n' "$GNUPGHOME"
printf 'export PASSWORD_STORE_DIR=%q\n' "$PASSWORD_STORE_DIR"
