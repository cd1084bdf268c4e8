#!/usr/bin/env bash
# scripts/gpu-pack.sh — prepare, on the build machine, what scripts/gpu-check.sh falls back to on a GPU machine
# whose image lacks this project's -dev packages (FFmpeg, OpenBLAS, SQLite, cJSON, utf8proc, cmocka headers): the
# CUDA build of vlapbench and tests/test_cuda plus the shared libraries they load, in .gpu-pack/ (ignored by git:
# listed in .git/info/exclude; name it in the device tool's `carry`).
#
# FFmpeg's libraries (libavformat, libavcodec, libswscale, libavutil) pull in ~200 MB of codecs and are never called
# by gpu-check's commands (version, check-golden, bench-engine, test_cuda): they are replaced by empty stand-ins with
# the same sonames (the dynamic loader resolves functions on first call, and none is called), so the pack is a few
# tens of MB.  Any command that decodes video fails with an undefined-symbol error under the pack: use a real build.
#
# usage: make CUDA=1 tests-build && bash scripts/gpu-pack.sh [BUILD_DIR]   (default build/)
set -eu
cd "$(dirname "$0")/.."
B=${1:-build}
for f in "$B/vlapbench" "$B/tests/test_cuda"; do
  [ -x "$f" ] || { echo "gpu-pack: $f missing (make CUDA=1 tests-build first)"; exit 1; }
done
"$B/vlapbench" version | grep -q '^cuda_backend: built' || { echo "gpu-pack: $B/vlapbench has no CUDA backend"; exit 1; }
P=.gpu-pack
rm -rf "$P"; mkdir -p "$P/bin" "$P/lib"
git check-ignore -q .gpu-pack || { echo "gpu-pack: .gpu-pack is not ignored (.gitignore)"; exit 1; }
cp "$B/vlapbench" "$B/tests/test_cuda" "$P/bin/"
# stand-ins for FFmpeg's libraries
stub_re='^(libavformat|libavcodec|libswscale|libavutil|libswresample)\.so'
echo '/* empty stand-in: see scripts/gpu-pack.sh */ int vb_gpu_pack_stub;' > "$P/stub.c"
for so in $(readelf -d "$B/vlapbench" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | grep -E "$stub_re"); do
  cc -shared -fPIC -Wl,-soname,"$so" -o "$P/lib/$so" "$P/stub.c"
done
rm -f "$P/stub.c"
# everything else the two programs load, except the C library and the compiler runtime every machine has
skip_re='^(libc|libm|libpthread|libdl|librt|ld-linux-x86-64|libstdc\+\+|libgcc_s|linux-vdso)\.so'
for bin in "$P/bin/vlapbench" "$P/bin/test_cuda"; do
  LD_LIBRARY_PATH=$PWD/$P/lib ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  [[ "$name" =~ $stub_re || "$name" =~ $skip_re ]] && continue
  [ -e "$P/lib/$name" ] || cp -L "$path" "$P/lib/$name"
done
missing=$(LD_LIBRARY_PATH=$PWD/$P/lib ldd "$P/bin/vlapbench" "$P/bin/test_cuda" | grep 'not found' || true)
[ -z "$missing" ] || { echo "gpu-pack: unresolved: $missing"; exit 1; }
LD_LIBRARY_PATH=$PWD/$P/lib "$P/bin/vlapbench" version >/dev/null || { echo "gpu-pack: the packed vlapbench does not start"; exit 1; }
echo "gpu-pack: $P: $(du -sh "$P" | cut -f1) ($(ls "$P/lib" | wc -l) libraries); carry it: carry=[\"$P\"]"
