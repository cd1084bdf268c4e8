#!/usr/bin/env bash
# prepare-how2qa.sh — cut the 60-second How2QA clips that the VALUE release (how2qa_val_release.jsonl) and SeViLA
# refer to, from the full YouTube videos, into the layout `vlapbench run --dataset how2qa-value` expects.
#
#   scripts/prepare-how2qa.sh --mapping how2_vid_mapping.json --youtube DIR --out DIR [--only FILE] [--copy]
#
#   --mapping  VALUE's vid_mapping/how2_vid_mapping.json: {"<vid_name>": "<youtube_id>_<clipStart>_<clipEnd>"}
#   --youtube  directory of the full videos, one <youtube_id>.mp4 each (as downloaded; raw How2QA, whose CSV has
#              absolute [start:end] segments, runs on this directory directly: --dataset how2qa --videos DIR)
#   --out      where <vid_name>.mp4 clips are written (the --videos of a how2qa-value run)
#   --only     a text file of vid_names to cut (one a line; default: every entry of the mapping)
#   --copy     cut without re-encoding (-c copy: fast, but the clip starts at the keyframe before clipStart, so
#              frame times shift; the default re-encodes with libx264 -crf 18 for frame-accurate 60-s clips)
#
# Ids whose YouTube video is missing are listed on stderr and counted; existing clips are kept (rerun to resume).
# Exit 1 when an ffmpeg call fails or nothing could be cut.  Needs ffmpeg and python3 (to read the mapping).
set -euo pipefail
die() { echo "prepare-how2qa: $*" >&2; exit 1; }
MAP="" YT="" OUT="" ONLY="" COPY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --mapping) MAP=${2:?}; shift 2;;
    --youtube) YT=${2:?}; shift 2;;
    --out) OUT=${2:?}; shift 2;;
    --only) ONLY=${2:?}; shift 2;;
    --copy) COPY=1; shift;;
    -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) die "unknown option $1 (see --help)";;
  esac
done
[ -n "$MAP" ] && [ -n "$YT" ] && [ -n "$OUT" ] || die "--mapping, --youtube and --out are required (see --help)"
[ -f "$MAP" ] || die "$MAP: no such mapping file"
[ -d "$YT" ] || die "$YT: no such directory (the full YouTube videos)"
[ -z "$ONLY" ] || [ -f "$ONLY" ] || die "$ONLY: no such file"
command -v ffmpeg >/dev/null || die "ffmpeg not found (Debian package ffmpeg)"
mkdir -p "$OUT"
# one line per clip: vid_name <TAB> youtube_id <TAB> start <TAB> end (parsed from the right: ids may contain '_')
list=$(python3 - "$MAP" "$ONLY" <<'PY'
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
only = None
if sys.argv[2]:
    only = {l.strip() for l in open(sys.argv[2], encoding="utf-8") if l.strip()}
for vid, name in sorted(m.items()):
    if only is not None and vid not in only:
        continue
    yt, s, e = name.rsplit("_", 2)
    if "/" in vid or vid.startswith(".") or "/" in yt or yt.startswith("."):
        sys.exit(f"prepare-how2qa: {sys.argv[1]}: unsafe id {vid!r} -> {name!r}")
    float(s), float(e)
    print(f"{vid}\t{yt}\t{s}\t{e}")
PY
) || die "cannot read $MAP"
n_ok=0 n_skip=0 n_missing=0
while IFS=$'\t' read -r vid yt s e; do
  [ -n "$vid" ] || continue
  dst=$OUT/$vid.mp4
  if [ -s "$dst" ]; then n_skip=$((n_skip + 1)); continue; fi
  src=$YT/$yt.mp4
  if [ ! -f "$src" ]; then echo "missing: $src (for $vid)" >&2; n_missing=$((n_missing + 1)); continue; fi
  if [ $COPY = 1 ]; then codec=(-c copy); else codec=(-c:v libx264 -preset veryfast -crf 18 -an); fi
  ffmpeg -nostdin -v error -y -ss "$s" -to "$e" -i "$src" "${codec[@]}" "$dst.tmp.mp4" ||
    { rm -f "$dst.tmp.mp4"; die "ffmpeg failed on $src [$s, $e]"; }
  mv "$dst.tmp.mp4" "$dst"
  n_ok=$((n_ok + 1))
done <<< "$list"
echo "prepare-how2qa: $n_ok clip(s) cut, $n_skip already there, $n_missing without their YouTube video -> $OUT" >&2
[ $((n_ok + n_skip)) -gt 0 ] || exit 1
