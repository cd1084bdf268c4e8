#!/usr/bin/env bash
# Conformance (needs ../shared): `vlapbench datasets stats` and `vlapbench score` on the real annotation files in
# $VB_SHARED/datasets (never copied into the repository): every count datasets.md / SOURCES.md gives, the NExT-QA HGA
# row, and the VLEP / How2QA sample submissions as the official scripts score them.  SKIP (77) when absent (tests/run.sh
# then reports the whole conformance group in one line).  The fixture checks are tests/test_datasets_cli.sh.
set -u
B=${VB_BIN:?VB_BIN not set}
cd "${VB_ROOT:-.}"
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

want_rc() { # expected-rc label command...
  local w=$1 l=$2; shift 2
  "$@" >/dev/null 2>&1; local r=$?
  if [ $r -eq "$w" ]; then ok "$l -> $w"; else bad "$l: exit $r, want $w"; fi
}

S=${VB_SHARED:-../shared}/datasets
if [ ! -f "$S/nextqa/val.csv" ]; then
  echo "SKIP: $S absent (conformance data, only in ../shared)"; exit 77
fi

check_all() { # label json then key=object=value ...
  local label=$1 j=$2; shift 2
  for kv in "$@"; do
    IFS='=' read -r k o v <<<"$kv"
    expect "$j" "$k" "$o" "$v" "$label"
  done
}
j=$(stats --dataset nextqa --annotations $S/nextqa/val.csv --map $S/nextqa/map_vid_vidorID.json)
check_all nextqa-val "$j" total==4996 answered==4996 videos==570 bad==0 CW=categories=1924 CH=categories=683 \
  TN=categories=895 TP=categories=54 TC=categories=663 DC=categories=177 DL=categories=295 DO=categories=305 \
  C=groups=2607 T=groups=1612 D=groups=777 5=options_per_sample=4996 0=answers=1013 1=answers=1013 2=answers=991 \
  3=answers=967 4=answers=1012 rows_with_repeated_option==3 fields_with_edge_space==4 questions_ending_qmark==1 \
  entries=map=10000 unmapped_samples=map=0
j=$(stats --dataset nextqa --annotations $S/nextqa/test.csv --map $S/nextqa/map_vid_vidorID.json)
check_all nextqa-test "$j" total==8564 answered==8564 videos==1000 CW=categories=3329 CH=categories=1173 \
  TN=categories=1399 TP=categories=93 TC=categories=1165 DC=categories=322 DL=categories=483 DO=categories=600 \
  C=groups=4502 T=groups=2657 D=groups=1405 rows_with_repeated_option==8 fields_with_edge_space==24 \
  questions_ending_qmark==3 unmapped_samples=map=0
j=$(stats --dataset star --annotations $S/star/sel_examples.json)
check_all star-demo "$j" total==99 answered==99 Interaction=categories=50 Sequence=categories=23 \
  Feasibility=categories=16 Prediction=categories=10 4=options_per_sample=99
j=$(stats --dataset star --annotations $S/star/selected_examples_keyframes_dict.json)
check_all star-homepage "$j" total==24 answered==24 4=options_per_sample=24
j=$(stats --dataset vlep --annotations $S/vlep/vlep_dev_release.jsonl)
check_all vlep-dev "$j" total==4392 answered==4392 videos==1561 0=answers=2145 1=answers=2247 \
  2=options_per_sample=4392 max_end=segments=140.78 min_len=segments=0.29 min_start=segments=0
j=$(stats --dataset vlep --annotations $S/vlep/vlep_test_release.jsonl)
check_all vlep-test "$j" total==4192 answered==0 videos==1493 max_end=segments=223.91
j=$(stats --dataset vlep --annotations $S/vlep/vlep_dev_archive.jsonl)
check_all vlep-archive "$j" total==4392 answered==4392 0=answers=2145 1=answers=2247
j=$(stats --dataset how2qa --annotations $S/how2qa/how2QA_val_release.csv)
check_all how2qa-raw-val "$j" total==2852 answered==2852 videos==1166 answer_text_repeated==3 \
  min_len=segments=0.31 max_len=segments=60.77 4=options_per_sample=2852
j=$(stats --dataset how2qa --annotations $S/how2qa/how2QA_test_public_release.csv)
check_all how2qa-raw-test_public "$j" total==2937 answered==2937 videos==1100 answer_text_repeated==2 \
  test_public=splits=2937
j=$(stats --dataset how2qa-value --annotations $S/how2qa/how2qa_val_release.jsonl --map $S/how2qa/how2_vid_mapping.json)
check_all how2qa-value-val "$j" total==3115 answered==3115 videos==3058 0=answers=778 1=answers=727 2=answers=781 \
  3=answers=829 zero_len=segments=2 end_after_60s=segments=254 max_end=segments=65.95 entries=map=30253 \
  unmapped_samples=map=176 unmapped_videos=map=147

# score: NExT-QA HGA (README "Results on Val. Set" and datasets.md §2.5)
ssc() { "$B" score --dataset "$1" --annotations "$S/$2" --predictions "$S/$3" "${@:4}"; }
out=$(ssc nextqa nextqa/val.csv nextqa/HGA-bert-ft-h256-val.json)
want=$(printf 'Evaluating %s\n%s\n%s\nAcc: 49.74' "$S/nextqa/HGA-bert-ft-h256-val.json" \
  $'Why\tHow\tBef&Aft\tWhen\tCnt\tLoc\tOther\tAcc_C\tAcc_T\tAcc_D\t' \
  $'46.99\t44.22\t49.53\t52.49\t44.07\t72.54\t55.41\t46.26\t50.74\t59.33\t')
[ "$out" = "$want" ] && ok "score nextqa HGA: Acc 49.74, C 46.26 T 50.74 D 59.33" || bad "score HGA: $out"
# VLEP standalone sample submission: 67.55 (upstream sample_dev_submission_metrics.json)
out=$(ssc vlep vlep/vlep_dev_release.jsonl vlep/sample_dev_submission.jsonl | tr -d ' \n')
want='Loaded4392GTlines,4392submissionlinesEvaluating4392examples,missing0{"qa_acc":{"overall":67.55}}'
[ "$out" = "$want" ] && ok "score vlep standalone 67.55" || bad "vlep standalone: $out"
# VALUE VLEP dev sample 68.42, VALUE How2QA val sample 73.13 (a Python re-run of the arithmetic of
# evaluate_vlep.py / evaluate_how2qa.py on the same files gives these)
out=$(ssc vlep vlep/vlep_dev_archive.jsonl vlep/vlep_dev_predictions.json | tail -3 | tr -d ' \n')
[ "$out" = '{"dev":68.42}' ] && ok "score vlep VALUE 68.42" || bad "vlep VALUE: $out"
out=$(ssc how2qa-value how2qa/how2qa_val_release.jsonl how2qa/how2qa_val_predictions.json | tr -d ' \n')
[ "$out" = '{"val":73.13}' ] && ok "score how2qa VALUE 73.13" || bad "how2qa VALUE: $out"
# test_public sample predictions (3,094 ids) against the val ground truth: refused, the id sets differ
want_rc 1 "how2qa test_public predictions vs val" \
  ssc how2qa-value how2qa/how2qa_val_release.jsonl how2qa/how2qa_test_public_predictions.json
# VLEP test has no answers: refused
want_rc 1 "vlep test (no answers)" ssc vlep vlep/vlep_test_release.jsonl vlep/vlep_test_predictions.json

echo "$fails failures"
[ $fails -eq 0 ]
