#!/usr/bin/env bash
# Installs the Debian 12 packages vlapbench needs, only those that are missing, and says what it installs.
# Checks pkg-config modules and commands first; runs apt-get (with sudo when not root) only if something is missing,
# waiting for apt's locks when another apt-get holds them (see below).  VB_EXTRA_PKGS="p1 p2": more Debian packages
# to install when missing (make test-valgrind: valgrind; tests/test_demo.sh: chromium).
set -euo pipefail
declare -A PC=(
  [openblas]=libopenblas-dev [libavformat]=libavformat-dev [libavcodec]=libavcodec-dev
  [libswscale]=libswscale-dev [libavutil]=libavutil-dev [sqlite3]=libsqlite3-dev
  [libcjson]=libcjson-dev [cmocka]=libcmocka-dev [libutf8proc]=libutf8proc-dev
  [libcrypto]=libssl-dev
)
declare -A CMD=( [pkg-config]=pkg-config [cc]=gcc [make]=make [gnuplot]=gnuplot-nox [ffmpeg]=ffmpeg
  [spm_train]=sentencepiece [sqlite3]=sqlite3 [git]=git [clang-format]=clang-format
  [python3]=python3 [jq]=jq )
missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
for m in "${!PC[@]}"; do
  pkg-config --exists "$m" 2>/dev/null || missing+=("${PC[$m]}")
done
for c in "${!CMD[@]}"; do
  command -v "$c" >/dev/null 2>&1 || missing+=("${CMD[$c]}")
done
if [ -n "${VB_EXTRA_PKGS:-}" ]; then
  for p in $VB_EXTRA_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
fi
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "install-deps: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
# Another apt-get / unattended-upgrades may hold apt's locks: wait (up to 10 minutes) instead of failing.
# install: DPkg::Lock::Timeout makes apt-get wait for the dpkg lock.  update: that option does not cover the lists
# lock (/var/lib/apt/lists/lock; apt 2.6 fails at once, "Could not get lock"), so it is retried every 5 s.
LOCK=(-o DPkg::Lock::Timeout=600)
apt_update() {
  local t0=$SECONDS log said=0
  log=$(mktemp)
  while :; do
    if $SUDO apt-get "${LOCK[@]}" update -qq >"$log" 2>&1; then cat "$log" >&2; rm -f "$log"; return 0; fi
    if grep -q 'Could not get lock' "$log" && [ $((SECONDS - t0)) -lt 600 ]; then
      [ $said = 1 ] || echo "install-deps: another apt-get holds the package lists' lock; waiting for it" >&2
      said=1; sleep 5; continue
    fi
    cat "$log" >&2; rm -f "$log"; return 1
  done
}
apt_update
$SUDO apt-get "${LOCK[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
echo "install-deps: done" >&2
