#!/usr/bin/env bash
# Runs every cmocka test program $VB_BUILD/tests/test_* under valgrind memcheck and prints one line per program
# plus a summary "N clean, N with errors, N skipped, N timed out". A program counts as having errors when valgrind
# exits with 9 (invalid read/write, uninitialised use, or a definite leak) or the test itself fails.
# Usage: VB_BUILD=build-qa bash scripts/valgrind-tests.sh      (build first: make BUILD=build-qa OPT=-O1 tests-build)
# Env: VB_BUILD (default build), VB_SHARED (default ../shared), VB_VG_TIMEOUT seconds per program (default 300),
#      VB_TEST_FILTER substring to select programs. Logs go to $VB_BUILD/valgrind-logs/<name>.log. Exit 1 if any
#      program had errors or failed.
set -u
cd "$(dirname "$0")/.."
: "${VB_BUILD:=$PWD/build}"
case "$VB_BUILD" in /*) ;; *) VB_BUILD=$PWD/$VB_BUILD;; esac
: "${VB_BIN:=$VB_BUILD/vlapbench}"
: "${VB_SHARED:=$(cd .. && pwd)/shared}"
: "${VB_VG_TIMEOUT:=300}"
export VB_BIN VB_BUILD VB_SHARED
export VB_ROOT=$PWD
export OPENBLAS_NUM_THREADS=1
export VB_SANITIZED=1   # tests skip their wall/CPU-time limits (valgrind runs 20-50x slower)
# can valgrind run here at all? (exit 77 with one clear message where it dies with SIGILL on this CPU; make
# test-valgrind probes once and sets VB_VG_PROBED=1)
if [ "${VB_VG_PROBED:-0}" != 1 ]; then bash scripts/valgrind-probe.sh "$VB_BIN"; rc=$?; [ $rc -eq 0 ] || exit $rc; fi
logdir=$VB_BUILD/valgrind-logs; mkdir -p "$logdir"
filter=${VB_TEST_FILTER:-}
clean=0; bad=0; skip=0; tmo=0; badlist=()
for t in "$VB_BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  case "$t" in *.log|*.d|*.o) continue;; esac
  n=$(basename "$t")
  [ -n "$filter" ] && [[ "$n" != *$filter* ]] && continue
  log=$logdir/$n.log
  t0=$(date +%s)
  timeout "$VB_VG_TIMEOUT" valgrind --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
      --track-origins=yes --log-file="$log.vg" "$t" >"$log" 2>&1
  rc=$?
  dt=$(( $(date +%s) - t0 ))
  errs=$(grep -m1 'ERROR SUMMARY' "$log.vg" 2>/dev/null | sed 's/.*ERROR SUMMARY: \([0-9]*\).*/\1/')
  if [ $rc -eq 0 ]; then clean=$((clean+1)); echo "CLEAN    $n (${dt}s, ${errs:-?} errors)"
  elif [ $rc -eq 77 ]; then skip=$((skip+1)); echo "SKIP     $n: $(grep -m1 -i skip "$log" | cut -c1-160)"
  elif [ $rc -eq 124 ]; then tmo=$((tmo+1)); echo "TIMEOUT  $n (> ${VB_VG_TIMEOUT}s)"
  else bad=$((bad+1)); badlist+=("$n")
    if [ $rc -eq 9 ]; then what=ERRORS; else what="FAILED  "; fi  # 9 = valgrind found errors; else the test failed
    echo "$what $n (exit $rc, ${errs:-?} valgrind errors, ${dt}s) — see $log and $log.vg"
    grep -m6 -E '^==[0-9]+== (Invalid|Conditional|Use of uninit|[0-9,]+ bytes in .* definitely)' "$log.vg" | sed 's/^/      /'
  fi
done
echo
echo "$clean clean, $bad with errors or failed, $skip skipped, $tmo timed out${badlist:+ — bad: ${badlist[*]}}"
[ $bad -eq 0 ]
