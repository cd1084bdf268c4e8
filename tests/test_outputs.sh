#!/usr/bin/env bash
# Machine-readable outputs on the store fixtures of `test_store --write-fixtures` (tests/fixtures_store.h):
# `runs --json` (one object per run with id, dataset, method, frames, candidates, acc, ...), `export --format star`
# (the STAR challenge submission: four question-type arrays of {question_id, answer}) and `export --format samples`
# / `samples-csv` (one line per sample), each checked against the database itself through sqlite3.
set -eu
: "${VB_BIN:?VB_BIN not set}"
: "${VB_BUILD:?VB_BUILD not set}"
FX="$VB_BUILD/tests/test_store"
[ -x "$FX" ] || { echo "missing $FX (make tests-build)"; exit 1; }
command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 command missing (make deps)"; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$FX" --write-fixtures "$T" >/dev/null || fail "fixtures"
DB=$T/grid.db

# ---- runs --json: 13 runs; run 6 = NExT-QA VLAP k 4 of 32, 192/300 correct = 64 %
"$VB_BIN" runs --db "$DB" --json > "$T/runs.json" || fail "runs --json"
python3 - "$T/runs.json" <<'PY' || fail "runs --json content"
import json, sys
a = json.load(open(sys.argv[1]))
assert isinstance(a, list) and len(a) == 13, len(a)
for r in a:
    for k in ("id", "dataset", "method", "frames", "candidates", "acc", "n_samples", "status", "verify_hash"):
        assert k in r, (k, r)
r6 = [r for r in a if r["id"] == 6][0]
assert (r6["dataset"], r6["method"], r6["frames"], r6["candidates"]) == ("nextqa", "vlap", 4, 32), r6
assert abs(r6["acc"] - 64.0) < 1e-9 and r6["n_samples"] == 300 and r6["status"] == "complete", r6
print("ok: runs --json")
PY
"$VB_BIN" runs --db "$DB" --json --long >/dev/null 2>&1 && fail "--json with --long accepted"

# ---- export --format star (run 9: STAR VLAP, 160 samples)
"$VB_BIN" export --db "$DB" --run 9 --format star --out "$T/star.json" 2>/dev/null || fail "export star"
sqlite3 -separator ' ' "$DB" "SELECT sample_key, category, prediction FROM samples WHERE run_id = 9 AND status = 'ok'" \
  > "$T/star.sql"
python3 - "$T/star.json" "$T/star.sql" <<'PY' || fail "export star content"
import json, sys
d = json.load(open(sys.argv[1]))
assert sorted(d) == sorted(["Interaction", "Sequence", "Prediction", "Feasibility"]), list(d)
want = {}
for line in open(sys.argv[2]):
    k, c, p = line.split()
    want[k] = (c, int(p))
got = {e["question_id"]: (t, e["answer"]) for t, l in d.items() for e in l}
assert got == want, "submission differs from the stored predictions"
assert len(got) == 160
print("ok: export star", {t: len(l) for t, l in d.items()})
PY
"$VB_BIN" export --db "$DB" --run 6 --format star >/dev/null 2>&1 && fail "star export of a NExT-QA run accepted"

# ---- export --format samples / samples-csv (run 6: 300 samples)
"$VB_BIN" export --db "$DB" --run 6 --format samples --out "$T/s.jsonl" 2>/dev/null || fail "export samples"
"$VB_BIN" export --db "$DB" --run 6 --format samples-csv --out "$T/s.csv" 2>/dev/null || fail "export samples-csv"
sqlite3 -separator ' ' "$DB" "SELECT sample_key, prediction, answer, t_total_us FROM samples WHERE run_id = 6" > "$T/s.sql"
python3 - "$T/s.jsonl" "$T/s.csv" "$T/s.sql" <<'PY' || fail "export samples content"
import csv, json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
want = {}
for line in open(sys.argv[3]):
    k, p, a, t = line.split()
    want[k] = (int(p), int(a), int(t))
assert len(rows) == 300 == len(want), len(rows)
for r in rows:
    assert (r["prediction"], r["answer"], r["t_total_us"]) == want[r["key"]], r
    assert r["correct"] == int(r["prediction"] == r["answer"]), r
    assert len(r["picked"]) == 4 and len(r["candidates_idx"]) == 32, r
    assert r["option_scores"] and max(range(len(r["option_scores"])), key=r["option_scores"].__getitem__) == r["prediction"], r
c = list(csv.DictReader(open(sys.argv[2])))
assert len(c) == 300
for r, j in zip(c, rows):
    assert r["key"] == j["key"] and int(r["prediction"]) == j["prediction"], (r, j)
    assert [int(x) for x in r["picked"].split()] == j["picked"], (r, j)
print("ok: export samples / samples-csv")
PY

# ---- --db is a plain path, never an SQLite URI: "file:x.db?mode=memory" is a file of that name, and it keeps its runs
(cd "$T" && "$VB_BIN" merge --out 'file:x.db?mode=memory' "$DB" >/dev/null 2>&1) || fail "merge into a file: name"
[ -s "$T/file:x.db?mode=memory" ] || fail "'file:x.db?mode=memory' was taken as a URI (no such file written)"
[ "$(cd "$T" && "$VB_BIN" runs --db 'file:x.db?mode=memory' --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 13 ] ||
  fail "the file: database does not hold the 13 merged runs"
echo "ok"
