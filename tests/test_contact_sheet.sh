#!/usr/bin/env bash
# test_contact_sheet.sh — `vlapbench report --contact-sheets N` on a small run of the synthetic event task with the
# trained demo models (models/demo/): the PNGs are decoded back (ffmpeg CLI) and checked pixel by pixel against the
# geometry of reports/contact_sheet.h, the database and the synth manifest:
#   - picture size = the documented formula for the number of distinct frames and runs; one tile per frame;
#   - every thumbnail with a magenta (informative) border shows the card (saturated pixels in its centre) and every
#     card thumbnail has that border: the informative marks are exactly the card frames of manifest.json;
#   - the bar of run r under frame f is in the run's colour exactly when the database stores f among its picks;
#   - the report embeds every sheet (md link, html inline PNG, tex figure) with the question and predictions;
#   - a missing video gives a warning and a skipped sheet, never a failed report; --contact-sheets 0 draws none.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VB=${VB_BIN:-$ROOT/build/vlapbench}
MOD=$ROOT/models/demo
[ -x "$VB" ] || { echo "SKIP: $VB not built"; exit 77; }
for c in sqlite3 ffmpeg python3; do command -v $c >/dev/null || { echo "SKIP: $c not installed (make deps)"; exit 77; }; done
[ -f "$MOD/vlap-k1-T32/model.safetensors" ] || { echo "FAIL: $MOD missing"; exit 1; }
TMP=$(mktemp -d)
trap "[ -n \"${VB_KEEP:-}\" ] || rm -rf $TMP" EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$VB" synth --task event --out "$TMP/data" --videos 3 --questions 1 --seed 5 2>/dev/null
"$VB" run --dataset nextqa --annotations "$TMP/data/nextqa/val.csv" --map "$TMP/data/nextqa/map_vid_vidorID.json" \
    --videos "$TMP/data/nextqa/videos" --method uniform="$MOD/uniform" --method sevila="$MOD/sevila" \
    --method "vlap@1=$MOD/vlap-k1-T32" --method "vlap@2=$MOD/vlap-k2-T32" --frames 1,2 --warmup 0 --threads 1 \
    --quiet --db "$TMP/r.db" >"$TMP/run.log" 2>&1 || { cat "$TMP/run.log"; fail "vlapbench run"; }
"$VB" report --db "$TMP/r.db" --out "$TMP/rep" --plots none --boot 50 --contact-sheets 2 2>"$TMP/rep.log" ||
    { cat "$TMP/rep.log"; fail "report"; }
cat "$TMP/rep.log"
grep -q '^report: 2 contact sheet(s) written' "$TMP/rep.log" || fail "two sheets expected"
for i in 1 2; do [ -s "$TMP/rep/contact_sheet_nextqa_$i.png" ] || fail "contact_sheet_nextqa_$i.png missing"; done

# The sheet's question: its key is in the caption ("question KEY (video ...)"), in report.md.
md=$TMP/rep/report.md
grep -q '^## Contact sheets' "$md" || fail "no Contact sheets section in report.md"
grep -q '^!\[NExT-QA contact sheet, question [0-9\\_]*\](contact_sheet_nextqa_1\.png)' "$md" || fail "md image link"
grep -q 'Answer: [A-E] (' "$md" || fail "caption has no answer"
grep -q 'Predictions: uniform k=1 [A-E] (' "$md" || fail "caption has no predictions"
grep -q 'Magenta border: an informative frame' "$md" || fail "caption does not explain the informative mark"
grep -q '<img alt="NExT-QA contact sheet, question [0-9_]*" src="data:image/png;base64,iVBOR' "$TMP/rep/report.html" ||
    fail "html does not inline the sheet"
grep -q 'includegraphics\[width=\\textwidth\]{contact_sheet_nextqa_2.png}' "$TMP/rep/report.tex" || fail "tex figure"

python3 - "$TMP" "$md" <<'EOF' || fail "pixel checks"
import json, re, sqlite3, subprocess, sys, os
tmp, md = sys.argv[1], sys.argv[2]
db = sqlite3.connect(os.path.join(tmp, "r.db"))
man = json.load(open(os.path.join(tmp, "data", "manifest.json")))
keys = [(k.replace("\\_", "_"), i) for k, i in
        re.findall(r"!\[NExT-QA contact sheet, question ([0-9\\_]+)\]\(contact_sheet_nextqa_(\d)\.png\)", open(md).read())]
assert len(keys) == 2, keys
# runs in report order: uniform, sevila, vlap; k ascending
runs = db.execute("SELECT id, method, frames FROM runs ORDER BY CASE method WHEN 'uniform' THEN 0 WHEN 'sevila' "
                  "THEN 1 ELSE 2 END, frames, candidates, id").fetchall()
colour = {"uniform": (0x1f, 0x77, 0xb4), "sevila": (0xd6, 0x27, 0x28), "vlap": (0x2c, 0xa0, 0x2c)}
M, B, NL, RH, GX, GY = 8, 4, 10, 8, 6, 10
checked_info = checked_bars = 0
for key, idx in keys:
    video = db.execute("SELECT DISTINCT video_id FROM samples WHERE sample_key=?", (key,)).fetchall()
    assert len(video) == 1
    frames, picks = set(), []
    for rid, meth, k in runs:
        cand, pk = db.execute("SELECT candidates, picked FROM samples WHERE run_id=? AND sample_key=?", (rid, key)).fetchone()
        frames |= set(json.loads(cand)) | set(json.loads(pk))
        picks.append(set(json.loads(pk)))
    frames = sorted(frames)
    # the video: nextqa/videos/<folder>/<id>.mp4 -> ../../videos/synth_NNN.mp4
    real = os.path.realpath([os.path.join(d, f) for d, _, fs in os.walk(os.path.join(tmp, "data", "nextqa", "videos"))
                             for f in fs if f == video[0][0] + ".mp4"][0])
    ent = [v for v in man["videos"] if v["file"] == "videos/" + os.path.basename(real)][0]
    e0, e1 = ent["event"]
    png = os.path.join(tmp, "rep", "contact_sheet_nextqa_%s.png" % idx)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height",
                            "-of", "csv=p=0", png], capture_output=True, text=True, check=True).stdout.strip()
    W, H = map(int, probe.split(","))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", png, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    assert len(raw) == W * H * 3
    px = lambda x, y: tuple(raw[(y * W + x) * 3:(y * W + x) * 3 + 3])
    labels = ["%s k=%d" % (m, k) for _, m, k in runs]
    n, nm, cols, tw, th = len(frames), len(runs), min(8, len(frames)), 96, 72   # 320x240 video -> 96x72
    LW = 6 * max(len(l) for l in labels) + 6
    PX, PY = tw + 2 * B + GX, th + 2 * B + NL + nm * RH + GY
    rows = (n + cols - 1) // cols
    expW = max(2 * M + LW + cols * PX - GX, 2 * M + 22 + 6 * max(17, max(len(l) for l in labels)))
    expH = M + rows * PY + (nm + 1) * 12 + M
    assert (W, H) == (expW, expH), ((W, H), (expW, expH), n, nm)
    assert n == 32, "32 candidates of a 32-frame video expected, got %d" % n
    for i, f in enumerate(frames):
        bx, by = M + LW + (i % cols) * PX, M + (i // cols) * PY
        border = px(bx + 1, by + 1)
        c = px(bx + B + tw // 2, by + B + th // 2)
        card = max(c) - min(c) > 80  # the card's colour; distractors are grey
        assert border in ((255, 0, 255), (200, 200, 200)), (f, border)
        info = border == (255, 0, 255)
        assert info == (e0 <= f < e1), ("informative mark", key, f, info, e0, e1)
        assert card == (e0 <= f < e1), ("card pixels", key, f, c, e0, e1)
        checked_info += 1
        for r, (rid, meth, k) in enumerate(runs):
            bar = px(bx + (tw + 2 * B) // 2, by + th + 2 * B + NL + r * RH + 3)
            want = colour[meth] if f in picks[r] else (0xeb, 0xeb, 0xeb)
            assert bar == want, ("bar", key, f, meth, k, bar, want)
            checked_bars += 1
    # beyond the last tile of the grid: background
    if n % cols:
        i = n
        bx, by = M + LW + (i % cols) * PX, M + (i // cols) * PY
        assert px(bx + 1, by + 1) == (255, 255, 255)
print("contact sheets: %d thumbnails checked (informative border == card pixels == manifest), %d pick bars == stored picks"
      % (checked_info, checked_bars))
EOF

# a damaged manifest: the sheet is drawn without informative marks, and the report says why
cp "$TMP/data/manifest.json" "$TMP/manifest.good"
sed -i 's/"event": \[[0-9]*, [0-9]*\]/"event": "bad"/' "$TMP/data/manifest.json"
"$VB" report --db "$TMP/r.db" --out "$TMP/rep4" --plots none --boot 50 --contact-sheets 1 2>"$TMP/rep4.log" ||
    { cat "$TMP/rep4.log"; fail "report with a damaged manifest must not fail"; }
grep -q 'no informative frames marked: .*manifest.json: entry videos/synth_00[0-9].mp4: "event" is not' "$TMP/rep4.log" ||
    { cat "$TMP/rep4.log"; fail "damaged manifest not named"; }
grep -q 'No ground truth is known for this video' "$TMP/rep4/report.md" || fail "caption must say there is no ground truth"
ffmpeg -v error -i "$TMP/rep4/contact_sheet_nextqa_1.png" -f rawvideo -pix_fmt rgb24 - | od -An -v -tu1 -w3 |
    grep -q '^ *255 *0 *255$' && fail "informative marks drawn from a damaged manifest"
cp "$TMP/manifest.good" "$TMP/data/manifest.json"

# a missing video: warning, sheet skipped, report still written (exit 0)
rm -f "$TMP"/data/videos/synth_00[0-2].mp4
rm -rf "$TMP/rep2"
"$VB" report --db "$TMP/r.db" --out "$TMP/rep2" --plots none --boot 50 --contact-sheets 1 2>"$TMP/rep2.log" ||
    { cat "$TMP/rep2.log"; fail "report with a missing video must not fail"; }
grep -q 'warning: contact sheets skipped' "$TMP/rep2.log" || { cat "$TMP/rep2.log"; fail "no warning for a missing video"; }
grep -q 'contact sheet NExT-QA [0-9\\_]* skipped: ' "$TMP/rep2/report.md" || fail "the skip is not noted in report.md"
ls "$TMP"/rep2/contact_sheet_* >/dev/null 2>&1 && fail "a sheet was written without its video"
# off by default
rm -rf "$TMP/rep3"
"$VB" report --db "$TMP/r.db" --out "$TMP/rep3" --plots none --boot 50 2>/dev/null
grep -q 'Contact sheets' "$TMP/rep3/report.md" && fail "contact sheets drawn without --contact-sheets"
"$VB" report --db "$TMP/r.db" --out "$TMP/rep3" --contact-sheets x 2>/dev/null && fail "--contact-sheets x accepted"
echo "ok: contact sheets"
