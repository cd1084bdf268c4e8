#!/usr/bin/env bash
# bench-engine smoke test on the tiny golden config: checks the output format (every component row, the peak line,
# the scaling statement, sane numbers), the thread count, and usage errors; not speed.
set -u
cfg=${VB_SHARED:-../shared}/golden/tiny/config.json
[ -f "$cfg" ] || { echo "SKIP: $cfg absent"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
out=$("$VB_BIN" bench-engine --config "$cfg" --threads 1 --reps 2 --layers 1 --frames 2 --components vit,qformer,t5enc,t5dec) \
  || fail "bench-engine exited $?"
echo "$out"
echo "$out" | grep -q ', 1 threads;' || fail "thread count not reported as 1"
echo "$out" | grep -Eq '^built 1 of [0-9]+ ViT blocks, 1 of [0-9]+/[0-9]+ T5 encoder/decoder blocks' || fail "no build line"
echo "$out" | grep -Eq '^sgemm 2048\^3 \(peak\) +[0-9.]+ ms +[0-9.]+ GFLOP/s$' || fail "no peak line"
for row in 'vit \(2-frame batch\) +per frame' 't5enc 128 tokens +per sequence' 't5enc 512 tokens +per sequence' \
           't5dec step \(cached\) +per token'; do
  echo "$out" | grep -Eq "^$row +[0-9.]+ ms +[0-9.]+ GFLOP/s +[0-9.]+% of sgemm 2048\^3 +[0-9.]+% of sgemm " \
    || fail "row '$row' missing or malformed"
done
echo "$out" | grep -Eq '^ +measured 1 of [0-9]+ blocks' || fail "no scaling statement"
echo "$out" | grep -q '^qformer .*not measured' || fail "qformer not reported"
# GFLOP/s must be positive numbers
echo "$out" | awk '/GFLOP\/s/ { for (i = 1; i < NF; i++) if ($(i+1) == "GFLOP/s" && $i + 0 <= 0) bad = 1 } END { exit bad }' \
  || fail "non-positive GFLOP/s"
# usage errors
"$VB_BIN" bench-engine >/dev/null 2>&1; [ $? = 2 ] || fail "missing --config not a usage error"
"$VB_BIN" bench-engine --config "$cfg" --bogus 1 >/dev/null 2>&1; [ $? = 2 ] || fail "unknown option not a usage error"
"$VB_BIN" bench-engine --config /nonexistent.json >/dev/null 2>&1; [ $? = 1 ] || fail "missing config file not an error"
"$VB_BIN" bench-engine --help | grep -q 'usage: vlapbench bench-engine' || fail "no help"
echo ok
