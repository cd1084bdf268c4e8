#!/usr/bin/env bash
# Runs `vlapbench bench-engine` and bench/torch_bench.py on the same config, thread count, depth and frame count and
# prints per component the vlapbench / PyTorch time ratio (< 1: vlapbench faster).  The load of a shared machine
# drifts over minutes, so the two are interleaved per component: for each of vit, qformer, t5enc (128 and 512
# tokens), t5dec, ROUNDS pairs (default 2) of one vlapbench run and one PyTorch run of that component only, back to
# back (A B A B); the table gives the median times and the ratio of every pair with their median.  Every raw output
# is printed.  Both run with OPENBLAS_CORETYPE set to the best core for this CPU (vlapbench's cpu_best_core) unless
# it is set already.  SKIPs (exit 77) without Debian's python3-torch.
#   usage: bench/compare.sh CONFIG.json [THREADS] [LAYERS] [FRAMES] [REPS] [ROUNDS]
set -u
cfg=${1:?usage: bench/compare.sh CONFIG.json [THREADS] [LAYERS] [FRAMES] [REPS] [ROUNDS]}
th=${2:-2}; ly=${3:-2}; fr=${4:-8}; reps=${5:-3}; rounds=${6:-2}
here=$(cd "$(dirname "$0")" && pwd)
bin=${VB_BIN:-$here/../build/vlapbench}
py=python3
/usr/bin/python3 -c 'import torch' 2>/dev/null && py=/usr/bin/python3
$py -c 'import torch' 2>/dev/null || { echo "SKIP: python3-torch not installed"; exit 77; }
# PyTorch's OpenBLAS picks its core by itself (Prescott on some Xeons, Haswell on Zen 4 / Zen 5; vlapbench corrects
# its own, engine/blas.c): give it the best core for this CPU too, unless the caller chose one
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
  best=$("$bin" version | sed -n 's/^cpu_best_core: //p')
  [ -n "$best" ] && [ "$best" != none ] && export OPENBLAS_CORETYPE=$best
fi
echo "OPENBLAS_CORETYPE for both: ${OPENBLAS_CORETYPE:-(unset)}"
# first number before "ms" on the first line starting with $2
ms() { echo "$1" | awk -v k="$2" 'index($0, k) == 1 { for (i = 1; i < NF; i++) if ($(i+1) == "ms") { print $i; exit } }'; }
# component run by both programs : table rows (key, bench-engine row prefix) it yields
runs=("vit:vit=vit (" "qformer:qformer=qformer (" "t5enc:t5enc128=t5enc 128,t5enc512=t5enc 512" "t5dec:t5dec=t5dec step")
declare -A A B
keys=()
for run in "${runs[@]}"; do
  comp=${run%%:*}; rows=${run#*:}
  for r in $(seq 1 "$rounds"); do
    vb=$("$bin" bench-engine --config "$cfg" --threads "$th" --layers "$ly" --frames "$fr" --reps "$reps" \
         --components "$comp") || exit 1
    echo "== $comp round $r: vlapbench"; echo "$vb"
    pt=$($py "$here/torch_bench.py" --config "$cfg" --threads "$th" --layers "$ly" --frames "$fr" --reps "$reps" \
         --components "$comp") || exit 1
    echo "== $comp round $r: torch"; echo "$pt"
    IFS=, read -ra rl <<< "$rows"
    for kv in "${rl[@]}"; do
      k=${kv%%=*}
      [ "$r" = 1 ] && keys+=("$k")
      A[$k]="${A[$k]:-} $(ms "$vb" "${kv#*=}")"; B[$k]="${B[$k]:-} $(ms "$pt" "torch $k ")"
    done
  done
done
printf '\n%-10s %14s %14s %s\n' component vlapbench_ms torch_ms "ratio per pair -> median"
for k in "${keys[@]}"; do
  awk -v k="$k" -v a="${A[$k]}" -v b="${B[$k]}" 'function med(v, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
    BEGIN { na = split(a, x, " "); nb = split(b, y, " "); if (na == 0 || na != nb) exit
      s = ""; for (i = 1; i <= na; i++) { r[i] = x[i] / y[i]; s = s sprintf(" %.3f", r[i]) }
      m = med(r, na); ma = med(x, na); mb = med(y, nb)
      printf "%-10s %14.2f %14.2f %s -> %.3f %s\n", k, ma, mb, s, m, (m < 1 ? "(vlapbench faster)" : "(torch faster)") }'
done
