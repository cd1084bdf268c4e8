#!/usr/bin/env bash
# Non-finite numbers are errors, never answers (issue 17): a bundle whose language_model.* tensors are NaN makes
# every score NaN.  Each sample must become an error row "non-finite scores in <method> <stage>: ..." (never an `ok`
# row with option A from an argmax over NaN), for uniform, SeViLA (its localizer runs the same T5) and VLAP, and a
# run whose rows are all errors is not `complete`.  The untouched bundle still gives ok rows (control).
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
command -v python3 >/dev/null || { echo "SKIP: python3 absent (rewrites safetensors tensors)"; exit 77; }
export VB_SHA256_CACHE=off
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

"$VB_BIN" synth --out "$tmp/syn" --videos 2 --seed 2 --frames 40 --fps 10 --size 64x48 --questions 2 >/dev/null 2>&1 \
  || { echo "FAIL: synth"; exit 1; }
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/good" \
  --tokenizer-dir "$TOK_T5" >/dev/null || { echo "FAIL: init-model"; exit 1; }
"$VB_BIN" init-model --config "$CFG_I" --method vlap --frames 1 --candidates 4 --seed 5 --out "$tmp/vgood" \
  --tokenizer-dir "$TOK_T5" --tokenizer-dir "$TOK_BERT" >/dev/null || { echo "FAIL: init-model vlap"; exit 1; }
# overwrite every language_model.* tensor with NaN (safetensors: u64 header length, JSON header, data)
nanify() { # src dst
  cp -r "$1" "$2"
  python3 - "$2" <<'PY' || { echo "FAIL: nanify $2"; exit 1; }
import json, struct, sys, glob, os
n = 0
for path in glob.glob(os.path.join(sys.argv[1], "*.safetensors")):
    with open(path, "r+b") as f:
        hl = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(hl))
        for name, t in hdr.items():
            if not name.startswith("language_model.") or name == "__metadata__":
                continue
            a, b = t["data_offsets"]
            nan = {"F32": struct.pack("<f", float("nan")), "F16": b"\x00\x7e", "BF16": b"\xc0\x7f"}[t["dtype"]]
            f.seek(8 + hl + a)
            f.write(nan * ((b - a) // len(nan)))
            n += 1
assert n > 0, "no language_model.* tensor"
PY
}
nanify "$tmp/good" "$tmp/nan"
nanify "$tmp/vgood" "$tmp/vnan"
S=$tmp/syn/nextqa
run() { "$VB_BIN" run --dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos" \
        --frames 1 --candidates 4 --threads 1 --warmup 0 --quiet "$@"; }

run --method "uniform=$tmp/good,sevila=$tmp/good" --method "vlap@1=$tmp/vgood" --db "$tmp/good.db" >/dev/null \
  || die "control run"
[ "$(q "$tmp/good.db" "SELECT COUNT(*) FROM samples WHERE status='ok'")" = 12 ] || die "control: 12 ok rows expected"

run --method "uniform=$tmp/nan,sevila=$tmp/nan" --method "vlap@1=$tmp/vnan" --db "$tmp/nan.db" >/dev/null \
  || die "NaN run: exit $? (per-sample failures are error rows)"
[ "$(q "$tmp/nan.db" "SELECT COUNT(*) FROM samples WHERE status='ok'")" = 0 ] || die "ok rows computed from NaN weights"
[ "$(q "$tmp/nan.db" "SELECT COUNT(*) FROM samples WHERE status='error' AND prediction IS NULL")" = 12 ] \
  || die "expected 12 error rows without prediction"
for m in uniform sevila vlap; do
  e=$(q "$tmp/nan.db" "SELECT DISTINCT s.error FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.method='$m'")
  echo "$m: $e"
  echo "$e" | grep -q "^non-finite scores in $m " || die "$m: error does not say non-finite scores: $e"
done
[ "$(q "$tmp/nan.db" "SELECT COUNT(*) FROM runs WHERE status='complete'")" = 0 ] || die "an all-error run is complete"
[ "$(q "$tmp/nan.db" "SELECT group_concat(DISTINCT status) FROM runs")" = incomplete ] || die "runs not incomplete"
[ "$(q "$tmp/nan.db" "SELECT COUNT(*) FROM v_accuracy WHERE acc > 0")" = 0 ] || die "accuracy credited to NaN rows"
[ $fail = 0 ] && echo PASS
exit $fail
