#!/usr/bin/env bash
# Results databases written before issue 9 keep working.  tests/data/store_v1.db was written by `vlapbench run` of
# commit fd3749f (uniform + sevila x k=1,2 on 3 synthetic NExT-QA samples, 4 runs, 12 rows, 4 sessions), before
# runs.weights_dtype and sessions.peak_rss_kb existed.  Checks:
#   - read-only use (runs --long, report-style reads) works without changing the file (weights shown as f32, peak RSS
#     unknown);
#   - merge from it works (sessions copied with a NULL peak RSS);
#   - opening it for writing (a new run) adds the two columns and nothing stored changes (every old column of every
#     old row identical), the new runs record their weights dtype and peak RSS;
#   - issue 18: runs.subset / runs.checkpoint and samples.prompt are added the same way (NULL on old runs / rows;
#     read-only use of a file without them works);
#   - issue 20: runs.device likewise (NULL on old runs, "cpu" on new CPU runs; runs --json shows it);
#   - issue 19: sessions.estimate_s / sessions.note (the run-time estimate) are added the same way (NULL on old
#     sessions, set on new ones; a report of the old file has no run notes, of the upgraded one has them);
#   - issue 19, ninth round: sessions.kernels likewise (NULL on old sessions; the engine's kernels on new ones, as
#     `version` names them, bf16 compute's and VB_CPU_DISABLE's included; merged and listed by runs --long / --json);
#   - --weights is part of the identity: bf16 cells are new, re-running f32 / bf16 resumes each its own cells.
set -u
. "$(dirname "$0")/lib.sh"
vb_models_setup
FX=$VB_ROOT/tests/data/store_v1.db
export VB_SHA256_CACHE=off
fail=0
die() { echo "FAIL: $*"; fail=1; }
q() { sqlite3 "$@"; }

cp "$FX" "$tmp/old.db"
# every old column of the old rows (run ids 1..4) of table t in db, in a fixed order
old_rows() { # db table
  local cols idc
  cols=$(q "$FX" "SELECT group_concat(name, ',') FROM pragma_table_info('$2')")
  idc=run_id; [ "$2" = runs ] && idc=id
  q "$1" "SELECT $cols FROM $2 WHERE $idc <= 4 ORDER BY 1, 2, 3"
}
[ "$(old_rows "$FX" samples | wc -l)" = 12 ] || die "fixture: expected 12 sample rows"
q "$tmp/old.db" "SELECT COUNT(*) FROM pragma_table_info('sessions') WHERE name='peak_rss_kb'" | grep -qx 0 \
  || die "fixture already has the new column"
sum0=$(sha256sum < "$tmp/old.db")

# --- read-only
out=$("$VB_BIN" runs --db "$tmp/old.db" --long) || die "runs --long on the old file"
[ "$(echo "$out" | grep -c "weights f32  peak RSS -")" = 4 ] || die "runs --long: old runs not shown as f32 / unknown RSS"
[ "$(sha256sum < "$tmp/old.db")" = "$sum0" ] || die "a read-only open changed the file"
"$VB_BIN" report --help >/dev/null 2>&1 && { "$VB_BIN" report --db "$tmp/old.db" --out "$tmp/rep" >/dev/null 2>&1 \
  || die "report on the old file"; }

# --- merge from the old file
"$VB_BIN" merge --out "$tmp/m.db" "$tmp/old.db" >/dev/null || die "merge from the old file"
[ "$(q "$tmp/m.db" "SELECT COUNT(*) FROM sessions WHERE peak_rss_kb IS NULL")" = 4 ] || die "merged sessions"
[ "$(q "$tmp/m.db" "SELECT COUNT(*) FROM samples")" = 12 ] || die "merged samples"

# --- write: a new run into the old file
"$VB_BIN" synth --out "$tmp/syn" --videos 2 --seed 3 --frames 40 --fps 10 --size 64x48 --questions 1 >/dev/null 2>&1 \
  || { echo "FAIL: synth"; exit 1; }
"$VB_BIN" init-model --config "$CFG_B" --method sevila --seed 5 --out "$tmp/blip2" \
  --tokenizer-dir "$TOK_T5" >/dev/null || { echo "FAIL: init-model"; exit 1; }
S=$tmp/syn/nextqa
run() { "$VB_BIN" run --dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos" \
        --method uniform="$tmp/blip2" --frames 1,2 --threads 1 --warmup 0 --quiet "$@"; }
out=$(run --db "$tmp/old.db") || die "run into the old file"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM runs")" = 6 ] || die "expected 4 old + 2 new runs"
q "$tmp/old.db" "SELECT COUNT(*) FROM samples WHERE run_id <= 4" | grep -qx 12 || die "old rows lost"
for t in runs sessions samples; do
  a=$(old_rows "$FX" $t); b=$(old_rows "$tmp/old.db" $t)
  [ -n "$a" ] && [ "$a" = "$b" ] || die "table $t: stored rows changed by the upgrade"
done
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM runs WHERE id > 4 AND weights_dtype='f32'")" = 2 ] || die "new runs' dtype"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM sessions WHERE run_id > 4 AND peak_rss_kb > 1000")" = 2 ] || die "new peak RSS"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM runs WHERE id <= 4 AND weights_dtype IS NULL")" = 4 ] || die "old runs' dtype"
# issue 18's columns: runs.subset (NULL = whole split) and runs.checkpoint (bundle name), NULL on the old runs
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM runs WHERE id <= 4 AND subset IS NULL AND checkpoint IS NULL")" = 4 ] \
  || die "old runs: subset / checkpoint must be NULL"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM runs WHERE id > 4 AND json_extract(checkpoint,'\$.dir')='blip2'")" = 2 ] \
  || die "new runs: checkpoint name not recorded"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM runs WHERE id <= 4 AND n_split IS NULL")" = 4 ] || die "old runs: n_split"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM runs WHERE id > 4 AND n_split = 2")" = 2 ] || die "new runs: n_split not 2"
# samples.prompt (issue 18) is added the same way: NULL on the old rows, the QA prompt on the new ones
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM samples WHERE run_id <= 4 AND prompt IS NULL")" = 12 ] \
  || die "old rows: prompt must be NULL"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM samples WHERE run_id > 4 AND prompt LIKE 'Question: %? Option A: %'")" = 4 ] \
  || die "new rows: prompt not stored"
# issue 20's column: runs.device, NULL on the old runs, "cpu" on the new ones, and no "device" in a CPU cell's identity
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM runs WHERE id <= 4 AND device IS NULL")" = 4 ] || die "old runs: device"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM runs WHERE id > 4 AND device='cpu'
     AND json_extract(config,'\$.config.device') IS NULL")" = 2 ] || die "new runs: device 'cpu' / identity"
"$VB_BIN" runs --db "$tmp/old.db" --json | grep -q '"device":"cpu"' || die "runs --json: no device"
cp "$FX" "$tmp/ro.db"
"$VB_BIN" runs --db "$tmp/ro.db" --json | grep -q '"subset":null' || die "runs --json on a file without runs.subset"
[ "$(sha256sum < "$tmp/ro.db")" = "$(sha256sum < "$FX")" ] || die "runs --json changed an old file"
# issue 19's columns: the sessions' estimate and note, NULL on the old sessions, set on the new ones
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM sessions WHERE run_id <= 4 AND estimate_s IS NULL AND note IS NULL")" = 4 ] \
  || die "old sessions: estimate_s / note must be NULL"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM sessions WHERE run_id > 4 AND estimate_s > 0 AND note LIKE 'estimate % vs actual %'")" = 2 ] \
  || die "new sessions: estimate not recorded"
if "$VB_BIN" report --help >/dev/null 2>&1; then
  "$VB_BIN" report --db "$tmp/ro.db" --out "$tmp/rep1" --format md >/dev/null 2>&1 || die "report on a file without sessions.note"
  grep -q "Run notes" "$tmp/rep1/report.md" && die "old file: report shows run notes it cannot have"
  grep -q "Engine kernels" "$tmp/rep1/report.md" && die "old file: report shows kernels it cannot have"
  [ "$(sha256sum < "$tmp/ro.db")" = "$(sha256sum < "$FX")" ] || die "report changed an old file"
  "$VB_BIN" report --db "$tmp/old.db" --out "$tmp/rep2" --format md >/dev/null 2>&1 || die "report on the upgraded file"
  grep -q "Run notes" "$tmp/rep2/report.md" || die "upgraded file: report lacks the new runs' notes"
fi
out=$("$VB_BIN" runs --db "$tmp/old.db" --long) || die "runs --long after the upgrade"
[ "$(echo "$out" | grep -c "weights f32  peak RSS [0-9]")" = 2 ] || die "runs --long: new runs' RSS"
# issue 19's ninth round: sessions.kernels, NULL on the old sessions; the new ones record the engine's kernels as
# `version` reports them for f32 compute (and what VB_CPU_DISABLE took away, where the suite runs under it)
ver=$("$VB_BIN" version)
k32=$(echo "$ver" | sed -n 's/^wmat_kernel: \([a-z0-9]*\) .*/\1/p')
a32=$(echo "$ver" | sed -n 's/^attention_kernel: \([a-z0-9]*\) .*/\1/p')
dis=$(echo "$ver" | sed -n 's/^cpu_disabled: \([a-z0-9,]*\)$/\1/p') # empty: none taken away
want="gemm $k32, attention $a32${dis:+; VB_CPU_DISABLE $dis}"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM sessions WHERE run_id <= 4 AND kernels IS NULL")" = 4 ] \
  || die "old sessions: kernels must be NULL"
[ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM sessions WHERE run_id > 4 AND kernels = '$want'")" = 2 ] \
  || die "new sessions: kernels not '$want': $(q "$tmp/old.db" "SELECT DISTINCT kernels FROM sessions WHERE run_id > 4")"
"$VB_BIN" runs --db "$tmp/old.db" --json | grep -qF "\"kernels\":\"$want\"" || die "runs --json: no kernels"
"$VB_BIN" runs --db "$tmp/ro.db" --json | grep -q '"kernels":null' || die "runs --json on a file without sessions.kernels"
# merged sessions keep their kernels
"$VB_BIN" merge --out "$tmp/m2.db" "$tmp/old.db" >/dev/null || die "merge of the upgraded file"
[ "$(q "$tmp/m2.db" "SELECT COUNT(*) FROM sessions WHERE kernels = '$want'")" = 2 ] || die "merge lost sessions.kernels"
[ "$(q "$tmp/m2.db" "SELECT COUNT(*) FROM sessions WHERE kernels IS NULL")" = 4 ] || die "merge: old sessions' kernels"
# a resumed run on other kernels (VB_CPU_DISABLE=avx512 where the CPU has AVX-512): both lines, in session order
if [ "$(echo "$ver" | sed -n 's/^cpu_best_core: //p')" = SkylakeX ]; then
  out=$(VB_CPU_DISABLE=avx512 run --db "$tmp/old.db" --frames 1,2,3) || die "run under VB_CPU_DISABLE=avx512"
  w2="gemm avx2, attention blas; VB_CPU_DISABLE avx512,avx512bf16,amx"
  [ "$(q "$tmp/old.db" "SELECT COUNT(*) FROM sessions WHERE kernels = '$w2'")" = 3 ] \
    || die "sessions under VB_CPU_DISABLE=avx512: $(q "$tmp/old.db" "SELECT DISTINCT kernels FROM sessions")"
  "$VB_BIN" runs --db "$tmp/old.db" --long | grep -qF "      kernels $want / $w2" || die "runs --long: both kernel lines"
  if "$VB_BIN" report --help >/dev/null 2>&1; then # the report's provenance note names them per run
    "$VB_BIN" report --db "$tmp/old.db" --out "$tmp/rep3" --format md >/dev/null 2>&1 || die "report after the resume"
    grep -qF ": ${want//_/\\_} / ${w2//_/\\_}. " "$tmp/rep3/report.md" || # Markdown escapes the underscores
      die "report: the resumed run's two kernel lines: $(grep -o 'Engine kernels.*' "$tmp/rep3/report.md" | cut -c1-600)"
    grep -qF "Engine kernels of " "$tmp/rep3/report.md" || die "report: no per-run kernels note"
    grep -qF "Engine kernels (every run)" "$tmp/rep3/report.md" && die "report: old runs have no kernels, not every run"
  fi
else
  echo "SKIP (part): kernels of a VB_CPU_DISABLE=avx512 session: no AVX-512 on this CPU"
fi

# --- weights dtype in the identity (fresh file)
out=$(run --db "$tmp/w.db") || die "f32 run"
if "$VB_BIN" report --help >/dev/null 2>&1; then # every run on the same kernels: one sentence
  "$VB_BIN" report --db "$tmp/w.db" --out "$tmp/rep4" --format md >/dev/null 2>&1 || die "report of the f32 runs"
  grep -qF "Engine kernels (every run): ${want//_/\\_}." "$tmp/rep4/report.md" || die "report: no 'every run' kernels note"
fi
out=$(run --db "$tmp/w.db" --weights bf16) || die "bf16 run"
echo "$out" | grep -q "(weights bf16)" || die "summary does not name bf16"
[ "$(echo "$out" | grep -Ec "^uniform .* no$")" = 2 ] || die "bf16 cells resumed f32 cells"
[ "$(q "$tmp/w.db" "SELECT COUNT(*) FROM runs")" = 4 ] || die "expected 2 f32 + 2 bf16 runs"
[ "$(q "$tmp/w.db" "SELECT COUNT(*) FROM runs WHERE weights_dtype='bf16' AND json_extract(config,'\$.config.weights_dtype')='bf16'")" = 2 ] \
  || die "bf16 runs: dtype not in the column and the identity config"
[ "$(q "$tmp/w.db" "SELECT COUNT(*) FROM runs WHERE weights_dtype='f32' AND json_extract(config,'\$.config.weights_dtype') IS NULL")" = 2 ] \
  || die "f32 runs: identity config must not name the dtype (older f32 cells keep their identity)"
# the dtype reaches the engine: bf16-resident weights change the scores (not necessarily the predictions)
n=$(q "$tmp/w.db" "SELECT COUNT(*) FROM samples a JOIN runs ra ON ra.id=a.run_id JOIN samples b ON b.sample_key=a.sample_key
     JOIN runs rb ON rb.id=b.run_id WHERE ra.weights_dtype='f32' AND rb.weights_dtype='bf16' AND ra.frames=rb.frames
     AND a.option_scores != b.option_scores")
[ "$n" -ge 1 ] || die "bf16 and f32 cells have identical scores: the dtype did not reach the engine"
out=$(run --db "$tmp/w.db" --weights f32) || die "f32 re-run"
[ "$(echo "$out" | grep -Ec "^uniform .* yes$")" = 2 ] || die "f32 re-run did not resume the f32 cells"
out=$(run --db "$tmp/w.db" --weights bf16) || die "bf16 re-run"
[ "$(echo "$out" | grep -Ec "^uniform .* yes$")" = 2 ] || die "bf16 re-run did not resume the bf16 cells"
[ "$(q "$tmp/w.db" "SELECT COUNT(*) FROM runs")" = 4 ] || die "re-runs added runs"
# --- the compute mode is part of the identity too: a --compute bf16 run never resumes f32 cells (nor the reverse)
if "$VB_BIN" version 2>/dev/null | grep -q "^compute_bf16: available"; then
  out=$(run --db "$tmp/w.db" --compute bf16 2>"$tmp/hint.err") || die "bf16-compute run"
  [ "$(echo "$out" | grep -Ec "^uniform .* no$")" = 2 ] || die "bf16-compute cells resumed f32-compute cells"
  # on f32 weights the run notes that --weights bf16 would store them rounded once; on bf16 weights it does not
  grep -q "^run: note: --compute bf16 on f32 weights .*--weights bf16" "$tmp/hint.err" || die "no --weights bf16 note"
  run --db "$tmp/hint.db" --weights bf16 --compute bf16 >/dev/null 2>"$tmp/nohint.err" || die "bf16 x bf16 run"
  ! grep -q "run: note: --compute bf16" "$tmp/nohint.err" || die "the --weights bf16 note with bf16 weights"
  [ "$(q "$tmp/w.db" "SELECT COUNT(*) FROM runs WHERE json_extract(config,'\$.config.compute')='bf16'")" = 2 ] \
    || die "bf16-compute runs: compute not in the identity config"
  # their sessions record the bf16 compute kernels as `version` names them
  b16=$(echo "$ver" | sed -n 's/^compute_bf16: available (--compute bf16; kernel \([a-z0-9]*\); attention \([a-z0-9]*\).*/\1 \2/p')
  w16="gemm ${b16% *} ($k32 up to 24 rows), attention ${b16#* }"
  [ "$(q "$tmp/w.db" "SELECT COUNT(*) FROM sessions s JOIN runs r ON r.id=s.run_id
       WHERE json_extract(r.config,'\$.config.compute')='bf16' AND substr(s.kernels, 1, length('$w16')) = '$w16'")" = 2 ] \
    || die "bf16-compute sessions: kernels not '$w16...': $(q "$tmp/w.db" "SELECT DISTINCT kernels FROM sessions")"
  out=$(run --db "$tmp/w.db" --compute bf16) || die "bf16-compute re-run"
  [ "$(echo "$out" | grep -Ec "^uniform .* yes$")" = 2 ] || die "bf16-compute re-run did not resume its own cells"
  out=$(run --db "$tmp/w.db") || die "f32 re-run after bf16 compute"
  [ "$(echo "$out" | grep -Ec "^uniform .* yes$")" = 2 ] || die "f32 re-run did not resume the f32 cells"
  [ "$(q "$tmp/w.db" "SELECT COUNT(*) FROM runs")" = 6 ] || die "expected 2 f32 + 2 bf16-weight + 2 bf16-compute runs"
else
  echo "SKIP (part): --compute bf16 identity: this CPU lacks AVX512_BF16 (version: compute_bf16 not available)"
fi
"$VB_BIN" run --weights f8 --dataset nextqa --annotations x --method uniform=x >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] || die "--weights f8: exit $rc, expected 2 (usage)"

[ $fail -eq 0 ] && echo "store upgrade: ok"
exit $fail
