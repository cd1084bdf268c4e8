# tests/lib_tok.sh — sourced by shell tests that need a T5 tokenizer without ../shared (not a test itself).
#
# vb_tiny_tokenizer DIR: trains a small SentencePiece unigram model (Debian's spm_train, T5's special ids) on invented
# text holding the pieces a bundle needs ("▁A".."▁E" answer letters, "▁yes" / "▁no" for SeViLA) and writes
# DIR/tokenizer.json with `vlapbench tokenize --spm-to-json` (100 <extra_id_N>: 200 + 100 ids fit a 512-row T5).
# Exits 77 (SKIP) when spm_train is absent, 1 when a step fails.
vb_tiny_tokenizer() {
  local d=$1
  command -v spm_train >/dev/null || { echo "SKIP: spm_train (Debian sentencepiece) absent"; exit 77; }
  mkdir -p "$d"
  local i
  for i in $(seq 100); do
    echo "A B C D E"; echo "Option A. Option B. Option C. Option D. Option E."
    echo "yes no yes no. Does the frame have the answer? yes. no."; echo "what is the question about the video $i"
  done > "$d/corpus.txt"
  (cd "$d" && spm_train --input=corpus.txt --model_prefix=spiece --model_type=unigram --vocab_size=200 \
     --hard_vocab_limit=false --character_coverage=1.0 --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 \
     --num_threads=1 --random_seed=1 --minloglevel=1 >/dev/null 2>&1) || { echo "FAIL: spm_train"; exit 1; }
  "$VB_BIN" tokenize --spm-to-json "$d/spiece.model" --out "$d/tokenizer.json" --extra-ids 100 >/dev/null ||
    { echo "FAIL: tokenize --spm-to-json"; exit 1; }
}
