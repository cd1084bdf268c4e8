#!/usr/bin/env bash
# Every tracked .c / .h file is formatted with the repository's .clang-format (clang-format --dry-run -Werror); the
# same check as `make format-check`. Fails naming the files that differ.
set -u
cd "${VB_ROOT:-$(dirname "$0")/..}"
command -v clang-format >/dev/null || { echo "FAIL: clang-format not found (scripts/install-deps.sh installs it)"; exit 1; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.c' -o -name '*.h')
[ -n "$files" ] || { echo "FAIL: no C files found"; exit 1; }
# one clang-format process for the whole tree; only when it complains, one per file to name the culprits
clang-format --dry-run -Werror $files >/dev/null 2>&1 && bad="" ||
  bad=$(for f in $files; do clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || echo "$f"; done)
if [ -n "$bad" ]; then
  echo "FAIL: not formatted with .clang-format (run: make format):"; echo "$bad" | sed 's/^/  /'; exit 1
fi
echo "ok: $(echo "$files" | wc -w) files formatted"
