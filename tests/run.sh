#!/usr/bin/env bash
# Runs every test: the cmocka programs $VB_BUILD/tests/test_* and the shell tests tests/test_*.sh.
# Exit code 77 from a test means SKIP (shown visibly, with the test's reason). Prints one line per test and a closing
# line "N passed, N failed, N skipped"; exits 1 if any failed.
#
# Two groups:
#   core         everything else: needs nothing outside the repository (the real tokenizers and configs are committed
#                in models/tokenizers/ and configs/real/, bundles are made with init-model, data with synth).
#   conformance  tests/test_conf_* (programs and scripts): compare with files that quote dataset text and therefore
#                live only in ../shared ($VB_SHARED): the method-level golden cases (golden/methods/*/cases.*), the
#                tokenizer case files (golden/*-tokenizer/tokenize_cases*.json) and the real annotation files
#                (datasets/).  When none of these is there (a plain clone), the group is not run and ONE line says so:
#                "SKIP  conformance group: ../shared absent (...): names"; it counts as one skip.  When ../shared is
#                there, each runs as any other test.
set -u
cd "$(dirname "$0")/.."
: "${VB_BIN:=$PWD/build/vlapbench}"
: "${VB_BUILD:=$PWD/build}"
: "${VB_SHARED:=$(cd .. && pwd)/shared}"
export VB_BIN VB_BUILD VB_SHARED
export VB_ROOT=$PWD
pass=0; fail=0; skip=0; failed=()
logdir=${VB_TEST_LOGS:-$VB_BUILD/test-logs}; mkdir -p "$logdir"
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
# the conformance group's data in $VB_SHARED: present when any of it is there
conf_need=(golden/methods/methods-blip2/cases.json golden/methods/methods-instructblip/cases.json
           golden/t5-tokenizer/tokenize_cases.json golden/bert-tokenizer/tokenize_cases.json datasets/nextqa/val.csv)
conf_have=0
for f in "${conf_need[@]}"; do [ -e "$VB_SHARED/$f" ] && conf_have=1; done
conf_skipped=()
run_or_defer() { # name command...
  local n=$1
  if [[ "$n" == test_conf_* ]] && [ $conf_have -eq 0 ]; then conf_skipped+=("$n"); return; fi
  run_one "$@"
}
for t in "$VB_BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  case "$t" in *.log|*.d|*.o) continue;; esac
  n=$(basename "$t")
  [ -n "$filter" ] && [[ "$n" != *$filter* ]] && continue
  run_or_defer "$n" "$t"
done
for t in tests/test_*.sh; do
  [ -f "$t" ] || continue
  n=$(basename "$t" .sh)
  [ -n "$filter" ] && [[ "$n" != *$filter* ]] && continue
  run_or_defer "$n" bash "$t"
done
if [ ${#conf_skipped[@]} -gt 0 ]; then
  skip=$((skip+1))
  if [ -d "$VB_SHARED" ]; then what="$VB_SHARED has none of"; else what="no $VB_SHARED; needs"; fi
  echo "SKIP  conformance group: ../shared absent ($what golden/methods/*/cases.*, golden/*-tokenizer/tokenize_cases*.json, datasets/): ${conf_skipped[*]}"
fi
echo
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
