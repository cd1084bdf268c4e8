#!/usr/bin/env bash
# Runs every test: the cmocka programs $VB_BUILD/tests/test_* and the shell tests tests/test_*.sh.
# Exit code 77 from a test means SKIP (shown visibly; e.g. ../shared data absent). Prints one line per test and
# a closing line "N passed, N failed, N skipped"; exits 1 if any failed.
set -u
cd "$(dirname "$0")/.."
: "${VB_BIN:=$PWD/build/vlapbench}"
: "${VB_BUILD:=$PWD/build}"
: "${VB_SHARED:=$(cd .. && pwd)/shared}"
export VB_BIN VB_BUILD VB_SHARED
export VB_ROOT=$PWD
pass=0; fail=0; skip=0; failed=()
logdir=$VB_BUILD/test-logs; mkdir -p "$logdir"
run_one() {
  local name=$1; shift
  local t0=$(date +%s.%N)
  "$@" >"$logdir/$name.log" 2>&1
  local rc=$?
  local dt=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  if [ $rc -eq 0 ]; then pass=$((pass+1)); echo "PASS  $name (${dt}s)"
  elif [ $rc -eq 77 ]; then skip=$((skip+1)); echo "SKIP  $name: $(grep -m1 -i 'skip' "$logdir/$name.log" | cut -c1-200)"
  else fail=$((fail+1)); failed+=("$name"); echo "FAIL  $name (exit $rc) — last lines of $logdir/$name.log:"; tail -n 25 "$logdir/$name.log" | sed 's/^/      /'
  fi
}
filter=${VB_TEST_FILTER:-}
for t in "$VB_BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  case "$t" in *.log|*.d|*.o) continue;; esac
  n=$(basename "$t")
  [ -n "$filter" ] && [[ "$n" != *$filter* ]] && continue
  run_one "$n" "$t"
done
for t in tests/test_*.sh; do
  [ -f "$t" ] || continue
  n=$(basename "$t" .sh)
  [ -n "$filter" ] && [[ "$n" != *$filter* ]] && continue
  run_one "$n" bash "$t"
done
echo
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
