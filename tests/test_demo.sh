#!/usr/bin/env bash
# test_demo.sh — the bundled default (`make demo`, scripts/demo.sh, with the trained models of models/demo/) in its
# reduced form (VB_DEMO_SMALL=1: 3 videos, 6 questions per dataset), end to end:
#   - the WordPiece builder on a hand-made corpus gives a known vocabulary (ids checked through the BERT tokenizer);
#   - the demo exits 0 and writes results.db, report.md/.html/.tex and the plots; the database holds exactly the grid
#     (4 datasets x uniform/SeViLA/VLAP x k 1,2,4, candidates 32, VLAP on How2QA 8), every row ok;
#   - the corpus line of the first NExT-QA question is the QA prompt built by hand from the CSV (methods.md 2.6);
#     the committed tokenizers (models/demo/tokenizer) are byte-identical when rebuilt from the training split's text
#     (synth seed and size from models/demo/manifest.json), and check-tokenizer rejects a model without "▁yes";
#   - the trained models answer: VLAP at k = 1 gets at least 20 of the 24 questions right, uniform at k = 1 fewer
#     (3 videos only: the full demo's 100 questions per dataset show the gap);
#   - "About this demo" (trained models: what was trained on what) is in all three reports;
#   - contact sheets: 3 per dataset, written and inlined in report.html, with a section in report.md;
#   - the regression gate: the 12 VLAP cells and the 12 SeViLA cells (the latency reference) are paired with
#     models/demo-baseline.db (the full demo's runs: the small demo's questions are a subset of the full demo's) and
#     pass with no changed prediction and the latency relative to SeViLA within the limit; the verdict is in
#     the demo's output and in all three reports; against a copy of the baseline with one VLAP prediction changed,
#     the same compare exits 1 and names the changed prediction;
#   - a second run resumes: no sample is computed again and it takes well under the first run's time;
#   - headless Chromium renders report.html: the screenshot is not blank and shows coloured plot pixels.
# Chromium (Debian package chromium) is installed with apt-get when missing (as root, or with sudo).
set -euo pipefail
: "${VB_BIN:?VB_BIN must point to the vlapbench binary}"
ROOT=${VB_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v spm_train >/dev/null || fail "spm_train missing (Debian package sentencepiece; make deps installs it)"
command -v sqlite3 >/dev/null || fail "sqlite3 missing (make deps installs it)"

# ---- WordPiece builder: known answer
printf 'Hello, hello world!\n\xc3\x9cn\xc3\xaf 42x caf\xc3\xa9\n' > "$T/c.txt"
"$VB_BIN" demo wordpiece --corpus "$T/c.txt" --out "$T/v.txt" --size 256 2>/dev/null || fail "demo wordpiece"
[ "$(sed -n '1p;101p;102p;103p;104p' "$T/v.txt" | tr '\n' ' ')" = "[PAD] [UNK] [CLS] [SEP] [MASK] " ] ||
    fail "wordpiece: specials not at the bert-base-uncased ids"
[ "$(sed -n '179,$p' "$T/v.txt" | tr '\n' ' ')" = "hello 42x cafe uni world " ] ||
    fail "wordpiece: words not in frequency / byte order: $(sed -n '179,$p' "$T/v.txt" | tr '\n' ' ')"
ids=$(echo '"Ünï 42x café, Hello! zzz"' | "$VB_BIN" tokenize --bert "$T/v.txt")
[ "$ids" = "101 181 179 180 105 178 104 141 177 177 102" ] || fail "wordpiece vocabulary tokenizes as '$ids'"
"$VB_BIN" demo wordpiece --corpus "$T/c.txt" --out "$T/v2.txt" --size 256 2>/dev/null
cmp -s "$T/v.txt" "$T/v2.txt" || fail "wordpiece output not deterministic"
echo "ok: wordpiece known answer"

# ---- the reduced demo
OUT=$T/demo-out
t0=$(date +%s.%N)
VB_DEMO_SMALL=1 VB_DEMO_OUT=$OUT bash "$ROOT/scripts/demo.sh" >"$T/demo1.log" 2>&1 ||
    { tail -30 "$T/demo1.log"; fail "demo.sh"; }
t1=$(date +%s.%N)
first=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
grep -q "report is in $OUT/report.html" "$T/demo1.log" || fail "demo.sh does not say where the report is"
for f in results.db report.md report.html report.tex; do [ -s "$OUT/$f" ] || fail "$f missing"; done
for ds in nextqa star vlep how2qa; do
    for p in acc_vs_frames stage_latency; do [ -s "$OUT/${p}_$ds.png" ] || fail "plot ${p}_$ds.png missing"; done
done
echo "ok: first run ${first}s, files written"

# database: exactly the grid, all complete, 6 ok rows each
q() { sqlite3 -batch -noheader "$OUT/results.db" "$1"; }
[ "$(q "SELECT COUNT(*) FROM runs")" = 36 ] || fail "expected 36 runs, got $(q "SELECT COUNT(*) FROM runs")"
grid=$(q "SELECT dataset||':'||method||':'||frames||':'||candidates FROM runs ORDER BY 1" | tr '\n' ' ')
want=""
for ds in how2qa nextqa star vlep; do
    for m in sevila uniform vlap; do
        for k in 1 2 4; do
            case $m in uniform) c=$k;; sevila) c=32;; vlap) if [ $ds = how2qa ]; then c=8; else c=32; fi;; esac
            want="$want$ds:$m:$k:$c "
        done
    done
done
[ "$grid" = "$want" ] || fail "grid of runs: got '$grid', want '$want'"
[ "$(q "SELECT COUNT(*) FROM runs WHERE status='complete'")" = 36 ] || fail "not every run is complete"
[ "$(q "SELECT COUNT(*) FROM samples WHERE status='ok'")" = 216 ] || fail "expected 216 ok rows"
[ "$(q "SELECT COUNT(*) FROM samples WHERE status!='ok' OR prediction IS NULL OR correct IS NULL")" = 0 ] ||
    fail "rows without prediction"
# every VLAP / SeViLA row picked k frames out of its candidates; uniform's k frames are its candidates
bad=$(q "SELECT COUNT(*) FROM samples s JOIN runs r ON r.id=s.run_id
         WHERE json_array_length(s.picked) != r.frames OR json_array_length(s.candidates) != r.candidates")
[ "$bad" = 0 ] || fail "$bad rows with the wrong number of picked / candidate frames"
echo "ok: database holds the grid (36 runs, 216 rows)"
# the trained models answer: VLAP at k = 1 sees the card, uniform at k = 1 mostly does not
acc() { q "SELECT SUM(s.correct) FROM samples s JOIN runs r ON r.id=s.run_id WHERE r.method='$1' AND r.frames=1"; }
vl=$(acc vlap)
un=$(acc uniform)
[ "$vl" -ge 20 ] || fail "VLAP k=1 answers $vl of 24 questions right (trained models: expected >= 20)"
[ "$un" -lt "$vl" ] || fail "uniform k=1 answers $un of 24 right, VLAP $vl: expected fewer"
echo "ok: trained models: VLAP k=1 $vl/24, uniform k=1 $un/24 right"

# corpus: the first NExT-QA QA prompt built by hand from the CSV (question + '?', options + '.')
IFS=, read -r _ _ _ _ qq _ _ _ a0 a1 a2 a3 a4 < <(sed -n 2p "$OUT/data/nextqa/val.csv")
want="Question: $qq? Option A: $a0. Option B: $a1. Option C: $a2. Option D: $a3. Option E: $a4."
want="$want Considering the information presented in the frame, select the correct answer from the options."
[ "$(head -1 "$OUT/tokenizer/corpus.txt")" = "$want" ] || fail "corpus line 1: '$(head -1 "$OUT/tokenizer/corpus.txt")'"
# the corpus is deterministic; the committed tokenizers are rebuilt byte-identically from the training split's text
# (its synth seed and size from the trainer's manifest); a model without "yes" is rejected
mkdir "$T/tok"
"$VB_BIN" demo corpus --synth "$OUT/data" --out "$T/tok/c0.txt" 2>/dev/null
cmp -s "$T/tok/c0.txt" "$OUT/tokenizer/corpus.txt" || fail "demo corpus not deterministic"
MAN=$ROOT/models/demo/manifest.json
train=$(tr -d ' \n' <"$MAN" | grep -o '"train":{[^}]*')
tr_seed=$(echo "$train" | grep -o '"synth_seed":[0-9]*' | grep -o '[0-9]*$')
tr_videos=$(echo "$train" | grep -o '"videos":[0-9]*' | grep -o '[0-9]*$')
tr_q=$(echo "$train" | grep -o '"questions_per_video":[0-9]*' | grep -o '[0-9]*$')
[ -n "$tr_seed" ] && [ -n "$tr_videos" ] && [ -n "$tr_q" ] || fail "$MAN: no training split description"
"$VB_BIN" synth --task event --no-videos --out "$T/train" --videos "$tr_videos" --questions "$tr_q" \
    --seed "$tr_seed" 2>/dev/null || fail "synth (training split)"
"$VB_BIN" demo corpus --synth "$T/train" --out "$T/tok/corpus.txt" 2>/dev/null
(cd "$T/tok" && spm_train --input=corpus.txt --model_prefix=spiece --model_type=unigram --vocab_size=400 \
    --hard_vocab_limit=false --character_coverage=1.0 --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 \
    --num_threads=1 --random_seed=1 --minloglevel=2 >/dev/null 2>&1) || fail "spm_train (rebuild)"
cmp -s "$T/tok/spiece.model" "$OUT/tokenizer/spiece.model" || fail "spm_train does not rebuild the committed model"
"$VB_BIN" tokenize --spm-to-json "$T/tok/spiece.model" --out "$T/tok/tokenizer.json" --extra-ids 100 >/dev/null 2>&1
cmp -s "$T/tok/tokenizer.json" "$OUT/tokenizer/tokenizer.json" || fail "tokenizer.json not deterministic"
"$VB_BIN" demo wordpiece --corpus "$T/tok/corpus.txt" --out "$T/tok/vocab.txt" --size 400 2>/dev/null
cmp -s "$T/tok/vocab.txt" "$OUT/tokenizer/vocab.txt" || fail "vocab.txt not deterministic"
"$VB_BIN" demo check-tokenizer --t5 "$OUT/tokenizer/tokenizer.json" --bert "$OUT/tokenizer/vocab.txt" \
    --corpus "$OUT/tokenizer/corpus.txt" >/dev/null || fail "check-tokenizer rejects the demo tokenizers"
grep -v -w -e yes -e 'yes\.' "$OUT/tokenizer/corpus.txt" > "$T/tok/noyes.txt"
spm_train --input="$T/tok/noyes.txt" --model_prefix="$T/tok/noyes" --model_type=unigram --vocab_size=400 \
    --hard_vocab_limit=false --character_coverage=1.0 --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 \
    --num_threads=1 --random_seed=1 --minloglevel=2 >/dev/null 2>&1 || fail "spm_train (no yes)"
"$VB_BIN" tokenize --spm-to-json "$T/tok/noyes.model" --out "$T/tok/noyes.json" >/dev/null 2>&1
if "$VB_BIN" demo check-tokenizer --t5 "$T/tok/noyes.json" >/dev/null 2>"$T/tok/err"; then
    fail "check-tokenizer accepts a tokenizer without ▁yes"
fi
grep -q 'encode("yes") is not the single piece' "$T/tok/err" ||
    fail "check-tokenizer: wrong reason: $(cat "$T/tok/err")"
echo "ok: corpus prompt, tokenizer determinism and check"

# the note, once in each report, and the tables
for f in report.md report.html report.tex; do
    [ "$(grep -c 'About this demo' "$OUT/$f")" = 1 ] || fail "$f: 'About this demo' not there exactly once"
    grep -q 'small models trained for it' "$OUT/$f" || fail "$f: does not say the models were trained"
    grep -q 'real measurements' "$OUT/$f" || fail "$f: does not say latencies are real measurements"
done
for h in "NExT-QA val" "STAR val" "VLEP dev" "How2QA val"; do
    grep -q "^### $h: accuracy" "$OUT/report.md" || fail "report.md: no table for $h"
done
n_img=$(grep -o '<img[^>]*src="data:image/png;base64,' "$OUT/report.html" | wc -l)
[ "$n_img" -ge 8 ] || fail "report.html inlines $n_img plots"
echo "ok: reports"

# contact sheets: 3 per dataset, inlined
n_sh=$(ls "$OUT"/contact_sheet_*.png 2>/dev/null | wc -l)
[ "$n_sh" = 12 ] || fail "expected 12 contact sheets (3 per dataset), found $n_sh"
grep -q '^## Contact sheets' "$OUT/report.md" || fail "report.md: no Contact sheets section"
[ "$(grep -c '<figure class="contact-sheet">' "$OUT/report.html")" = 12 ] || fail "report.html: 12 contact sheets expected"
grep -q 'contact sheets skipped' "$OUT/report.log" && fail "contact sheets were skipped: $(grep skipped "$OUT/report.log")"
echo "ok: contact sheets"

# the regression gate against the committed baseline
BASE=$ROOT/models/demo-baseline.db
[ -s "$BASE" ] || fail "$BASE missing (VB_DEMO_WRITE_BASELINE=1 scripts/demo.sh writes it)"
grep -q '^demo:   verdict: PASS' "$T/demo1.log" || { cat "$OUT/gate.txt"; fail "the regression gate did not pass"; }
grep -q '^demo:   cells: 24 paired, 0 failed, 0 not comparable, 12 only in new, 0 only in baseline' "$T/demo1.log" ||
    { cat "$OUT/gate.txt"; fail "the gate must pair the 12 VLAP and 12 SeViLA cells"; }
[ "$(grep -c ' vlap k=[124] T=\(32\|8\) .* PASS$' "$OUT/gate-lines.txt")" = 12 ] || fail "12 VLAP PASS lines expected"
[ "$(grep -c ' sevila k=[124] T=32 .* PASS$' "$OUT/gate-lines.txt")" = 12 ] || fail "12 SeViLA PASS lines expected"
for f in report.md report.html report.tex; do
    [ "$(grep -c 'Regression gate' "$OUT/$f")" = 1 ] || fail "$f: no single Regression gate section"
    grep -q 'Verdict: PASS (exit status 0)' "$OUT/$f" || fail "$f: gate verdict missing"
done
# the gate can fail: one VLAP prediction of a paired question changed in a copy of the baseline
cp "$BASE" "$T/base-changed.db"
key=$(q "SELECT s.sample_key FROM samples s JOIN runs r ON r.id = s.run_id WHERE r.dataset = 'nextqa' AND r.method = 'vlap'
         AND r.frames = 1 ORDER BY s.sample_key LIMIT 1")
sqlite3 "$T/base-changed.db" "UPDATE samples SET prediction = (prediction + 1) % 5, correct = 1 - correct
    WHERE sample_key = '$key' AND run_id = (SELECT id FROM runs WHERE dataset = 'nextqa' AND method = 'vlap' AND frames = 1)"
set +e
"$VB_BIN" compare --db "$OUT/results.db" --baseline-db "$T/base-changed.db" --max-acc-drop 0 --max-changed 0 \
    --latency-ref sevila --max-latency-rise 100 --ignore-key blas_threads,config.map_sha256 >"$T/gate-bad.txt" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || { cat "$T/gate-bad.txt"; fail "a changed baseline prediction must fail the gate (exit $rc)"; }
grep -Eq '^nextqa/val vlap k=1 T=32 .*FAIL \(1 paired question\(s\) changed their prediction' "$T/gate-bad.txt" ||
    { cat "$T/gate-bad.txt"; fail "the failing cell is not named"; }
echo "ok: regression gate (passes against the baseline, fails against a changed one)"

# ---- resume
t0=$(date +%s.%N)
VB_DEMO_SMALL=1 VB_DEMO_OUT=$OUT bash "$ROOT/scripts/demo.sh" >"$T/demo2.log" 2>&1 ||
    { tail -30 "$T/demo2.log"; fail "demo.sh (2nd)"; }
second=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
# every session of the second run added nothing (first run: 36 sessions adding 216 rows)
[ "$(q "SELECT COUNT(*) || ' ' || SUM(n_added) FROM sessions WHERE n_added > 0")" = "36 216" ] ||
    { cat "$T/demo2.log"; fail "second run computed samples"; }
grep -q 'starting a new one' "$T/demo2.log" && fail "second run did not reuse results.db"
[ "$(q "SELECT COUNT(*) FROM samples")" = 216 ] || fail "second run changed the database"
awk -v a="$first" -v b="$second" 'BEGIN{exit !(b < 0.5 * a)}' || fail "resume took ${second}s (first run ${first}s)"
[ "$(grep -c 'About this demo' "$OUT/report.md")" = 1 ] || fail "note duplicated after resume"
[ "$(grep -c 'Regression gate' "$OUT/report.md")" = 1 ] || fail "gate section missing or duplicated after resume"
echo "ok: resume in ${second}s (first run ${first}s)"

# ---- headless Chromium
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
    echo "installing chromium (Debian package) for the screenshot check" >&2
    # the project's installer: waits for apt's locks when another apt-get holds them instead of failing at once
    VB_EXTRA_PKGS=chromium bash "$ROOT/scripts/install-deps.sh" >"$T/apt.log" 2>&1 ||
        { tail "$T/apt.log"; fail "chromium is missing and apt-get could not install it"; }
    CHROME=$(command -v chromium) || fail "chromium not found after installing it"
fi
shot=$T/shot.png
timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
    --disable-sync --no-first-run --hide-scrollbars --user-data-dir="$T/chrome-profile" --screenshot="$shot" \
    --window-size=1280,9000 "file://$OUT/report.html" >"$T/chrome.log" 2>&1 || true
[ -s "$shot" ] || { tail "$T/chrome.log"; fail "chromium wrote no screenshot"; }
# decode with ffmpeg (a dependency anyway), nearest-neighbour to 160 x 1125, count colours and coloured pixels
ffmpeg -loglevel error -i "$shot" -vf scale=160:1125:flags=neighbor -f rawvideo -pix_fmt rgb24 "$T/shot.rgb" ||
    fail "ffmpeg cannot read the screenshot"
read -r n_col n_dark n_colour < <(od -An -v -tu1 -w3 "$T/shot.rgb" | awk '
    { k = $1 "," $2 "," $3; if (!(k in seen)) { seen[k] = 1; n++ }
      mx = $1; mn = $1; for (i = 2; i <= 3; i++) { if ($i > mx) mx = $i; if ($i < mn) mn = $i }
      if (mx < 128) dark++; if (mx - mn > 80) colour++ }
    END { print n, dark + 0, colour + 0 }')
echo "screenshot: $n_col distinct colours, $n_dark dark (text) pixels, $n_colour saturated (plot) pixels of 180000"
[ "$n_col" -ge 20 ] || fail "screenshot nearly uniform ($n_col colours): the page did not render"
[ "$n_dark" -ge 1000 ] || fail "screenshot has almost no text ($n_dark dark pixels)"
[ "$n_colour" -ge 200 ] || fail "screenshot has almost no coloured pixels ($n_colour): plots not shown"
echo "ok: chromium screenshot"
