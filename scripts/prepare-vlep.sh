#!/usr/bin/env bash
# prepare-vlep.sh — build the VLEP video layout `vlapbench run --dataset vlep` expects from the official releases:
#   <videos>/tvqa/videos_3fps_with_audio/<clip>.mp4   TV-show clips (vid_name without its trailing "_ep")
#   <videos>/vlep_ytb_clips/<vid_name>.mp4             YouTube vlog clips (vid_name contains ':')
#
#   scripts/prepare-vlep.sh --tvqa-frames DIR --out DIR [--ytb DIR]
#
#   --tvqa-frames  the TVQA 3 fps frame release: one folder per clip (<show>_frames/<clip>/00001.jpg ...) or flat
#                  <clip>/00001.jpg; every folder holding numbered .jpg files becomes <clip>.mp4 at 3 fps
#   --ytb          the VLEP YouTube clips already cut to one minute (<vid_name>.mp4); copied (hard-linked when on
#                  the same file system) into vlep_ytb_clips/
#   --out          the --videos directory of a VLEP run
# Existing outputs are kept (rerun to resume).  Exit 1 when ffmpeg fails.  Needs ffmpeg.
set -euo pipefail
die() { echo "prepare-vlep: $*" >&2; exit 1; }
FR="" OUT="" YTB=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tvqa-frames) FR=${2:?}; shift 2;;
    --ytb) YTB=${2:?}; shift 2;;
    --out) OUT=${2:?}; shift 2;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0;;
    *) die "unknown option $1 (see --help)";;
  esac
done
[ -n "$OUT" ] && { [ -n "$FR" ] || [ -n "$YTB" ]; } || die "--out and --tvqa-frames and/or --ytb are required"
[ -z "$FR" ] || [ -d "$FR" ] || die "$FR: no such directory (TVQA frames)"
[ -z "$YTB" ] || [ -d "$YTB" ] || die "$YTB: no such directory (VLEP YouTube clips)"
command -v ffmpeg >/dev/null || die "ffmpeg not found (Debian package ffmpeg)"
TV=$OUT/tvqa/videos_3fps_with_audio
mkdir -p "$TV" "$OUT/vlep_ytb_clips"
n=0
if [ -n "$FR" ]; then
  while IFS= read -r -d '' d; do
    clip=$(basename "$d")
    dst=$TV/$clip.mp4
    [ -s "$dst" ] && continue
    first=$(find "$d" -maxdepth 1 -name '*.jpg' | sort | head -1)
    [ -n "$first" ] || continue
    digits=$(basename "$first" .jpg); w=${#digits}
    ffmpeg -nostdin -v error -y -framerate 3 -start_number "$((10#$digits))" -i "$d/%0${w}d.jpg" \
      -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p "$dst.tmp.mp4" ||
      { rm -f "$dst.tmp.mp4"; die "ffmpeg failed on $d"; }
    mv "$dst.tmp.mp4" "$dst"
    n=$((n + 1))
  done < <(find "$FR" -type d -print0)
fi
m=0
if [ -n "$YTB" ]; then
  for f in "$YTB"/*.mp4; do
    [ -e "$f" ] || continue
    dst=$OUT/vlep_ytb_clips/$(basename "$f")
    [ -e "$dst" ] || ln "$f" "$dst" 2>/dev/null || cp "$f" "$dst"
    m=$((m + 1))
  done
fi
echo "prepare-vlep: $n TV clip(s) encoded, $m YouTube clip(s) placed -> $OUT" >&2
