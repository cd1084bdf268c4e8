#!/usr/bin/env bash
# `vlapbench datasets stats|check` and `vlapbench score` end to end.
# Crafted fixtures (tests/data): counts, exact "file:line: reason" per format, --skip-bad, check on real/broken
#    videos, score errors for missing/unknown ids;
# The real annotation files (only in ../shared) are the conformance test tests/test_conf_datasets_cli.sh.
set -u
B=${VB_BIN:?VB_BIN not set}
cd "${VB_ROOT:-.}"
D=tests/data
fails=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fails=$((fails+1)); }

# compact JSON of `datasets stats`
stats() { "$B" datasets stats "$@" | tr -d ' \t\n'; }
# value of "key": in compact JSON inside the object named $2 (or top level when $2 is empty)
jval() { # json key [object]
  local j=$1 k=$2 o=${3:-}
  if [ -n "$o" ]; then j=$(echo "$j" | sed -n "s/.*\"$o\":{\([^}]*\)}.*/\1/p"); fi
  echo "$j" | grep -o "\"$k\":[^,}]*" | head -1 | cut -d: -f2-
}
expect() { # json key object want label
  local got; got=$(jval "$1" "$2" "$3")
  if [ "$got" = "$4" ]; then ok "$5 $3.$2 = $4"; else bad "$5 $3.$2: got '$got', want '$4'"; fi
}

# ---- fixtures ----
j=$(stats --dataset nextqa --annotations $D/nextqa_small.csv --map $D/nextqa_map.json)
expect "$j" total "" 3 fixture-nextqa
expect "$j" TP categories 1 fixture-nextqa
expect "$j" T groups 1 fixture-nextqa
expect "$j" videos "" 2 fixture-nextqa
expect "$j" unmapped_samples map 0 fixture-nextqa

while read -r ds file msg; do
  err=$("$B" datasets stats --dataset "$ds" --annotations "$D/$file" 2>&1 >/dev/null); rc=$?
  want="vlapbench datasets stats: $D/$file:$msg"
  if [ $rc -eq 1 ] && [ "$err" = "$want" ]; then ok "$ds bad record: $err"
  else bad "$ds: rc=$rc got '$err' want '$want'"; fi
  j=$(stats --dataset "$ds" --annotations "$D/$file" --skip-bad)
  b=$(jval "$j" bad)
  item="\"bad_records\":[\"$D/$file:$(echo "$msg" | tr -d ' \t')\"]"
  if [ "$b" = 1 ] && echo "$j" | grep -qF "$item"; then ok "$ds --skip-bad counts 1 and lists it"
  else bad "$ds --skip-bad: bad=$b, '$item' not in $j"; fi
done <<'LIST'
nextqa nextqa_bad.csv 3: answer '7' is not an integer 0-4
star star_bad.json 18: Sequence_T4_1391: answer 'Opened the door.' matches no choice
vlep vlep_bad.jsonl 2: example 20143: 'ts' is not [start, end]
how2qa how2qa_bad.csv 2: unterminated quoted field
how2qa how2qa_bad_fields.csv 2: expected 7 fields, found 6
how2qa-value how2qa_value_bad.jsonl 2: qid 23294: ts '37.21:60.02' is not start-end
sevila sevila_bad.json 3: qid 'HOW2QA_0': 'start'/'end' not both numbers
LIST

# usage errors
want_rc() { # expected-rc label command...
  local w=$1 l=$2; shift 2
  "$@" >/dev/null 2>&1; local r=$?
  if [ $r -eq "$w" ]; then ok "$l -> $w"; else bad "$l: exit $r, want $w"; fi
}
want_rc 2 "unknown dataset" "$B" datasets stats --dataset nope --annotations $D/nextqa_small.csv
want_rc 2 "score without --predictions" "$B" score --dataset nextqa --annotations $D/nextqa_small.csv
want_rc 2 "--map with vlep" "$B" score --dataset vlep --annotations $D/vlep_dev_small.jsonl \
  --predictions $D/vlep_pred.jsonl --map $D/nextqa_map.json

# check: one good video, one damaged file, one missing
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/0001" "$tmp/0002"
NQ=(--dataset nextqa --annotations $D/nextqa_small.csv --map $D/nextqa_map.json --videos "$tmp")
T=$'\t'
if command -v ffmpeg >/dev/null 2>&1 &&
   ffmpeg -loglevel error -f lavfi -i testsrc=size=64x48:rate=5 -t 1 -pix_fmt yuv420p "$tmp/0001/1000000001.mp4" \
     </dev/null; then
  out=$("$B" datasets check "${NQ[@]}" 2>/dev/null); rc=$?
  if [ $rc -eq 1 ] && [ "$out" = "2000000002_0${T}$tmp/0002/2000000002.mp4${T}missing" ]; then
    ok "check: missing video listed"; else bad "check missing: rc=$rc out=$out"; fi
  # zeros: no container libavformat opens (deterministic; random bytes are sometimes opened as a stream)
  head -c 3000 /dev/zero > "$tmp/0002/2000000002.mp4"
  out=$("$B" datasets check "${NQ[@]}" 2>/dev/null); rc=$?
  if [ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] &&
     echo "$out" | grep -q "^2000000002_0${T}.*${T}unreadable"; then
    ok "check: damaged video listed"; else bad "check damaged: rc=$rc out=$out"; fi
  # random bytes: listed with whatever reason the demuxer or decoder gives (cannot open, no stream, no picture size,
  # truncated ...), never passed and never "missing"
  head -c 3000 /dev/urandom > "$tmp/0002/2000000002.mp4"
  out=$("$B" datasets check "${NQ[@]}" 2>/dev/null); rc=$?
  if [ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "^2000000002_0${T}" &&
     ! echo "$out" | grep -q "${T}missing\$"; then
    ok "check: random bytes listed"; else bad "check random bytes: rc=$rc out=$out"; fi
  cp "$tmp/0001/1000000001.mp4" "$tmp/0002/2000000002.mp4"
  out=$("$B" datasets check "${NQ[@]}" 2>/dev/null); rc=$?
  if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "check: all videos readable -> 0"; else bad "check ok: rc=$rc out=$out"; fi
else
  echo "note: ffmpeg unavailable, check test on videos not run"
fi

# score: missing / unknown ids are errors unless --skip-missing; How2QA needs the exact id set
sc() { "$B" score --dataset "$1" --annotations "$D/$2" --predictions "$D/$3" "${@:4}"; }
want_rc 1 "score: missing id" sc nextqa nextqa_small.csv nextqa_pred_missing.json
out=$(sc nextqa nextqa_small.csv nextqa_pred_missing.json --skip-missing 2>/dev/null | tail -1)
[ "$out" = "Acc: 100.00" ] && ok "score --skip-missing: $out" || bad "score --skip-missing: $out"
want_rc 1 "score how2qa: extra id even with --skip-missing" \
  sc how2qa-value how2qa_value_val_small.jsonl how2qa_value_pred_extra.json --skip-missing
out=$(sc star star_small.json star_pred_flat.json --json | tr -d ' \t\n')
echo "$out" | grep -qF '},"correct":2,"total":3,"overall":66.67,' && ok "score star --json 2/3" || bad "star json: $out"
# raw How2QA: key = line number, options in the permuted order (answers 2, 3, 2, 1 by datasets.md §5.1)
out=$(sc how2qa how2qa_val_small.csv how2qa_raw_pred.json | tr -d ' \n')
[ "$out" = '{"val":75.0}' ] && ok "score raw how2qa 3/4 -> 75.0" || bad "raw how2qa: $out"

echo "$fails failures"
[ $fails -eq 0 ]
