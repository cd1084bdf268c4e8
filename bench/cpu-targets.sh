#!/usr/bin/env bash
# Every CPU speed target of the engine (issue 19, docs/performance.md), measured on this machine and printed against
# its threshold in one Markdown table, with the CPU, the BLAS core and the kernels named.  One command for the figures
# that other CPU classes owe (an AVX2-only Zen 3, an AVX-512 + BF16 Zen 4 / Zen 5, an Intel Xeon with or without AMX).
#
#   usage: bench/cpu-targets.sh [--config CONFIG] [--threads T] [--reps R] [--rounds N] [--layers L] [--dec-layers L]
#                               [--workdir D] [--out FILE] [--skip LIST] [--baseline REV] [--grid] [--summarize D]
#
#   --config C       Blip2Config of the shapes (default configs/real/blip2-flan-t5-xl.config.json: the real sizes)
#   --threads T      threads of every run (default: all cores)
#   --reps R         reps per bench-engine row (default 3; each row is the median)
#   --rounds N       interleaved rounds of the two comparisons, PyTorch and the baseline binary (default 2)
#   --layers L       ViT / T5 encoder blocks built (default 2; times are scaled to the full depth)
#   --dec-layers L   decoder blocks built for the decoder step (default 8: its weights must come from memory, not
#                    from a last-level cache of up to a few hundred MB; 24 is the full depth)
#   --workdir D      where the raw outputs go (default ./cpu-targets-work); every figure of the table is in them
#   --out FILE       the table is also written there (default WORKDIR/targets.md)
#   --skip LIST      comma-separated parts left out: engine, decoder, torch, baseline
#   --baseline REV   the commit the "no slower than before" target compares with (default 2b18b3d: the engine before
#                    issue 19); it is built in WORKDIR/baseline from a clone of this repository
#   --grid           also run bench/grid.sh (full-size bundles: ~17 GB of disk in WORKDIR/grid, 20-40 min)
#   --summarize D    print the table of the raw outputs in D again; runs nothing
#
# Targets (issue 19):
#   f32           on an AVX-512 CPU: ViT-g, Q-Former, T5-XL encoder at 128 and 512 tokens, f32, each >= 80 % of the
#                 best sgemm 2048^3 timed just before each rep (bench-engine's "% of sgemm 2048^3")
#   bf16          on a CPU with AVX512_BF16: --compute bf16 (bf16 weights) >= 1.6x faster than f32 on the ViT and the
#                 T5 encoder (one run; the speed ratio normalised by the sgemm rate timed before each rep, so a change
#                 of the machine's load between the rows cancels; the plain time ratio is printed beside it)
#   decoder       the decoder step reads its weights at >= 80 % of the copy bandwidth timed just before each rep
#   torch         faster than PyTorch 1.13 on every component (bench/compare.sh: time ratio < 1, median of pairs)
#   baseline      AVX2 kernels no slower than the baseline commit (the new / old time ratio, median of interleaved
#                 pairs, <= 1; normalised by each run's sgemm like bf16, the decoder step by time).  On a CPU with AVX-512 both run as an AVX2-only machine would run them:
#                 VB_CPU_DISABLE=avx512 and OpenBLAS's Haswell core (a stand-in; the table says so)
#   grid          the full-size grid (bf16) at most 1.5x SeViLA alone at one k (bench/grid.sh)
# A target whose CPU feature is absent is "n/a" with the reason; a part that was skipped or failed is named.
# Exit status: 0 when every part that ran gave its figures (met or not), 1 when a part failed or the table could not
# be written, 2 on a usage error; --summarize: 0 when it printed a table (its rows say what failed), 1 without one.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=${VB_BIN:-$root/build/vlapbench}
orig=("$0" "$@")
usage() { sed -n '5,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
cfg=$root/configs/real/blip2-flan-t5-xl.config.json
threads=$(nproc 2>/dev/null || echo 1) reps=3 rounds=2 layers=2 dlayers=8 work=./cpu-targets-work out='' skip=''
baseline=2b18b3d grid=0 only_summary=''
while [ $# -gt 0 ]; do
  case $1 in
    --config | --threads | --reps | --rounds | --layers | --dec-layers | --workdir | --out | --skip | --baseline | --summarize)
      [ $# -ge 2 ] && [ -n "$2" ] || { echo "cpu-targets.sh: $1 needs a value" >&2; usage; } ;;
  esac
  case $1 in
    --config) cfg=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --dec-layers) dlayers=$2; shift 2 ;;
    --workdir) work=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --skip) skip=$2; shift 2 ;;
    --baseline) baseline=$2; shift 2 ;;
    --grid) grid=1; shift ;;
    --summarize) only_summary=$2; shift 2 ;;
    -h | --help) usage ;;
    *) echo "cpu-targets.sh: unknown option $1" >&2; usage ;;
  esac
done
for n in "$threads" "$reps" "$rounds" "$layers" "$dlayers"; do
  case $n in '' | *[!0-9]* | 0) echo "cpu-targets.sh: counts must be positive integers (got '$n')" >&2; exit 2 ;; esac
done
[ -f "$cfg" ] && cfg=$(cd "$(dirname "$cfg")" && pwd)/$(basename "$cfg") # the header matches the real shapes by path
IFS=, read -ra skips <<< "$skip"
for s in ${skips[@]+"${skips[@]}"}; do
  case $s in engine | decoder | torch | baseline) ;; *) echo "cpu-targets.sh: --skip: unknown part '$s'" >&2; exit 2 ;;
  esac
done
skipped() { case ",$skip," in *",$1,"*) return 0 ;; esac; return 1; }
say() { echo "cpu-targets: $(date +%T) $*" >&2; }

# ---------------------------------------------------------------- reading the raw outputs
# bench-engine rows: "KEY LABEL MS PCT_SGEMM2048 PCT_COPY PCT_READ GFLOPS" per row (KEY vit, qformer, t5enc128, t5enc512,
# t5dec; LABEL the weights and compute, e.g. f32, bf16+bf16c; '-' where a figure does not apply)
engine_rows() {
  awk '/^[^ ]/ && / ms / && /GFLOP\/s/ {
      key = ""
      if ($1 == "vit" || $1 == "qformer") key = $1
      else if ($1 == "t5enc") key = "t5enc" $2
      else if ($1 == "t5dec") key = "t5dec"
      if (key == "") next
      lab = ""; ms = ""; fr = "-"; gf = ""
      for (i = 2; i <= NF; i++) {
        if (lab == "" && $i ~ /^(f32|bf16|f16)(\+bf16c)?$/) lab = $i
        if ($i == "ms" && ms == "") ms = $(i - 1)
        if ($i == "GFLOP/s" && gf == "") gf = $(i - 1)
        if ($i == "2048^3" && $(i - 1) == "sgemm" && fr == "-") { fr = $(i - 3); sub(/%$/, "", fr) }
      }
      n++; K[n] = key; L[n] = lab; M[n] = ms; F[n] = fr; C[n] = "-"; R[n] = "-"; G[n] = gf; next }
    n && /per rep weights GB\/s \/ copy GB\/s: median/ {
      for (i = 1; i < NF; i++) if ($i == "median") { v = $(i + 1); sub(/%$/, "", v); C[n] = v } }
    n && /per rep weights GB\/s \/ read GB\/s: median/ {
      for (i = 1; i < NF; i++) if ($i == "median") { v = $(i + 1); sub(/%$/, "", v); R[n] = v } }
    END { for (i = 1; i <= n; i++) print K[i], L[i], M[i], F[i], C[i], R[i], G[i] }' "$@"
}
# field F (3 ms, 4 % of sgemm, 5 % of copy, 6 % of read, 7 GFLOP/s) of row KEY LABEL in file FILE; empty when absent
field() { engine_rows "$1" | awk -v k="$2" -v l="$3" -v f="$4" '$1 == k && $2 == l { print $f; exit }'; }
# "met" / "NOT met" for VALUE compared with THRESHOLD by OP (ge or le)
verdict() {
  awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = op == "ge" ? v + 0 >= t + 0 : v + 0 <= t + 0
    print (ok ? "met" : "**NOT met**") }'
}
# A / B with 3 decimals; empty unless both are numbers > 0
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9]*\.?[0-9]+$/ && b ~ /^[0-9]*\.?[0-9]+$/ && a + 0 > 0 && b + 0 > 0)
    printf "%.3f", a / b }'
}
# the time ratio T1 / T2 of two rows from their ms (2 decimals) when both are >= 10 ms, else from their GFLOP/s
# (G2 / G1, one decimal; the same FLOP in both rows), whichever has more digits
tratio() {
  if awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= 10 && b + 0 >= 10) }'; then ratio "$1" "$2"; else ratio "$4" "$3"; fi
}
isnum() { [[ $1 =~ ^[0-9]*\.?[0-9]+$ ]]; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit
  if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
vline() { sed -n "s/^$2: //p" "$1" | head -1; }

# the baseline comparison from the raw outputs in D (baseline-{old,new}-R.log), one line per component:
# "KEY MEDIAN_NORM MEDIAN_TIME NORM_PAIRS TIME_PAIRS" ('-' for what is missing: the normalised figures where the old
# binary prints no "% of sgemm 2048^3", e.g. a baseline before 41ec3fc).  Per pair: the time ratio new / old (= GFLOP/s old / new) and
# the same normalised by the sgemm 2048^3 rate each binary timed before each rep (= % of sgemm old / new: a load
# change between the two runs of a pair cancels); the decoder step (memory-bound) by its time only.
baseline_pairs() {
  local d=$1 k r t n pairs npairs nf nw mt mn
  for k in vit qformer t5enc128 t5enc512 t5dec; do
    pairs='' npairs='' r=1
    while [ -f "$d/baseline-new-$r.log" ] && [ -f "$d/baseline-old-$r.log" ]; do
      nw=$d/baseline-new-$r.log nf=$d/baseline-old-$r.log
      t=$(tratio "$(field "$nw" "$k" f32 3)" "$(field "$nf" "$k" f32 3)" "$(field "$nw" "$k" f32 7)" \
        "$(field "$nf" "$k" f32 7)")
      [ -n "$t" ] && pairs="$pairs $t"
      n=$(ratio "$(field "$nf" "$k" f32 4)" "$(field "$nw" "$k" f32 4)")
      [ "$k" != t5dec ] && [ -n "$n" ] && npairs="$npairs $n"
      r=$((r + 1))
    done
    mt=$(echo "$pairs" | median) mn=$(echo "$npairs" | median)
    # shellcheck disable=SC2086 # word splitting of the pair lists is meant
    if [ -n "$mt" ]; then
      [ -n "$mn" ] || mn=- npairs=-
      echo "$k $mn $mt $(echo $npairs | tr ' ' ',') $(echo $pairs | tr ' ' ',')"
    else
      echo "$k - - - -"
    fi
  done
}

# the table's name of component KEY
cname() {
  case $1 in
    vit) echo "ViT-g" ;; qformer) echo "Q-Former" ;;
    t5enc128) echo "T5-XL encoder, 128 tokens" ;; t5enc512) echo "T5-XL encoder, 512 tokens" ;;
  esac
}

summarize() {
  local d=$1 v=$1/version.txt notes=() skip
  skip=$(cat "$d/skip.txt" 2>/dev/null) # the parts the run left out (skipped reads $skip)
  [ -f "$v" ] || { echo "cpu-targets.sh: no $v (not a workdir of this script)" >&2; return 1; }
  local kern bf16 avx512
  kern=$(vline "$v" wmat_kernel | awk '{ print $1 }')
  bf16=$(vline "$v" compute_bf16 | awk '{ print $1 }')
  avx512=0; case $kern in avx512 | avx512bf16 | amx) avx512=1 ;; esac
  echo "# CPU speed targets on $(vline "$v" cpu)"
  echo
  echo "- measured: $(cat "$d/when.txt" 2>/dev/null); load average at the start and the end: $(cat "$d/load.txt" 2>/dev/null | tr '\n' ' ')"
  echo "- vlapbench $(vline "$v" commit); BLAS core $(vline "$v" blas_core) ($(vline "$v" blas_config)), $(vline "$v" blas_threads) threads"
  echo "- kernels: GEMM $(vline "$v" wmat_kernel | sed 's/ (.*//'), attention $(vline "$v" attention_kernel | sed 's/ (.*//'); --compute bf16: $(vline "$v" compute_bf16)"
  echo "- VB_CPU_DISABLE: $(vline "$v" cpu_disabled | sed 's/ (.*//'); the command: $(cat "$d/command.txt" 2>/dev/null)"
  local shapes; shapes=$(cat "$d/config.txt" 2>/dev/null)
  case $shapes in
    */configs/real/blip2-flan-t5-xl.config.json) echo "- shapes: the real BLIP-2 Flan-T5-XL ($shapes)" ;;
    *) echo "- shapes: $shapes (**not the real sizes**: the targets are defined at configs/real/blip2-flan-t5-xl.config.json)" ;;
  esac
  echo
  echo "| target | what | figure | threshold | verdict |"
  echo "| --- | --- | --- | --- | --- |"
  local e=$d/engine.log
  if [ -s "$e" ]; then
    local k name ms fr
    for k in vit qformer t5enc128 t5enc512; do
      name=$(cname "$k")
      case $k in vit | qformer) name="$name per frame" ;; esac
      fr=$(field "$e" "$k" f32 4)
      if ! isnum "$fr"; then echo "| f32 | $name | (no row) | >= 80 % of sgemm 2048^3 | **failed** |"
      elif [ "$avx512" = 1 ]; then echo "| f32 | $name | $fr % of sgemm 2048^3 | >= 80 % | $(verdict "$fr" 80 ge) |"
      else echo "| f32 | $name | $fr % of sgemm 2048^3 | >= 80 % on AVX-512 | n/a (no AVX-512: kernel $kern) |"; fi
    done
    for k in vit t5enc128 t5enc512; do
      name=$(cname "$k")
      if [ "$bf16" != available ]; then
        echo "| bf16 | $name | - | >= 1.6x f32 | n/a (no AVX512_BF16 / AMX: --compute bf16 $(vline "$v" compute_bf16)) |"
        continue
      fi
      ms=$(field "$e" "$k" f32 3); local mb fb ff sp nsp
      mb=$(field "$e" "$k" bf16+bf16c 3); fb=$(field "$e" "$k" bf16+bf16c 4); ff=$(field "$e" "$k" f32 4)
      sp=$(tratio "$ms" "$mb" "$(field "$e" "$k" f32 7)" "$(field "$e" "$k" bf16+bf16c 7)"); nsp=$(ratio "$fb" "$ff")
      if [ -z "$sp" ] || [ -z "$nsp" ]; then echo "| bf16 | $name | (no row) | >= 1.6x f32 | **failed** |"; continue; fi
      echo "| bf16 | $name, bf16 weights + --compute bf16 vs f32, normalised by the sgemm of each rep (time $ms -> $mb ms: ${sp}x) | ${nsp}x | >= 1.6x | $(verdict "$nsp" 1.6 ge) |"
    done
  else
    echo "| f32, bf16 | components | - | - | $(skipped engine && echo skipped || echo '**failed** (no engine.log)') |"
  fi
  local dl=$d/decoder.log
  if [ -s "$dl" ]; then
    local lab c r
    for lab in f32 bf16; do
      c=$(field "$dl" t5dec "$lab" 5); r=$(field "$dl" t5dec "$lab" 6); ms=$(field "$dl" t5dec "$lab" 3)
      if ! isnum "$c"; then echo "| decoder | step, $lab weights | (no row) | >= 80 % of copy | **failed** |"; continue; fi
      echo "| decoder | step, $lab weights ($ms ms per token at full depth) | $c % of the copy bandwidth ($r % of the read-only) | >= 80 % of copy | $(verdict "$c" 80 ge) |"
    done
  else
    echo "| decoder | step | - | >= 80 % of copy | $(skipped decoder && echo skipped || echo '**failed** (no decoder.log)') |"
  fi
  local t=$d/torch.log
  if [ -s "$t" ] && grep -q '^SKIP' "$t"; then
    echo "| torch | every component | - | < 1x PyTorch's time | n/a ($(head -1 "$t")) |"
  elif [ -s "$t" ] && grep -Eq '^component +vlapbench_ms +torch_ms' "$t"; then
    # compare.sh's closing table (after its header line; the raw outputs above it hold other "->"), every component
    local tk
    for tk in vit qformer t5enc128 t5enc512 t5dec; do
      awk -v k="$tk" 'f && $1 == k && / -> [0-9.]+/ {
          for (i = 1; i <= NF; i++) if ($i == "->") m = $(i + 1)
          printf "| torch | %s, vlapbench / PyTorch time (%s vs %s ms) | %s | < 1 | %s |\n", $1, $2, $3, m,
            (m + 0 < 1 ? "met" : "**NOT met**"); found = 1; exit }
        /^component +vlapbench_ms +torch_ms/ { f = 1 }
        END { if (!found) printf "| torch | %s | (no row in compare.sh'"'"'s table) | < 1 | **failed** |\n", k }' "$t"
    done
  else
    echo "| torch | every component | - | < 1x PyTorch's time | $(skipped torch && echo skipped || echo '**failed** (see torch.log)') |"
  fi
  local bl; bl=$(baseline_pairs "$d")
  if [ -f "$d/baseline-new-1.log" ] && [ -f "$d/baseline-old-1.log" ]; then
    local how; how=$(cat "$d/baseline-how.txt" 2>/dev/null)
    local mn mt np tp
    while read -r k mn mt np tp; do
      if ! isnum "$mt"; then
        echo "| baseline | $k, new / old time | (no figure in the raw outputs) | <= 1 | **failed** |"
      elif [ "$k" = t5dec ] || ! isnum "$mn"; then
        echo "| baseline | $k, new / old time (median of the pairs $tp) | $mt | <= 1 | $(verdict "$mt" 1 le) |"
      else
        echo "| baseline | $k, new / old time normalised by the sgemm of each run (pairs $np; raw time $mt: $tp) | $mn | <= 1 | $(verdict "$mn" 1 le) |"
      fi
    done <<< "$bl"
    notes+=("baseline: $(cat "$d/baseline-commit.txt" 2>/dev/null) against this tree, $how. Normalised: the time ratio times the ratio of the sgemm 2048^3 rates each binary timed before each rep (OpenBLAS, the same core for both), so a change of the machine's load between the two runs of a pair cancels; the decoder step, which is memory-bound, by its time")
  else
    echo "| baseline | AVX2 kernels vs the baseline commit | - | <= 1 | $(skipped baseline && echo skipped || echo "**failed** (see baseline-build.log)") |"
  fi
  if [ -s "$d/grid.out" ]; then
    local g4 g1
    g4=$(sed -n 's/^ratio grid \/ sevila-k4 (loop wall): \([0-9.]*\).*/\1/p' "$d/grid.out")
    g1=$(sed -n 's/^ratio grid \/ sevila-k1 (loop wall): \([0-9.]*\).*/\1/p' "$d/grid.out")
    if [ -n "$g4" ]; then
      echo "| grid | grid / SeViLA k = 4 alone, loop wall (median of rounds; k = 1: $g1) | $g4 | <= 1.5 | $(verdict "$g4" 1.5 le) |"
    else
      echo "| grid | grid / SeViLA alone | - | <= 1.5 | **failed** (see grid.out) |"
    fi
  else
    echo "| grid | grid / SeViLA alone | - | <= 1.5 | not run (--grid) |"
  fi
  echo
  local note
  for note in ${notes[@]+"${notes[@]}"}; do echo "- $note"; done
  echo "- raw outputs: $d (engine.log, decoder.log, torch.log, baseline-*.log, grid.out)"
}

if [ -n "$only_summary" ]; then summarize "$only_summary"; exit $?; fi

# ---------------------------------------------------------------- the runs
[ -x "$bin" ] || { echo "cpu-targets.sh: no binary $bin (make, or set VB_BIN)" >&2; exit 1; }
[ -f "$cfg" ] || { echo "cpu-targets.sh: no config $cfg" >&2; exit 1; }
mkdir -p "$work" || exit 1
work=$(cd "$work" && pwd)
[ -n "$out" ] || out=$work/targets.md
rm -f "$work"/{engine,decoder,torch}.log "$work"/baseline-{how,commit}.txt "$work"/baseline-{old,new}-*.log "$work/grid.out"
"$bin" version >"$work/version.txt" 2>&1 || { echo "cpu-targets.sh: $bin version failed" >&2; exit 1; }
date -u '+%Y-%m-%d %H:%M UTC' >"$work/when.txt"
cut -d' ' -f1-3 /proc/loadavg >"$work/load.txt" 2>/dev/null
printf '%q ' "${orig[@]}" >"$work/command.txt"
echo "$cfg" >"$work/config.txt"
echo "$skip" >"$work/skip.txt"
failed=0
bf16=$(vline "$work/version.txt" compute_bf16 | awk '{ print $1 }')
common=(--config "$cfg" --threads "$threads" --reps "$reps")

if ! skipped engine; then
  w=f32; c=f32
  [ "$bf16" = available ] && w=f32,bf16 c=f32,bf16
  say "engine: bench-engine --components vit,qformer,t5enc --weights $w --compute $c --layers $layers"
  "$bin" bench-engine "${common[@]}" --layers "$layers" --components vit,qformer,t5enc --weights "$w" --compute "$c" \
    >"$work/engine.log" 2>&1 || { echo "cpu-targets.sh: bench-engine (components) failed: $work/engine.log" >&2; failed=1; }
fi
if ! skipped decoder; then
  say "decoder: bench-engine --components t5dec --weights f32,bf16 --layers $dlayers"
  "$bin" bench-engine "${common[@]}" --layers "$dlayers" --components t5dec --weights f32,bf16 \
    >"$work/decoder.log" 2>&1 || { echo "cpu-targets.sh: bench-engine (decoder) failed: $work/decoder.log" >&2; failed=1; }
fi
if ! skipped torch; then
  say "torch: bench/compare.sh ($rounds rounds per component)"
  VB_BIN=$bin bash "$here/compare.sh" "$cfg" "$threads" "$layers" 8 "$reps" "$rounds" >"$work/torch.log" 2>&1
  rc=$?
  [ $rc = 0 ] || [ $rc = 77 ] || { echo "cpu-targets.sh: compare.sh failed ($rc): $work/torch.log" >&2; failed=1; }
fi
if ! skipped baseline; then
  src=$work/baseline
  old=$src/build/vlapbench
  if [ ! -x "$old" ] || [ "$(git -C "$src" rev-parse HEAD 2>/dev/null)" != "$(git -C "$root" rev-parse "$baseline^{commit}" 2>/dev/null)" ]; then
    say "baseline: building $baseline in $src"
    rm -rf "$src"
    { git clone -q "$root" "$src" && git -C "$src" checkout -q "$baseline" && make -C "$src" CUDA=0 -j"$threads"; } \
      >"$work/baseline-build.log" 2>&1 || { echo "cpu-targets.sh: cannot build $baseline: $work/baseline-build.log" >&2; failed=1; }
  fi
  if [ -x "$old" ]; then
    kern=$(vline "$work/version.txt" wmat_kernel | awk '{ print $1 }')
    envnew=() envold=()
    case $kern in
      avx512 | avx512bf16 | amx)
        envnew=(VB_CPU_DISABLE=avx512 OPENBLAS_CORETYPE=Haswell) envold=(OPENBLAS_CORETYPE=Haswell)
        echo "this CPU as an AVX2-only machine: VB_CPU_DISABLE=avx512, OpenBLAS Haswell for both; f32, $layers blocks" >"$work/baseline-how.txt" ;;
      *) echo "an AVX2 machine ($kern kernel), each binary with the OpenBLAS core it picks; f32, $layers blocks" >"$work/baseline-how.txt" ;;
    esac
    echo "$baseline ($(git -C "$src" log -1 --format='%h %cs' 2>/dev/null))" >"$work/baseline-commit.txt"
    for r in $(seq 1 "$rounds"); do
      for who in old new; do
        [ $((r % 2)) = 0 ] && who=$([ $who = old ] && echo new || echo old) # ABBA: the order alternates per round
        say "baseline round $r: $who"
        if [ "$who" = old ]; then b=$old e=(${envold[@]+"${envold[@]}"}); else b=$bin e=(${envnew[@]+"${envnew[@]}"}); fi
        env ${e[@]+"${e[@]}"} "$b" bench-engine "${common[@]}" --layers "$layers" --components vit,qformer,t5enc,t5dec \
          >"$work/baseline-$who-$r.log" 2>&1 || { echo "cpu-targets.sh: $who bench-engine failed" >&2; failed=1; }
      done
    done
  fi
fi
if [ "$grid" = 1 ]; then
  say "grid: bench/grid.sh (full size, bf16; 3 rounds)"
  icfg=$(dirname "$cfg")/instructblip-flan-t5-xl.config.json
  [ -f "$icfg" ] || icfg=$root/configs/real/instructblip-flan-t5-xl.config.json
  gc=f32; [ "$bf16" = available ] && gc=bf16
  VB_BIN=$bin bash "$here/grid.sh" "$cfg" "$icfg" --weights bf16 --compute "$gc" --init-dtype bf16 --questions 1 \
    --threads "$threads" --rounds 3 --workdir "$work/grid" >"$work/grid.out" 2>&1 \
    || { echo "cpu-targets.sh: grid.sh failed: $work/grid.out" >&2; failed=1; }
fi
cut -d' ' -f1-3 /proc/loadavg >>"$work/load.txt" 2>/dev/null
summarize "$work" >"$work/.table" || failed=1
cat "$work/.table"
cp "$work/.table" "$out" 2>/dev/null || { echo "cpu-targets.sh: cannot write $out" >&2; failed=1; }
rm -f "$work/.table"
exit $failed
