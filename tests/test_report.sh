#!/usr/bin/env bash
# report / compare / runs / export / merge on synthetic databases written through the store API by
# `test_store --write-fixtures DIR` (tests/fixtures_store.h describes their contents and the expected numbers).
set -eu
: "${VB_BIN:?VB_BIN not set}"
: "${VB_BUILD:?VB_BUILD not set}"
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 command missing (make deps)"; exit 1; }
FX="$VB_BUILD/tests/test_store"
[ -x "$FX" ] || { echo "missing $FX (make tests-build)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$FX" --write-fixtures "$T" || fail "fixtures"

# ---- runs ----
out=$("$VB_BIN" runs --db "$T/grid.db")
echo "$out"
[ "$(echo "$out" | grep -c complete)" = 13 ] || fail "runs: expected 13 complete runs"
echo "$out" | grep -Eq '^ +6 +nextqa +val +vlap +4 +32 .* 300/300 .* 64\.00 ' || fail "runs: row 6"
"$VB_BIN" runs --db "$T/nope.db" >/dev/null 2>&1 && fail "runs on a missing file must fail"

# ---- report with plots ----
if command -v gnuplot >/dev/null; then have_gp=1; else have_gp=0; echo "note: gnuplot missing, plot checks skipped"; fi
"$VB_BIN" report --db "$T/grid.db" --out "$T/rep" --published --format md,tex,html --boot 500 --seed 3
for f in report.md report.tex report.html; do [ -s "$T/rep/$f" ] || fail "$f not written"; done
md="$T/rep/report.md"
# known numbers of the fixture: uniform k=4 on NExT-QA = 179/300 = 59.67 %, published BLIP-2 concat 62.4 -> -2.73
grep -q '^| uniform (#3) | 4 | 4 | .* | 59\.67 \\\[' "$md" || fail "NExT-QA uniform row"
grep -q '| 62\.4 | -2\.73 | SeViLA Table 2 (zero-shot): BLIP-2 concat (4)' "$md" || fail "published delta"
grep -q '^| Method | k | T | Tem | Cau | Des | Avg \\\[95% CI\\\] |' "$md" || fail "NExT-QA header"
grep -q '^| Method | k | T | Int | Seq | Pre | Fea | Avg \\\[95% CI\\\] | All (pooled) |' "$md" || fail "STAR header"
grep -q '^### How2QA val' "$md" || fail "How2QA table"
grep -q '^### VLEP val' "$md" || fail "VLEP table"
# STAR vlap: categories 45.00 47.50 57.50 37.50 -> Avg (macro) 46.875
grep -q '^| vlap (#9) | 4 | 32 | 45\.00 | 47\.50 | 57\.50 | 37\.50 | 46\.8[78] \\\[' "$md" || fail "STAR macro average"
# eval_mc.py type columns, Bef&Aft = TN + TP pooled (55.41 = the same query in SQL on the fixture)
grep -q '^| uniform 1 #1 | 56\.76 | 47\.37 | 55\.41 | 55\.26 |' "$md" || fail "NExT-QA type table"
# speed-up against sevila in the same database: sevila row 1.00x
grep -q '^| sevila (#4) | 4 | 32 | .* | 1\.00x |' "$md" || fail "speed-up reference"
tex="$T/rep/report.tex"
grep -q '\\usepackage{booktabs}' "$tex" && grep -q '\\toprule' "$tex" && grep -q '\\bottomrule' "$tex" \
    && grep -q '\\end{document}' "$tex" || fail "LaTeX structure"
grep -q '^uniform (\\#3) & 4 & 4 & ' "$tex" || fail "LaTeX escaping of #"
html="$T/rep/report.html"
if command -v xmllint >/dev/null; then
    xmllint --noout "$html" || fail "HTML not well-formed (xmllint)"
fi
python3 - "$html" <<'EOF' || fail "HTML not well-formed (html.parser)"
import sys
from html.parser import HTMLParser
VOID = {"meta", "img", "br", "hr", "link", "input"}
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.stack = []; self.tables = 0
    def handle_starttag(self, t, a):
        if t == "table": self.tables += 1
        if t not in VOID: self.stack.append(t)
    def handle_startendtag(self, t, a): pass
    def handle_endtag(self, t):
        if t in VOID: return
        if not self.stack or self.stack[-1] != t:
            sys.exit("unbalanced </%s> (open: %s)" % (t, self.stack[-3:]))
        self.stack.pop()
p = P(); p.feed(open(sys.argv[1], encoding="utf-8").read()); p.close()
if p.stack: sys.exit("unclosed: %s" % p.stack)
if p.tables < 6: sys.exit("only %d tables" % p.tables)
EOF
if [ $have_gp = 1 ]; then
    n=0
    for ds in nextqa star how2qa vlep; do
        for kind in acc_vs_frames acc_vs_latency stage_latency picked_positions; do
            f="$T/rep/${kind}_${ds}.png"
            [ -s "$f" ] || fail "$f missing or empty"
            sig=$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')
            [ "$sig" = 89504e470d0a1a0a ] || fail "$f: not a PNG ($sig)"
            head -c 5 "${f%.png}.pdf" | grep -q '%PDF-' || fail "${f%.png}.pdf: not a PDF"
            grep -q '<svg' "${f%.png}.svg" || fail "${f%.png}.svg: not an SVG"
            n=$((n + 1))
        done
    done
    [ $n = 16 ] || fail "expected 16 plots"
    grep -q 'src="data:image/png;base64,iVBORw0KGgo' "$html" || fail "HTML does not inline PNG plots"
    grep -q '!\[NExT-QA: accuracy vs frames' "$md" || fail "md does not reference plots"
    grep -q '\\includegraphics\[width=\\textwidth\]{acc_vs_frames_nextqa.pdf}' "$tex" || fail "tex figure"
fi

# ---- report without gnuplot: tables still written, plots reported as skipped ----
VB_GNUPLOT=/nonexistent/gnuplot "$VB_BIN" report --db "$T/grid.db" --out "$T/rep2" --runs 1,2,3 2>"$T/err2" \
    || fail "report without gnuplot must succeed"
grep -q 'Plots skipped' "$T/rep2/report.md" || fail "skipped note missing in md"
grep -q 'Plots skipped' "$T/rep2/report.html" || fail "skipped note missing in html"
grep -q 'Plots skipped' "$T/err2" || fail "skipped note missing on stderr"
ls "$T/rep2"/*.png >/dev/null 2>&1 && fail "no PNG expected without gnuplot"
[ "$(grep -c '^| uniform (#' "$T/rep2/report.md")" = 3 ] || fail "--runs 1,2,3 selects three rows"
"$VB_BIN" report --db "$T/grid.db" --out "$T/rep3" --runs 99 >/dev/null 2>&1 && fail "unknown run id must fail"
set +e; "$VB_BIN" report --db "$T/grid.db" --out "$T/rep3" --format docx >/dev/null 2>&1; rc=$?; set -e
[ $rc = 2 ] || fail "bad format = usage"
grep -q 'Warning' "$md" && fail "no warning expected without error rows"

# ---- compare gate (cmp.db: 1 base, 2 same, 3 drop -12.67 pts significant, 4 slow x1.5, 5 drop -1 pt p=0.25) ----
cmp() { set +e; "$VB_BIN" compare --db "$T/cmp.db" "$@" >"$T/cmp.out" 2>&1; local rc=$?; set -e; echo $rc; }
[ "$(cmp --run 2 --baseline 1)" = 0 ] || fail "identical runs must pass"
grep -q 'predictions identical: yes' "$T/cmp.out" || fail "verification hashes"
[ "$(cmp --run 3 --baseline 1 --max-acc-drop 1)" = 1 ] || fail "significant drop must fail"
grep -Eq '^overall +300 +47\.00 +59\.67 +-12\.67 .* +2 +40 +4\.111e-10' "$T/cmp.out" || fail "paired table values"
[ "$(cmp --run 3 --baseline 1 --max-acc-drop 13)" = 0 ] || fail "drop within allowance must pass"
[ "$(cmp --run 5 --baseline 1)" = 0 ] || fail "non-significant drop must pass"
grep -Eq '^overall +300 .* -1\.00 .* +0 +3 +0\.25' "$T/cmp.out" || fail "noisy run: b=0 c=3 p=0.25"
[ "$(cmp --run 4 --baseline 1 --max-latency-rise 10)" = 1 ] || fail "latency rise must fail"
[ "$(cmp --run 4 --baseline 1 --max-latency-rise 60)" = 0 ] || fail "latency rise within allowance must pass"
[ "$(cmp --run 2 --baseline 1 --max-latency-rise 10)" = 0 ] || fail "+2 % latency must pass"
[ "$(cmp --run 3 --baseline 1 --max-acc-drop 1 --json)" = 1 ] || fail "json drop"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["pass"] is False and d["accuracy_fail"] is True; assert abs(d["accuracy"][0]["diff_pts"]+12.6667)<1e-3' "$T/cmp.out" || fail "json output"
[ "$(cmp --run 2 --baseline 8 --baseline-db "$T/grid.db")" = 2 ] || fail "different datasets cannot be paired"
[ "$(cmp --run 3 --baseline 6 --baseline-db "$T/grid.db" --max-acc-drop 100)" = 0 ] || fail "cross-db compare"
[ "$(cmp --run 77 --baseline 1)" = 2 ] || fail "unknown run"
# --max-changed: run 5 changes 3 predictions (b=0, c=3), run 3 changes 42 (b=2, c=40), run 2 none
[ "$(cmp --run 5 --baseline 1 --max-changed 0)" = 1 ] || fail "3 changed predictions must fail --max-changed 0"
grep -q '^changed predictions: 3 of the paired questions' "$T/cmp.out" || fail "changed predictions count"
grep -q 'FAIL (3 paired question(s) changed their prediction (> 0 allowed)' "$T/cmp.out" || fail "changed: reason"
[ "$(cmp --run 5 --baseline 1 --max-changed 3)" = 0 ] || fail "3 changed predictions within --max-changed 3"
[ "$(cmp --run 2 --baseline 1 --max-changed 0)" = 0 ] || fail "identical predictions pass --max-changed 0"
[ "$(cmp --run 3 --baseline 1 --max-acc-drop 100 --max-changed 41 --json)" = 1 ] || fail "42 changed > 41"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["pass"] is False and d["accuracy_fail"] is False and d["predictions_fail"] is True and d["changed_predictions"] == 42 and d["max_changed_predictions"] == 41' "$T/cmp.out" || fail "json changed predictions"
[ "$(cmp --run 2 --baseline 1 --max-changed -1)" = 2 ] || fail "--max-changed -1 accepted"

# ---- export in the official formats ----
"$VB_BIN" export --db "$T/grid.db" --run 3 --format nextqa --out "$T/nextqa.json"
python3 - "$T/nextqa.json" <<'EOF' || fail "nextqa export"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 300, len(d)
acc = sum(v["prediction"] == v["answer"] for v in d.values()) / len(d)
assert abs(acc * 100 - 59.67) < 0.005, acc
assert set(d["1000_0"]) == {"prediction", "answer"}
EOF
"$VB_BIN" export --db "$T/grid.db" --run 10 --format nextqa >/dev/null 2>&1 && fail "nextqa format on a VLEP run"
"$VB_BIN" export --db "$T/grid.db" --run 11 --format vlep --out "$T/vlep.jsonl"
"$VB_BIN" export --db "$T/grid.db" --run 11 --format value-vlep --out "$T/vlep_dev_predictions.json"
"$VB_BIN" export --db "$T/grid.db" --run 13 --format value-how2qa --out "$T/how2qa_val_predictions.json"
python3 - "$T" <<'EOF' || fail "vlep / value exports"
import json, sys
t = sys.argv[1]
lines = [json.loads(l) for l in open(t + "/vlep.jsonl")]
assert len(lines) == 100 and set(lines[0]) == {"example_id", "pred_ans"} and lines[0]["example_id"] == 20142
v = json.load(open(t + "/vlep_dev_predictions.json"))
assert len(v) == 100 and all(isinstance(x, int) for x in v.values())
assert {str(l["example_id"]): l["pred_ans"] for l in lines} == v
h = json.load(open(t + "/how2qa_val_predictions.json"))
assert len(h) == 80 and "30000" in h and "30079" in h
EOF
"$VB_BIN" export --db "$T/grid.db" --run 1 --format value-how2qa >/dev/null 2>&1 && fail "NExT-QA run as How2QA"

# ---- merge through the CLI ----
set +e; "$VB_BIN" merge --out "$T/m.db" "$T/cmp.db" "$T/grid.db" 2>"$T/merr"; rc=$?; set -e
[ $rc = 1 ] || fail "merge of different configurations must fail"
grep -q 'different run configurations' "$T/merr" || fail "merge message"
"$VB_BIN" merge --out "$T/m.db" --union "$T/cmp.db" "$T/grid.db"
[ "$("$VB_BIN" runs --db "$T/m.db" | grep -c complete)" = 18 ] || fail "union merge holds 18 runs"
# ---- default latency gate (25 %): the x1.5 run fails without --max-latency-rise; 'off' disables it ----
[ "$(cmp --run 4 --baseline 1)" = 1 ] || fail "a 50 % latency rise must fail by default"
grep -q 'median latency rose 49\.[0-9] % (> 25\.0 % allowed)' "$T/cmp.out" || fail "default latency reason"
[ "$(cmp --run 4 --baseline 1 --max-latency-rise off)" = 0 ] || fail "--max-latency-rise off"
# --json carries the identifiers of both runs
[ "$(cmp --run 2 --baseline 1 --json)" = 0 ] || fail "json pass"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for side, run in (("new", 2), ("baseline", 1)):
    x = d[side]
    assert (x["run"], x["dataset"], x["split"], x["method"], x["frames"], x["candidates"]) == (run, "nextqa", "val", "uniform", 4, 4), x
' "$T/cmp.out" || fail "json identifiers"

# ---- compare --db NEW --baseline-db OLD: every cell matched by its settings ----
cmpdb() { set +e; "$VB_BIN" compare "$@" >"$T/cmp.out" 2>&1; local rc=$?; set -e; echo $rc; }
[ "$(cmpdb --db "$T/grid.db" --baseline-db "$T/grid.db")" = 0 ] || { cat "$T/cmp.out"; fail "A vs A must pass"; }
grep -q '^cells: 13 paired, 0 failed, 0 not comparable, 0 only in new, 0 only in baseline' "$T/cmp.out" ||
    fail "A vs A must pair all 13 cells"
[ "$(grep -c '^[a-z0-9]*/val .*  PASS$' "$T/cmp.out")" = 13 ] || fail "13 PASS lines"
grep -Eq '^nextqa/val vlap k=4 T=32 +#6 +#6 +300 +64\.00 +64\.00 +\+0\.00 .*PASS$' "$T/cmp.out" || fail "cell line"
# a changed database: run 6 (NExT-QA vlap 32->4) loses 40 correct answers, run 9 (STAR vlap) is 2x slower,
# run 13 is removed (How2QA vlap: only in the baseline)
cp "$T/grid.db" "$T/changed.db"
sqlite3 "$T/changed.db" "UPDATE samples SET prediction = (answer + 1) % 5, correct = 0 WHERE run_id = 6 AND sample_key IN
  (SELECT sample_key FROM samples WHERE run_id = 6 AND correct = 1 ORDER BY sample_key LIMIT 40);
  UPDATE samples SET t_total_us = t_total_us * 2 WHERE run_id = 9;
  DELETE FROM samples WHERE run_id = 13; DELETE FROM sessions WHERE run_id = 13; DELETE FROM runs WHERE id = 13;"
[ "$(cmpdb --db "$T/changed.db" --baseline-db "$T/grid.db")" = 1 ] || { cat "$T/cmp.out"; fail "changed cell must fail"; }
cat "$T/cmp.out"
grep -Eq '^nextqa/val vlap k=4 T=32 +#6 +#6 +300 +50\.67 +64\.00 +-13\.33 .*FAIL \(accuracy dropped 13\.33' "$T/cmp.out" ||
    fail "the accuracy drop is not named"
grep -Eq '^star/val vlap k=4 T=32 +#9 +#9 .* \+100\.0% +FAIL \(median latency rose 100\.0 %' "$T/cmp.out" ||
    fail "the latency rise is not named"
grep -Eq '^how2qa/val vlap k=4 T=8 +- +#13 .*only-baseline' "$T/cmp.out" || fail "one-sided cell not listed"
grep -q '^cells: 12 paired, 2 failed, 0 not comparable, 0 only in new, 1 only in baseline' "$T/cmp.out" || fail "counts"
[ "$(cmpdb --db "$T/changed.db" --baseline-db "$T/grid.db" --max-acc-drop 20 --max-latency-rise 150)" = 0 ] ||
    fail "within the allowances the changed database passes"
[ "$(cmpdb --db "$T/changed.db" --baseline-db "$T/grid.db" --json)" = 1 ] || fail "json cells"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["pass"] is False and d["cells_paired"] == 12 and d["cells_failed"] == 2 and d["cells_only_baseline"] == 1
bad = {(c["cell"]["dataset"], c["cell"]["method"], c["cell"]["frames"], c["cell"]["candidates"], c["run_new"],
        c["run_baseline"]) for c in d["cells"] if c["verdict"] == "FAIL"}
assert bad == {("nextqa", "vlap", 4, 32, 6, 6), ("star", "vlap", 4, 32, 9, 9)}, bad
one = [c for c in d["cells"] if c["verdict"] == "only-baseline"]
assert len(one) == 1 and one[0]["run_new"] is None and one[0]["run_baseline"] == 13
c6 = [c for c in d["cells"] if c["run_new"] == 6][0]
assert c6["cell"]["selection"] == "argmax" and c6["cell"]["weights_dtype"] == "f32" and c6["cell"]["seed"] == "42"
assert c6["comparison"]["new"]["run"] == 6 and abs(c6["comparison"]["accuracy"][0]["diff_pts"] + 13.3333) < 1e-3
' "$T/cmp.out" || fail "json cells content"
# no common cell: exit 2
[ "$(cmpdb --db "$T/cmp.db" --baseline-db "$T/grid.db")" = 2 ] || fail "no common cell must be a usage-level error"
# --ignore-key: the same runs with another BLAS thread count pair only when blas_threads is left out of the key
cp "$T/grid.db" "$T/threads.db"
sqlite3 "$T/threads.db" "UPDATE runs SET blas_threads = blas_threads + 7"
[ "$(cmpdb --db "$T/threads.db" --baseline-db "$T/grid.db")" = 2 ] || fail "other thread counts must not pair"
[ "$(cmpdb --db "$T/threads.db" --baseline-db "$T/grid.db" --ignore-key blas_threads --max-changed 0)" = 0 ] ||
    { cat "$T/cmp.out"; fail "--ignore-key blas_threads must pair the cells"; }
grep -q '^cells: 13 paired, 0 failed' "$T/cmp.out" || fail "--ignore-key: 13 cells paired"
grep -q 'changed predictions allowed per cell: 0; cells matched ignoring blas_threads' "$T/cmp.out" || fail "gate line"
[ "$(cmpdb --db "$T/threads.db" --baseline-db "$T/grid.db" --ignore-key blas_threads,seed --json)" = 0 ] ||
    fail "--ignore-key with two fields"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["key_ignored"] == ["blas_threads", "seed"] and d["cells_paired"] == 13 and all("blas_threads" not in c["cell"] for c in d["cells"])' "$T/cmp.out" || fail "json key_ignored"
[ "$(cmpdb --db "$T/threads.db" --baseline-db "$T/grid.db" --ignore-key dataset)" = 2 ] || fail "--ignore-key dataset accepted"
# one setting of the settings object (config.NAME)
sqlite3 "$T/threads.db" "UPDATE runs SET config = json_set(config, '$.config.video_size', 999)"
[ "$(cmpdb --db "$T/threads.db" --baseline-db "$T/grid.db" --ignore-key blas_threads)" = 2 ] ||
    fail "another video_size must not pair"
[ "$(cmpdb --db "$T/threads.db" --baseline-db "$T/grid.db" --ignore-key blas_threads,config.video_size)" = 0 ] ||
    { cat "$T/cmp.out"; fail "--ignore-key config.video_size must pair the cells"; }
grep -q '^cells: 13 paired, 0 failed' "$T/cmp.out" || fail "--ignore-key config.video_size: 13 cells paired"
# --latency-ref: a 3x slower machine (every time x3) fails the plain latency gate, not the one relative to SeViLA;
# a run slowed alone fails both; cells without a SeViLA run at their k are not checked (and counted)
cp "$T/grid.db" "$T/slow.db"
sqlite3 "$T/slow.db" "UPDATE samples SET t_total_us = t_total_us * 3"
[ "$(cmpdb --db "$T/slow.db" --baseline-db "$T/grid.db")" = 1 ] || fail "3x slower must fail the absolute gate"
[ "$(cmpdb --db "$T/slow.db" --baseline-db "$T/grid.db" --latency-ref sevila)" = 0 ] ||
    { cat "$T/cmp.out"; fail "3x slower everywhere must pass relative to sevila"; }
grep -Eq '^nextqa/val vlap k=4 T=32 +#6 +#6 .* \+0\.0% +PASS$' "$T/cmp.out" || fail "relative latency of run 6"
grep -Eq '^nextqa/val vlap k=2 T=32 +#5 +#5 .* - +PASS$' "$T/cmp.out" || fail "no sevila at k=2: latency unchecked"
grep -q '^latency not checked in 7 paired cell(s) (latency .-.: no timings or no reference run at that k)' "$T/cmp.out" ||
    fail "unchecked latency cells not counted"
sqlite3 "$T/slow.db" "UPDATE samples SET t_total_us = t_total_us * 2 WHERE run_id = 6"
[ "$(cmpdb --db "$T/slow.db" --baseline-db "$T/grid.db" --latency-ref sevila)" = 1 ] || fail "run 6 slowed alone must fail"
grep -Eq '^nextqa/val vlap k=4 T=32 +#6 +#6 .* \+100\.0% +FAIL \(median latency rose 100\.0 %' "$T/cmp.out" ||
    { cat "$T/cmp.out"; fail "relative latency rise of run 6 not named"; }
[ "$(cmpdb --db "$T/slow.db" --run 6 --baseline 6 --baseline-db "$T/grid.db" --latency-ref sevila --json)" = 1 ] ||
    fail "run 6 against run 6, relative to sevila"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["latency_reference"]; assert r["method"] == "sevila" and r["run_new"] == 4 and r["run_baseline"] == 4 and abs(r["p50_ms_new"] - 3 * r["p50_ms_baseline"]) < 1e-6 * r["p50_ms_new"] and abs(d["latency_rise_pct"] - 100) < 1e-6 and d["latency_fail"] is True' "$T/cmp.out" || fail "json latency_reference"

# ---- Markdown escaping: names with HTML and Markdown syntax reach report.md as text ----
cp "$T/grid.db" "$T/evil.db"
sqlite3 "$T/evil.db" "UPDATE runs SET method = '<script>alert(1)</script>*b*_i_\`c\`|[l](u)&amp;' WHERE id = 1;
  UPDATE runs SET dataset = 'ds<img src=x onerror=alert(1)>' WHERE id IN (12, 13);"
"$VB_BIN" report --db "$T/evil.db" --out "$T/rep4" --format md >/dev/null 2>&1 || fail "report on evil names"
emd="$T/rep4/report.md"
grep -Eq '(^|[^\\])<(script|img|/script)' "$emd" && fail "raw HTML passed into report.md"
grep -q '\\<script\\>alert(1)\\</script\\>\\\*b\\\*\\_i\\_\\`c\\`\\|\\\[l\\\](u)\\&amp;' "$emd" ||
    fail "method name not escaped as expected"
grep -q 'ds\\<img src=x onerror=alert(1)\\>' "$emd" || fail "dataset name not escaped"

# ---- report --format json: the tables as data (same numbers as the Markdown tables above) ----
"$VB_BIN" report --db "$T/grid.db" --out "$T/rep6" --format json --plots none --published --boot 500 --seed 3 2>"$T/err6"
[ -s "$T/rep6/report.json" ] || fail "report.json not written"
[ -e "$T/rep6/report.md" ] && fail "--format json alone must not write report.md"
grep -q 'warning' "$T/err6" && fail "no warning expected on a database without error rows"
python3 - "$T/rep6/report.json" <<'EOF2' || fail "report.json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["runs"] == 13 and d["warnings"] == [] and d["bootstrap_replicates"] == 500
ds = {x["dataset"]: x for x in d["datasets"]}
assert [x["dataset"] for x in d["datasets"]] == ["nextqa", "star", "how2qa", "vlep"]
nq = ds["nextqa"]
assert nq["categories"] == ["Tem", "Cau", "Des"] and nq["headline"] == "Avg" and nq["headline_mode"] == "pooled"
u4 = [c for c in nq["cells"] if c["method"] == "uniform" and c["frames"] == 4][0]
assert u4["run"] == 3 and u4["candidates"] == 4 and u4["n"] == 300 and u4["errors"] == 0
assert u4["overall"]["n_correct"] == 179 and abs(u4["overall"]["acc"] - 59.6667) < 1e-3
assert u4["overall"]["ci_lo"] < u4["overall"]["acc"] < u4["overall"]["ci_hi"]
assert abs(u4["published"]["value"] - 62.4) < 1e-9 and abs(u4["published"]["delta"] + 2.7333) < 1e-3
sev = [c for c in nq["cells"] if c["method"] == "sevila"][0]
assert abs(sev["speedup"] - 1.0) < 1e-12 and sev["latency_p50_s"] > 0
st = ds["star"]
assert st["headline_mode"] == "macro" and st["categories"] == ["Int", "Seq", "Pre", "Fea"]
v = [c for c in st["cells"] if c["method"] == "vlap"][0]
got = [v["categories"][k]["acc"] for k in st["categories"]]
assert all(abs(a - b) < 1e-9 for a, b in zip(got, [45.0, 47.5, 57.5, 37.5])), got
assert abs(v["overall"]["acc"] - 46.875) < 1e-9 and "pooled" in v
EOF2
# ---- error rows: a warning on stderr and at the top of every document, counted in report.json ----
cp "$T/grid.db" "$T/err.db"
sqlite3 "$T/err.db" "UPDATE samples SET status = 'error', error = 'cannot open video', prediction = NULL, correct = 0
  WHERE run_id = 3 AND sample_key IN (SELECT sample_key FROM samples WHERE run_id = 3 ORDER BY sample_key LIMIT 5)"
"$VB_BIN" report --db "$T/err.db" --out "$T/rep7" --format md,tex,html,json --plots none 2>"$T/err7" || fail "report err.db"
w='run #3 (nextqa val uniform k=4 T=4): 5 of 300 samples are error rows'
grep -qF "$w" "$T/err7" || fail "no warning on stderr"
grep -qF "> **Warning:** $w" "$T/rep7/report.md" || fail "no warning in report.md"
grep -qF 'Warning:} run \#3 (nextqa val uniform k=4 T=4): 5 of 300 samples are error rows' "$T/rep7/report.tex" ||
    fail "no warning in report.tex"
grep -qF "<p class=\"warn\"><strong>Warning:</strong> $w" "$T/rep7/report.html" || fail "no warning in report.html"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["warnings"]) == 1 and "run #3" in d["warnings"][0]
c = [c for c in d["datasets"][0]["cells"] if c["run"] == 3][0]
assert c["errors"] == 5 and c["n"] == 300
' "$T/rep7/report.json" || fail "report.json errors"

# ---- --published matches the candidate count: a SeViLA 32->1 run has no published row, an 8->1 run gets Table 7's ----
for tk in "32 1 -" "8 1 62.9"; do
    set -- $tk
    cp "$T/grid.db" "$T/pub.db"
    sqlite3 "$T/pub.db" "UPDATE runs SET candidates = $1, frames = $2 WHERE id = 4"
    "$VB_BIN" report --db "$T/pub.db" --out "$T/rep10" --format md --plots none --published 2>/dev/null || fail "pub report"
    row=$(grep '^| sevila (#4) |' "$T/rep10/report.md")
    pub=$(echo "$row" | awk -F' \\| ' '{print $(NF-2)}')
    [ "$pub" = "$3" ] || fail "sevila $1->$2: published value '$pub', expected '$3' ($row)"
done

# ---- paper-ready figures: CI error bars, k labels, colour per method / dash per k, no titles, size, font, names ----
if [ $have_gp = 1 ]; then
    printf '#!/bin/sh\ntee -a "%s" | exec gnuplot\n' "$T/plots.gp" >"$T/gp.sh"
    chmod +x "$T/gp.sh"
    VB_GNUPLOT="$T/gp.sh" "$VB_BIN" report --db "$T/grid.db" --out "$T/rep9" --format md,json --plots svg,pdf \
        --no-titles --plot-size 640x400 --font 'Latin Modern Roman,9' --log-latency --display-name vlap=VLAP \
        --display-name sevila=SeViLA --boot 500 --seed 3 2>/dev/null || fail "report with figure options"
    gp="$T/plots.gp"
    grep -q '^set title' "$gp" && fail "--no-titles: a title is still set"
    grep -q "svg size 640,400 font 'Latin Modern Roman,9'" "$gp" || fail "--plot-size / --font (svg)"
    grep -q "pdfcairo size 4.000in,2.500in font 'Latin Modern Roman,9'" "$gp" || fail "--plot-size / --font (pdf)"
    grep -q '^set logscale x 10$' "$gp" || fail "--log-latency"
    grep -q "with yerrorbars" "$gp" || fail "no CI error bars"
    grep -qF "sprintf('k=%d', int(\$5))) with labels" "$gp" || fail "no k labels"
    # the error bar of NExT-QA uniform k=4 is its CI from report.json (x y lo hi k)
    python3 - "$gp" "$T/rep9/report.json" <<'EOF2' || fail "error bar data"
import json, sys
gp = open(sys.argv[1]).read().split("\n")
d = json.load(open(sys.argv[2]))
c = [c for c in d["datasets"][0]["cells"] if c["run"] == 3][0]["overall"]
want = [4.0, c["acc"], c["ci_lo"], c["ci_hi"]]  # accuracy vs frames: x = k, y, CI
rows = [[float(v) for v in l.split()] for l in gp if len(l.split()) == 5 and l.split()[0] == "4"]
assert any(all(abs(a - b) < 1e-6 for a, b in zip(r, want)) for r in rows), (want, rows[:5])
assert c["ci_lo"] < c["acc"] < c["ci_hi"]
EOF2
    svg="$T/rep9/acc_vs_latency_nextqa.svg"
    grep -q 'width="640" height="400"' "$svg" || fail "svg size"
    for k in 1 2 4; do grep -q "<text>k=$k</text>" "$svg" || fail "svg: no k=$k label"; done
    grep -q '<text>VLAP</text>' "$svg" && grep -q '<text>SeViLA</text>' "$svg" || fail "svg: display names"
    grep -q 'accuracy vs' "$svg" && fail "svg: title baked in despite --no-titles"
    grep -q '^| VLAP (#6) | 4 | 32 |' "$T/rep9/report.md" || fail "display name in the tables"
    # picked positions: one colour per method, one dash per k (vlap k=2 and k=4 share the colour, not the dash)
    grep -Eq "^plot .*histeps lw 2 lc rgb '#2ca02c' dt 2 title 'VLAP 32->2 #5'.*histeps lw 2 lc rgb '#2ca02c' dt 3 title 'VLAP 32->4 #6'" "$gp" ||
        fail "picked positions: colour per method / dash per k"
    grep -Eq "histeps lw 2 lc rgb '#d62728' dt 3 title 'SeViLA 32->4 #4'" "$gp" || fail "picked positions: sevila colour"
    # the same figure options from a report configuration file give the same gnuplot script; flags override the file
    cp "$gp" "$T/flags.gp"
    cat >"$T/rep.json" <<'EOF2'
{"display_names": {"vlap": "VLAP", "sevila": "SeViLA"}, "plot_size": "640x400",
 "font": "Latin Modern Roman,9", "log_latency": true, "titles": false}
EOF2
    : >"$gp"
    VB_GNUPLOT="$T/gp.sh" "$VB_BIN" report --db "$T/grid.db" --out "$T/rep12" --format md,json --plots svg,pdf \
        --config "$T/rep.json" --boot 500 --seed 3 2>/dev/null || fail "report --config"
    cmp -s "$gp" "$T/flags.gp" || fail "report --config: gnuplot script differs from the one of the same flags"
    cmp -s "$T/rep12/report.md" "$T/rep9/report.md" || fail "report --config: report.md differs from the flags'"
    sed 's/"vlap": "VLAP"/"vlap": "FileName"/; s/640x400/800x500/' "$T/rep.json" >"$T/rep2.json"
    : >"$gp"
    VB_GNUPLOT="$T/gp.sh" "$VB_BIN" report --db "$T/grid.db" --out "$T/rep13" --format md --plots svg \
        --config "$T/rep2.json" --plot-size 640x400 --display-name vlap=VLAP 2>/dev/null || fail "report --config + flags"
    grep -q "svg size 640,400 font 'Latin Modern Roman,9'" "$gp" || fail "--plot-size does not override the file"
    grep -q '^| VLAP (#6) | 4 | 32 |' "$T/rep13/report.md" || fail "--display-name does not override the file"
    grep -q '^| SeViLA (#4) |' "$T/rep13/report.md" || fail "the file's display name for sevila is lost"
    grep -q 'FileName' "$T/rep13/report.md" && fail "the file's name for vlap beat the flag"
    grep -q '^set title' "$gp" && fail "\"titles\": false not applied"
    # default: linear latency axis from 0, titles on
    : >"$gp"
    VB_GNUPLOT="$T/gp.sh" "$VB_BIN" report --db "$T/grid.db" --out "$T/rep11" --format md --plots svg --runs 1,2,3 \
        2>/dev/null || fail "default figures"
    grep -q '^set xrange \[0:\*\]$' "$gp" || fail "linear latency axis must start at 0"
    grep -q '^set title' "$gp" || fail "titles expected by default"
    grep -q "svg size 960,600 font 'Sans,10'" "$gp" || fail "default size / font"
fi

# ---- report --config: a bad file or field is named, exit 1, nothing written ----
badcfg() { # $1 = file content, $2 = text the message must hold
    printf '%s' "$1" >"$T/bad.json"
    rm -rf "$T/rep14"
    rc=0
    "$VB_BIN" report --db "$T/grid.db" --out "$T/rep14" --format md --plots none --config "$T/bad.json" \
        2>"$T/bad.err" >/dev/null || rc=$?
    [ $rc = 1 ] || fail "bad config ($1): exit $rc, want 1"
    grep -qF "$T/bad.json" "$T/bad.err" && grep -qF -- "$2" "$T/bad.err" || fail "bad config ($1): $(cat "$T/bad.err")"
    [ ! -e "$T/rep14/report.md" ] || fail "bad config ($1): a report was written"
}
badcfg '{"plot_sise": "640x400"}' 'unknown field "plot_sise"'
badcfg '{"plot_size": "64x40"}' 'field "plot_size"'
badcfg '{"font": "Serif,200"}' 'field "font"'
badcfg '{"log_latency": "yes"}' 'field "log_latency"'
badcfg '{"titles": 0}' 'field "titles"'
badcfg '{"display_names": ["vlap"]}' 'field "display_names"'
badcfg '{"display_names": {"vlap": ""}}' 'field "display_names.vlap"'
badcfg '[1, 2]' 'expected a JSON object'
badcfg $'{"titles": true,\n "font": }' 'bad.json:2: not valid JSON'
rc=0
"$VB_BIN" report --db "$T/grid.db" --out "$T/rep14" --config "$T/missing.json" 2>"$T/bad.err" >/dev/null || rc=$?
[ $rc = 1 ] && grep -qF "$T/missing.json" "$T/bad.err" || fail "missing config file: $(cat "$T/bad.err")"

echo ok
