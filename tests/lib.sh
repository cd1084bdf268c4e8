# tests/lib.sh — sourced by the shell tests that run tiny random-weight models end to end (not a test itself).
#
# vb_models_setup: everything these tests need is in the repository (nothing from ../shared):
#   TOK_T5    models/tokenizers/flan-t5            the real Flan-T5 tokenizer (tokenizer.json, spiece.model)
#   TOK_BERT  models/tokenizers/bert-base-uncased  the real BERT vocab.txt (InstructBLIP's Q-Former)
#   CFG_B     tests/configs/tiny-blip2.json        tiny Blip2Config (uniform, SeViLA) with the real vocabularies
#   CFG_I     tests/configs/tiny-instructblip.json tiny InstructBlipConfig (VLAP)
# Bundles are made from these with `vlapbench init-model --config $CFG_B ... --tokenizer-dir $TOK_T5` (as make demo
# makes its own).  A missing committed file is a FAIL (exit 1), not a skip; SKIPs (77) only without the sqlite3
# command (installed by make deps).  Then makes a scratch directory $tmp that is removed when the test exits.
vb_models_setup() {
  : "${VB_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
  TOK_T5=$VB_ROOT/models/tokenizers/flan-t5
  TOK_BERT=$VB_ROOT/models/tokenizers/bert-base-uncased
  CFG_B=$VB_ROOT/tests/configs/tiny-blip2.json
  CFG_I=$VB_ROOT/tests/configs/tiny-instructblip.json
  local f
  for f in "$TOK_T5/tokenizer.json" "$TOK_T5/spiece.model" "$TOK_BERT/vocab.txt" "$CFG_B" "$CFG_I"; do
    [ -f "$f" ] || { echo "FAIL: $f missing (it is committed in the repository)"; exit 1; }
  done
  command -v sqlite3 >/dev/null || { echo "SKIP: sqlite3 command absent (Debian package sqlite3; make deps)"; exit 77; }
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
}
