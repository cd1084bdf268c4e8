#!/usr/bin/env bash
# `vlapbench run` refuses inputs that do not exist before it opens anything: a missing --videos directory, a
# --videos that is a file, a missing annotation file or map each exit 1 with the flag and the path named, and no
# database (so no run, "complete" or otherwise) is created.
set -u
: "${VB_BIN:?VB_BIN not set}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$VB_BIN" synth --out "$T/s" --seed 2 --videos 2 --questions 1 --size 64x48 --no-videos 2>/dev/null || fail "synth"
mkdir -p "$T/vids"
base=(--dataset nextqa --frames 1 --method uniform="$T/no-bundle" --db "$T/r.db")
try() { # expected-substring args...
  local want=$1; shift
  "$VB_BIN" run "${base[@]}" "$@" >"$T/out" 2>"$T/err"; local rc=$?
  [ $rc = 1 ] || fail "exit $rc (want 1) for: $* — $(cat "$T/err")"
  grep -qF -- "$want" "$T/err" || fail "message '$(cat "$T/err")' does not contain '$want'"
  [ -e "$T/r.db" ] && fail "a database was created for: $*"
  echo "ok: $want"
}
A=(--annotations "$T/s/nextqa/val.csv" --map "$T/s/nextqa/map_vid_vidorID.json")
try "--videos $T/wrong/dir: no such directory" "${A[@]}" --videos "$T/wrong/dir"
try "--videos $T/s/nextqa/val.csv: not a directory" "${A[@]}" --videos "$T/s/nextqa/val.csv"
try "--annotations $T/nope.csv: no such file" --annotations "$T/nope.csv" --map "$T/s/nextqa/map_vid_vidorID.json" \
  --videos "$T/vids"
try "--map $T/nope.json: no such file" --annotations "$T/s/nextqa/val.csv" --map "$T/nope.json" --videos "$T/vids"
try "--annotations $T/vids: is a directory" --annotations "$T/vids" --videos "$T/vids"
echo ok
