#!/usr/bin/env bash
# Fuzz smoke run (issue 17, "keep the audit running"): builds the libFuzzer harnesses (`make fuzz`: clang,
# -fsanitize=fuzzer,address,undefined, build-fuzz/) and runs each briefly from the seed corpus tests/fuzz/corpus/NAME
# (copied to a scratch directory, so new inputs never land in the repository): safetensors reader, annotation loaders,
# T5 tokenizer (tokenizer.json and, with a tokenizer trained here, text), BERT WordPiece, config.json.  A crash, a
# sanitizer report, a leak or a timeout fails the test and leaves the reproducer under build-fuzz/crashes/.
# About 4 s per harness (VB_FUZZ_SECONDS), at most VB_FUZZ_RUNS executions each.  SKIPs visibly without clang or
# libFuzzer (Debian: clang-14 libclang-rt-14-dev), which it installs when missing.  Long runs: build-fuzz/fuzz_NAME -max_total_time=600 DIR.
set -u
ROOT=${VB_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
CLANG=${FUZZ_CC:-clang}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# clang and libFuzzer are installed here when missing (Debian's clang-14 + libclang-rt-14-dev, through
# scripts/install-deps.sh, which waits for the apt lock), the way test_demo installs chromium; a SKIP only where
# they cannot be installed (no root, no package source)
if ! command -v "$CLANG" >/dev/null || ! dpkg -s libclang-rt-14-dev >/dev/null 2>&1; then
  VB_EXTRA_PKGS="clang-14 libclang-rt-14-dev" bash "$ROOT/scripts/install-deps.sh" >"$tmp/apt.log" 2>&1 ||
    { echo "SKIP: clang / libFuzzer absent and not installable: $(tail -1 "$tmp/apt.log")"; exit 77; }
  command -v "$CLANG" >/dev/null || CLANG=clang-14
fi
command -v "$CLANG" >/dev/null || { echo "SKIP: $CLANG absent after installing clang-14"; exit 77; }
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
  > "$tmp/probe.c"
"$CLANG" -fsanitize=fuzzer,address,undefined "$tmp/probe.c" -o "$tmp/probe" >/dev/null 2>&1 ||
  { echo "SKIP: $CLANG cannot link -fsanitize=fuzzer (libFuzzer runtime absent: libclang-rt-14-dev)"; exit 77; }
# a nested make from inside `make test` must not join its jobserver
(cd "$ROOT" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -j2 FUZZ_CC="$CLANG" fuzz \
  >"$tmp/build.log" 2>&1) || { tail -30 "$tmp/build.log"; echo "FAIL: make fuzz"; exit 1; }
B=$ROOT/build-fuzz
SECS=${VB_FUZZ_SECONDS:-4}
RUNS=${VB_FUZZ_RUNS:-200000}
fail=0
# a T5 tokenizer for the text mode of fuzz_t5tok (skipped when spm_train is absent: the JSON mode still runs)
if command -v spm_train >/dev/null && [ -x "${VB_BIN:-}" ]; then
  ( . "$ROOT/tests/lib_tok.sh"; vb_tiny_tokenizer "$tmp/tok" ) >/dev/null 2>&1 && export VB_FUZZ_T5TOK=$tmp/tok/tokenizer.json
fi
mkdir -p "$B/crashes"
for name in safetensors loaders t5tok berttok config; do
  c=$tmp/corpus-$name
  mkdir -p "$c"
  cp "$ROOT/tests/fuzz/corpus/$name/"* "$c/"
  [ "$name" = config ] && cp "$ROOT/configs/"*.json "$c/"
  [ "$name" = t5tok ] && [ -n "${VB_FUZZ_T5TOK:-}" ] && { printf '\0' > "$c/tok"; cat "$VB_FUZZ_T5TOK" >> "$c/tok"; }
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$B/fuzz_$name" -max_total_time="$SECS" -runs="$RUNS" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix="$B/crashes/$name-" "$c" >"$tmp/$name.log" 2>&1
  rc=$?
  done_line=$(grep -E '^Done [0-9]+ runs' "$tmp/$name.log" | tail -1)
  if [ $rc -ne 0 ] || [ -z "$done_line" ]; then
    echo "FAIL: fuzz_$name exit $rc"; grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$tmp/$name.log" | head -10
    tail -5 "$tmp/$name.log"; fail=1
  else
    echo "ok   fuzz_$name: $done_line, $(ls "$c" | wc -l) corpus files, 0 crashes"
  fi
done
exit $fail
