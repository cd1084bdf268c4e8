# tests/lib.sh — sourced by the shell tests that run the tiny golden models end to end (not a test itself).
#
# vb_golden_setup: sets G=$VB_SHARED/golden; SKIPs (exit 77) unless the golden Flan-T5 tokenizer, the BERT vocabulary
# and the tiny method configs are there and the sqlite3 command exists; then makes a scratch directory $tmp that is
# removed when the test exits.
vb_golden_setup() {
  G=$VB_SHARED/golden
  if [ ! -f "$G/t5-tokenizer/tokenizer.json" ] || [ ! -f "$G/bert-tokenizer/vocab.txt" ] || \
     [ ! -d "$G/methods/methods-blip2" ]; then
    echo "SKIP: $G (tokenizers, tiny method configs) absent"; exit 77
  fi
  command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 command absent"; exit 77; }
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
}
