#!/usr/bin/env bash
# Runs `vlapbench bench-engine` and bench/torch_bench.py on the same config, thread count, depth and frame count,
# one after the other in the same run, and prints vlapbench / PyTorch time ratios per component (< 1: vlapbench
# faster).  SKIPs (exit 77) without Debian's python3-torch.
#   usage: bench/compare.sh CONFIG.json [THREADS] [LAYERS] [FRAMES] [REPS]
set -u
cfg=${1:?usage: bench/compare.sh CONFIG.json [THREADS] [LAYERS] [FRAMES] [REPS]}
th=${2:-2}; ly=${3:-2}; fr=${4:-8}; reps=${5:-3}
here=$(cd "$(dirname "$0")" && pwd)
bin=${VB_BIN:-$here/../build/vlapbench}
py=python3
/usr/bin/python3 -c 'import torch' 2>/dev/null && py=/usr/bin/python3
$py -c 'import torch' 2>/dev/null || { echo "SKIP: python3-torch not installed"; exit 77; }
vb=$("$bin" bench-engine --config "$cfg" --threads "$th" --layers "$ly" --frames "$fr" --reps "$reps") || exit 1
echo "$vb"
pt=$($py "$here/torch_bench.py" --config "$cfg" --threads "$th" --layers "$ly" --frames "$fr" --reps "$reps") || exit 1
echo "$pt"
ms() { echo "$1" | awk -v k="$2" 'index($0, k) == 1 { for (i = 1; i < NF; i++) if ($(i+1) == "ms") { print $i; exit } }'; }
printf '\n%-12s %12s %12s %10s\n' component vlapbench_ms torch_ms ratio
for pair in "vit:vit (" "t5enc128:t5enc 128" "t5enc512:t5enc 512" "t5dec:t5dec step"; do
  k=${pair%%:*}; a=$(ms "$vb" "${pair#*:}"); b=$(ms "$pt" "torch $k ")
  [ -n "$a" ] && [ -n "$b" ] && awk -v k="$k" -v a="$a" -v b="$b" \
    'BEGIN { printf "%-12s %12.2f %12.2f %10.3f %s\n", k, a, b, a / b, (a < b ? "(vlapbench faster)" : "(torch faster)") }'
done
