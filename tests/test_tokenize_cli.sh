#!/usr/bin/env bash
# test_tokenize_cli.sh — `vlapbench tokenize` with the real tokenizers committed in models/tokenizers/ (no ../shared,
# no Python):
#   T5 (fast tokenizer.json): the known ids of methods.md §2.5 (frame prefixes, letters, yes / no, Option), </s>
#     appended or not, right / left truncation of a long text (first / last pieces + </s>), decode round trip and
#     --keep-special; the tokenizer.json that --spm-to-json writes from the committed spiece.model tokenizes every
#     probe string (normalisation, whitespace, digits, unknown characters, added tokens) exactly as the official one.
#   BERT (vocab.txt): ids equal the vocabulary line numbers of the expected WordPiece tokens (lower-casing,
#     punctuation split), [CLS] / [SEP] / --no-special, truncation at 128 from either side.
#   Errors: malformed input lines -> "stdin:LINE:" and exit 1; usage errors exit 2; missing or non-protobuf files
#     exit 1.
# The exhaustive comparison with the golden case files (which quote dataset text and stay in ../shared) is the
# conformance test tests/test_conf_tokenize_cli.sh.
set -u
: "${VB_BIN:?VB_BIN must point to the vlapbench binary}"
: "${VB_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
T5=$VB_ROOT/models/tokenizers/flan-t5/tokenizer.json
SPM=$VB_ROOT/models/tokenizers/flan-t5/spiece.model
VOCAB=$VB_ROOT/models/tokenizers/bert-base-uncased/vocab.txt
for f in "$T5" "$SPM" "$VOCAB"; do [ -f "$f" ] || { echo "FAIL: $f missing (committed in the repository)"; exit 1; }; done
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0; n=0
ok() { n=$((n + 1)); }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
# tok ARGS... <<< 'JSON line': the ids printed for each input line
tok() { "$VB_BIN" tokenize "$@"; }
expect() { # label want ARGS... (stdin: one JSON string)
  local label=$1 want=$2; shift 2
  local got; got=$(tok "$@") || { bad "$label: exit $?"; return; }
  [ "$got" = "$want" ] && ok || bad "$label: got '$got', expected '$want'"
}

# ---- T5: methods.md §2.5 known ids
while IFS='|' read -r text ids; do
  expect "t5 '$text'" "$ids" --t5 "$T5" --no-special <<<"\"$text\""
  expect "t5 '$text' + </s>" "$ids 1" --t5 "$T5" <<<"\"$text\""
done <<'K'
Frame: |16015 10 3
Frame 1: |16015 209 10 3
Frame 2: |16015 204 10 3
Frame 3: |16015 220 10 3
Frame 4: |16015 314 10 3
A|71
B|272
C|205
D|309
E|262
yes|4273
no|150
Option|10231
K
expect "t5 empty" "1" --t5 "$T5" <<<'""'
expect "t5 added token in text" "3 9 32099 3 115 1" --t5 "$T5" <<<'"a<extra_id_0>b"'
# ---- T5 truncation: 100 words
long=$(printf 'word %.0s' $(seq 100))
full=$(tok --t5 "$T5" <<<"\"$long\"")
nf=$(wc -w <<<"$full")
[ "$nf" -gt 77 ] && [ "${full##* }" = 1 ] && ok || bad "t5 long text: $nf ids, last ${full##* }"
want=$(tr ' ' '\n' <<<"$full" | head -76 | tr '\n' ' ')1
expect "t5 right truncation 77" "$want" --t5 "$T5" --max-length 77 <<<"\"$long\""
want=$(tr ' ' '\n' <<<"$full" | head -n $((nf - 1)) | tail -76 | tr '\n' ' ')1
expect "t5 left truncation 77" "$want" --t5 "$T5" --max-length 77 --truncate left <<<"\"$long\""
expect "t5 max-length 1" "1" --t5 "$T5" --max-length 1 <<<"\"$long\""
# ---- T5 decode
q='Question: why did the boy pick up the ball? Answer:'
ids=$(tok --t5 "$T5" <<<"\"$q\"")
expect "t5 decode round trip" "\"$q\"" --t5 "$T5" --decode <<<"$ids"
expect "t5 decode --keep-special" "\"$q</s>\"" --t5 "$T5" --decode --keep-special <<<"$ids"
expect "t5 decode specials" '"<pad> <extra_id_0> </s>"' --t5 "$T5" --decode --keep-special <<<"0 32099 1"
expect "t5 decode skips specials" '"the"' --t5 "$T5" --decode <<<"0 0 0 8 1 0"
# ---- spm-to-json from the committed spiece.model = the official tokenizer.json
if tok --spm-to-json "$SPM" --out "$tmp/from_spm.json" >/dev/null 2>"$tmp/spm.err"; then
  cat > "$tmp/probe.jsonl" <<'P'
"Frame: "
"Question: what did the people on the sofa do after the lady in pink finished singing? Option A: sitting."
"  leading and trailing  "
"two  spaces\tand a tab\nand a newline"
"ｆｕｌｌ-width ＡＢＣ １２３ and ligature ﬁne"
"Café déjà vu, naïve façade"
"1234567890 3.14159 1,000,000"
"中文 and 😀 and \u00a0nbsp"
"a<extra_id_0>b </s> <pad>"
"Does the information within the frame provide the necessary details to accurately answer the given question?"
P
  a=$(tok --t5 "$T5" <"$tmp/probe.jsonl"); b=$(tok --t5 "$tmp/from_spm.json" <"$tmp/probe.jsonl")
  [ -n "$a" ] && [ "$(wc -l <<<"$a")" = 10 ] && [ "$a" = "$b" ] && ok \
    || bad "tokenizer.json from spiece.model tokenizes differently: $(diff <(echo "$a") <(echo "$b") | head -5)"
  expect "from-spm known ids" "16015 220 10 3" --t5 "$tmp/from_spm.json" --no-special <<<'"Frame 3: "'
else
  bad "spm-to-json of the committed spiece.model: $(cat "$tmp/spm.err")"
fi
tok --spm-to-json "$VOCAB" --out "$tmp/bad.json" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && ok || bad "spm-to-json on a non-protobuf file: exit $rc, expected 1"

# ---- BERT: ids = vocabulary line numbers - 1
vid() { local l; l=$(grep -nxF -m1 -- "$1" "$VOCAB" | cut -d: -f1); echo $((${l:-0} - 1)); }
bert_want() { local w out=""; for w in "$@"; do out="$out $(vid "$w")"; done; echo "${out# }"; }
want=$(bert_want "[CLS]" question : what did the boy do "?" option a : run . "[SEP]")
expect "bert sentence" "$want" --bert "$VOCAB" <<<'"Question: What did the BOY do? Option A: run."'
[ "$(vid "[CLS]") $(vid "[SEP]") $(vid "[UNK]")" = "101 102 100" ] && ok || bad "vocabulary: [CLS]/[SEP]/[UNK] ids"
expect "bert [SEP] in text" "101 7592 102 2088 102" --bert "$VOCAB" <<<'"hello [SEP] world"'
expect "bert --no-special" "$(bert_want hello world)" --bert "$VOCAB" --no-special <<<'"Hello world"'
expect "bert accents stripped" "$(bert_want "[CLS]" cafe "[SEP]")" --bert "$VOCAB" <<<'"Café"'
long=$(for i in $(seq 200); do [ $((i % 2)) = 1 ] && printf 'a ' || printf 'b '; done)
got=$(tok --bert "$VOCAB" --max-length 128 --truncate left <<<"\"$long\"")
set -- $got
[ $# = 128 ] && [ "$1" = 101 ] && [ "${128}" = 102 ] && [ "${127}" = "$(vid b)" ] && ok || bad "bert left truncation: $got"
got=$(tok --bert "$VOCAB" --max-length 128 <<<"\"$long\"")
set -- $got
[ $# = 128 ] && [ "$2" = "$(vid a)" ] && [ "${127}" = "$(vid b)" ] && [ "${128}" = 102 ] && ok || bad "bert right truncation: $got"

# ---- malformed input and usage
mal() { # label lineno ARGS... (stdin)
  local label=$1 line=$2; shift 2
  tok "$@" >/dev/null 2>"$tmp/err"; local rc=$?
  [ $rc -eq 1 ] && grep -q "^stdin:$line:" "$tmp/err" && ok || bad "malformed $label: exit $rc, stderr $(head -c 200 "$tmp/err")"
}
mal "t5 unterminated" 2 --t5 "$T5" <<<$'"ok"\n"unterminated'
mal "t5 number" 1 --t5 "$T5" <<<'42'
mal "bert array" 3 --bert "$VOCAB" <<<$'"a"\n"b"\n["x"]'
mal "bert lone surrogate" 1 --bert "$VOCAB" <<<'"\ud800"'
mal "t5 decode non-number" 1 --t5 "$T5" --decode <<<'1 2 x'
mal "t5 decode id out of range" 1 --t5 "$T5" --decode <<<'5 99999999'
tok --t5 "$T5" --max-length zero </dev/null >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && ok || bad "bad --max-length: exit $rc, expected 2"
tok --t5 /nonexistent/tokenizer.json <<<'"a"' >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && ok || bad "missing tokenizer.json: exit $rc, expected 1"

echo "$n checks passed, $fails failed"
[ $fails -eq 0 ]
