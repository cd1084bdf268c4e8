#!/usr/bin/env bash
# report.tex is publisher-ready: it compiles with pdflatex and the PDF embeds no Type 3 (bitmap) font (`pdffonts`);
# every table is also written alone to tables/<name>.tex and compiles when \input into a minimal document.
# TeX Live (base, recommended, fonts-recommended, lmodern) and poppler-utils are installed through
# scripts/install-deps.sh (about 200 MB with their dependencies on Debian 12); a failed install fails the test.
# Database: the synthetic grid.db of tests/fixtures_store.h (`test_store --write-fixtures DIR`).
set -eu
: "${VB_BIN:?VB_BIN not set}"
: "${VB_BUILD:?VB_BUILD not set}"
ROOT=${VB_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
fail() { echo "FAIL: $*"; exit 1; }
VB_EXTRA_PKGS="texlive-latex-base texlive-latex-recommended texlive-fonts-recommended lmodern poppler-utils" \
    bash "$ROOT/scripts/install-deps.sh" || fail "installing TeX Live / poppler-utils failed"
for c in pdflatex pdffonts; do command -v $c >/dev/null || fail "$c missing after install-deps"; done
FX="$VB_BUILD/tests/test_store"
[ -x "$FX" ] || fail "missing $FX (make tests-build)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$FX" --write-fixtures "$T" >/dev/null || fail "fixtures"

plots=none
command -v gnuplot >/dev/null && plots=pdf # the figures' fonts count too
"$VB_BIN" report --db "$T/grid.db" --out "$T/rep" --format tex --plots $plots --published --boot 200 ||
    fail "report"
cd "$T/rep"
grep -q '^\\usepackage\[T1\]{fontenc}$' report.tex && grep -q '^\\usepackage{lmodern}$' report.tex ||
    fail "report.tex: T1 fontenc with lmodern expected"
pdflatex -interaction=nonstopmode -halt-on-error report.tex >"$T/latex.log" 2>&1 || {
    tail -30 "$T/latex.log"
    fail "pdflatex report.tex"
}
pdffonts report.pdf >"$T/fonts.txt" || fail "pdffonts"
cat "$T/fonts.txt"
[ "$(tail -n +3 "$T/fonts.txt" | wc -l)" -gt 0 ] || fail "pdffonts lists no font at all"
grep -q 'Type 3' "$T/fonts.txt" && fail "report.pdf embeds a Type 3 font"
grep -q 'LMRoman' "$T/fonts.txt" || fail "Latin Modern (Type 1) expected"
tail -n +3 "$T/fonts.txt" | awk '$0 !~ / yes +yes +yes / && $0 !~ / yes +no +yes / { bad = 1 } END { exit bad }' ||
    fail "a font is not embedded"

# one includable booktabs table per table
for n in nextqa_main nextqa_types nextqa_published star_main star_published how2qa_main vlep_main latency provenance; do
    f="tables/$n.tex"
    [ -s "$f" ] || fail "$f missing"
    grep -q '\\toprule' "$f" && grep -q '\\midrule' "$f" && grep -q '\\bottomrule' "$f" || fail "$f: not booktabs"
    grep -q 'documentclass\|begin{document}' "$f" && fail "$f must be includable (no preamble)"
done
[ "$(ls tables/*.tex | wc -l)" = 11 ] || fail "expected 11 table files, got $(ls tables)"
# the files hold the same tables as report.tex
grep -q '^uniform (\\#3) & 4 & 4 & ' tables/nextqa_main.tex || fail "nextqa_main.tex: uniform row"
cat >inc.tex <<'EOF'
\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage{lmodern}
\usepackage{booktabs}
\usepackage{graphicx}
\begin{document}
\input{tables/nextqa_main.tex}
\input{tables/star_main.tex}
\input{tables/latency.tex}
\end{document}
EOF
pdflatex -interaction=nonstopmode -halt-on-error inc.tex >"$T/inc.log" 2>&1 || {
    tail -30 "$T/inc.log"
    fail "a document that \\input's the table files does not compile"
}
pdffonts inc.pdf | grep -q 'Type 3' && fail "inc.pdf embeds a Type 3 font"
echo ok
