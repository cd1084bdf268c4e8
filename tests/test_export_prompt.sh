#!/usr/bin/env bash
# `export --format samples | samples-csv` carries each sample's prompt (issue 18): the QA prompt text the method was
# fed, stored per row in samples.prompt by the runner from the same builder the methods call (methods/prompts.c).
#   - NExT-QA (official CSV: SeViLA's unification, question + "?", option + ".") with uniform and SeViLA, and VLEP
#     (its own question-less form): every exported prompt equals a prompt built here by hand from the synthetic
#     annotation files, for every sample and cell (JSONL and CSV); error rows (a missing video) carry it too;
#   - merge keeps the prompts;
#   - a database written before prompts were stored (tests/data/store_v1.db) still exports: "prompt" is null and a
#     warning names why; the file is not changed.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
export VB_SHA256_CACHE=off
command -v python3 >/dev/null || { echo "SKIP: python3 absent (make deps)"; exit 77; }
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

"$VB_BIN" synth --out "$tmp/syn" --videos 3 --seed 7 --frames 16 --fps 8 --size 64x48 --questions 2 >/dev/null 2>&1 \
  || { echo "FAIL: synth"; exit 1; }
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/blip2" \
  --tokenizer-dir "$TOK_T5" >/dev/null || { echo "FAIL: init-model"; exit 1; }
S=$tmp/syn
mv "$S/nextqa/videos/1000/9000000001.mp4" "$tmp/held.mp4" # one video missing: its samples are error rows
"$VB_BIN" run --dataset nextqa --annotations "$S/nextqa/val.csv" --map "$S/nextqa/map_vid_vidorID.json" \
  --videos "$S/nextqa/videos" --method uniform="$tmp/blip2",sevila="$tmp/blip2" --frames 1 --candidates 4 \
  --threads 1 --warmup 0 --quiet --db "$tmp/r.db" >/dev/null 2>&1 || die "nextqa run"
"$VB_BIN" run --dataset vlep --annotations "$S/vlep/vlep_dev_release.jsonl" --videos "$S/vlep/videos" \
  --method uniform="$tmp/blip2" --frames 1 --threads 1 --warmup 0 --quiet --db "$tmp/r.db" >/dev/null 2>&1 \
  || die "vlep run"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM runs")" = 3 ] || die "expected 3 runs"
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples WHERE status='error'")" -ge 4 ] || die "expected error rows"

# the prompts by hand, from the annotation files (docs/methods.md section 2.5)
python3 - "$S/nextqa/val.csv" "$S/vlep/vlep_dev_release.jsonl" >"$tmp/want.json" <<'PY'
import csv, json, sys
want = {}
tail = " Considering the information presented in the frame, select the correct answer from the options."
for r in csv.DictReader(open(sys.argv[1])):
    opts = "".join(" Option %s: %s." % ("ABCDE"[j], r["a%d" % j]) for j in range(5))
    want["%s_%s" % (r["video"], r["qid"])] = "Question: " + r["question"] + "?" + opts + tail
for l in open(sys.argv[2]):
    r = json.loads(l)
    want[str(r["example_id"])] = ("Upon observing the provided frames, what is the most probable subsequent event? "
                                  "Option A: %s Option B: %s" % tuple(r["events"]))
json.dump(want, sys.stdout)
PY
[ -s "$tmp/want.json" ] || die "hand-built prompts"

check() { # db label
  for id in $(q "$1" "SELECT id FROM runs ORDER BY id"); do
    "$VB_BIN" export --db "$1" --run "$id" --format samples --out "$tmp/s$id.jsonl" 2>"$tmp/e$id" || die "$2: export $id"
    "$VB_BIN" export --db "$1" --run "$id" --format samples-csv --out "$tmp/s$id.csv" 2>>"$tmp/e$id" \
      || die "$2: export csv $id"
    grep -q "no stored prompt" "$tmp/e$id" && die "$2: run $id warned about missing prompts"
    python3 - "$tmp/want.json" "$tmp/s$id.jsonl" "$tmp/s$id.csv" "$2 run $id" <<'PY' || die "$2: run $id prompts"
import csv, json, sys
want = json.load(open(sys.argv[1]))
rows = [json.loads(l) for l in open(sys.argv[2])]
assert rows, "no rows"
for r in rows:
    assert r["prompt"] == want[r["key"]], (r["key"], r["prompt"], want[r["key"]])
c = list(csv.DictReader(open(sys.argv[3])))
assert [r["prompt"] for r in c] == [r["prompt"] for r in rows], "CSV prompts differ from JSONL"
print("ok: %s: %d prompts (%d error rows) equal the hand-built ones" %
      (sys.argv[4], len(rows), sum(r["status"] == "error" for r in rows)))
PY
  done
}
check "$tmp/r.db" "run"
# the runner's prompt is the one the methods are fed: uniform and SeViLA rows of a sample hold the same text
[ "$(q "$tmp/r.db" "SELECT COUNT(*) FROM samples a JOIN samples b ON a.sample_key=b.sample_key AND a.run_id<b.run_id
     WHERE a.prompt IS NOT b.prompt")" = 0 ] || die "cells of one sample store different prompts"
"$VB_BIN" merge --out "$tmp/m.db" "$tmp/r.db" >/dev/null 2>&1 || die "merge"
check "$tmp/m.db" "merged"

# a database written before prompts were stored: null + a warning naming why; the file unchanged
cp "$VB_ROOT/tests/data/store_v1.db" "$tmp/old.db"
sum0=$(sha256sum <"$tmp/old.db")
"$VB_BIN" export --db "$tmp/old.db" --run 1 --format samples --out "$tmp/old.jsonl" 2>"$tmp/old.err" \
  || die "export of an old database failed: $(cat "$tmp/old.err")"
grep -q "warning: run 1: 3 of 3 sample(s) have no stored prompt, written as null: they were stored by a build before prompts were stored" \
  "$tmp/old.err" || die "old database: no warning naming why: $(cat "$tmp/old.err")"
[ "$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(len(r), all(x["prompt"] is None for x in r))' "$tmp/old.jsonl")" = "3 True" ] \
  || die "old database: prompt must be null on every row"
[ "$(sha256sum <"$tmp/old.db")" = "$sum0" ] || die "export changed the old database"
[ $fail = 0 ] && echo PASS
exit $fail
