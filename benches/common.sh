# shellcheck shell=bash
# Sourced by the bench scripts (after `cd` to the checkout and a `say` of their own):
#   install_missing PKG...  installs the Debian packages named (as root, with apt-get), or
#                           stops naming them;
#   start_work              makes $work, a temporary directory, and removes it on exit with
#                           the fake endpoint ($fake_pid) a script may have started.

install_missing() {
  (($#)) || return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $*"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
  else
    say "missing: $* (install them, e.g. sudo apt-get install $*)"
    exit 1
  fi
}

start_work() {
  work=$(mktemp -d)
  fake_pid=
  trap 'cleanup_work' EXIT
}

cleanup_work() {
  [ -z "$fake_pid" ] || kill "$fake_pid" 2>/dev/null || true
  rm -rf "$work"
}
