#!/usr/bin/env bash
# valgrind-probe.sh BIN — can valgrind memcheck run BIN on this CPU?  Runs `valgrind BIN version` once (the smallest
# run that loads every shared library BIN links: FFmpeg, OpenBLAS, ...).
#   exit 0   valgrind runs BIN
#   exit 77  valgrind cannot run here because of the CPU: the guest died with SIGILL / valgrind's decoder met an
#            instruction it does not implement ("vex amd64->IR: unhandled instruction bytes").  Known case: on AVX-512
#            CPUs (AMD Zen 4 / Zen 5) libhwy, which libjxl (linked through FFmpeg's libavcodec) initialises at load,
#            executes AVX-512 instructions valgrind 3.19 cannot decode, so every program dies before main().  Prints
#            one clear message naming the instruction bytes and the library that executed them.
#   exit 1   valgrind missing, or it failed for another reason (the log's last lines are printed)
set -u
bin=${1:?usage: valgrind-probe.sh BIN}
command -v valgrind >/dev/null || { echo "valgrind-probe: valgrind is not installed (Debian package valgrind)"; exit 1; }
[ -x "$bin" ] || { echo "valgrind-probe: $bin is not an executable"; exit 1; }
log=$(mktemp); trap 'rm -f "$log"' EXIT
timeout 300 valgrind --error-exitcode=9 "$bin" version >"$log" 2>&1
rc=$?
[ $rc -eq 0 ] && exit 0
if [ $rc -eq 132 ] || grep -qE 'signal 4 \(SIGILL\)|unhandled instruction bytes' "$log"; then
  bytes=$(grep -m1 -o 'unhandled instruction bytes: .*' "$log" | cut -c1-90)
  # the first frame that names an object file: the library that executed the instruction
  where=$(grep -A12 -m1 -E 'Illegal opcode|signal 4 \(SIGILL\)' "$log" | grep -m1 -oE '\(in [^)]+\)' | sed 's/^(in //; s/)$//')
  cpu=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')
  echo "SKIP: valgrind cannot run vlapbench on this CPU (${cpu:-unknown CPU}): under $(valgrind --version) even"
  echo "      \`vlapbench version\` dies with SIGILL (illegal instruction)"
  echo "      (${bytes:-no instruction bytes reported}${where:+; executed in $where})."
  echo "      valgrind does not emulate every instruction this CPU has (e.g. AVX-512 code that libjxl's libhwy,"
  echo "      linked through FFmpeg, runs at load time); nothing was checked with memcheck."
  echo "      Use the sanitizers instead: make test-asan (AddressSanitizer + UndefinedBehaviorSanitizer)."
  exit 77
fi
echo "valgrind-probe: valgrind $bin version failed (exit $rc); last lines of its log:"
tail -n 15 "$log" | sed 's/^/    /'
exit 1
