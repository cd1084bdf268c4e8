#!/usr/bin/env bash
# scripts/gpu-check.sh — the one prepared device check of the CUDA backend (issue 20; docs/cuda.md), sized to end
# within 10 minutes on one H100.  Run from the repository root on the GPU machine; everything it prints goes to
# $OUT/gpu-check.log (OUT defaults to ./gpu-check-out), the step table to $OUT/summary.txt, PyTorch's numbers also
# to $OUT/torch.txt, the end-to-end comparison to $OUT/e2e.txt.  Every step is time-boxed and the whole run ends
# within 540 s (VB_GPU_CHECK_BUDGET); a failing step is recorded and the script goes on; the exit code is the number
# of failed steps (0 = all passed; a step that cannot apply on this machine says why and counts as "n/a").
# VB_GPU_CHECK_STEPS="unit golden" runs only the named steps (after env / build / version), e.g. to rerun one.
#
# Steps, most important first (the budget cuts the tail when it runs out):
#   env        nvidia-smi, nvcc, python3 / torch / transformers versions
#   build      make -j CUDA=1 (vlapbench + build/tests/test_cuda); when the machine lacks the project's -dev
#              packages, falls back to a carried .gpu-pack/ (scripts/gpu-pack.sh, made where they are installed)
#   version    vlapbench version: cuda_backend / cuda_gpu lines (the GPU must be seen)
#   unit       test_cuda with the GPU: every kernel (argmax included), the cuBLASLt linear (f32 exact path, bf16),
#              the device ViT, Q-Former (BLIP-2 and InstructBLIP), projection, T5 encoder and decoder (KV cache,
#              batch, device argmax) vs the CPU engine; the wiring (models loaded with the device option through
#              the engine's own run functions and greedy generation); the methods end to end on the committed demo
#              bundles (uniform, SeViLA, VLAP: same picks and predictions as the CPU, no video decoding needed)
#   golden     check-golden on every committed golden set (tests/golden/*), CPU (sanity) then --device cuda
#              --strict: f32 on the device within the CPU's tolerance 1e-4 x max(1, max|ref|)
#   e2e        one small `run` on a synthetic set (synth --task event) with the demo bundles, CPU and --device
#              cuda into two databases: same predictions (picks may differ only on near ties, counted), option
#              scores within 1e-3, runs.device recorded; n/a under the carried pack (its FFmpeg is a stand-in)
#   kernels    test_cuda --kernels: our kernels' times at the real shapes, the 32-frame ViT-g pass (bf16, f32)
#              and the Flan-T5-XL encoder (bf16; random weights)
#   rate       cuBLASLt GEMM rate at 8192^3 bf16 / f32 and at the real ViT-g / Flan-T5-XL shapes
#   bench      bench-engine --device cuda at the real BLIP-2 shapes (bf16, 32 frames, 2 layers of each stack)
#   torch      the same GEMMs / kernels in PyTorch, and transformers' own BLIP-2 ViT-g, Q-Former, InstructBLIP
#              Q-Former and Flan-T5-XL encoder (random weights, bf16) at the real shapes
#
# On the lent machine (device tool), from the repository root:
#   bash scripts/gpu-check.sh            (with carry [".gpu-pack"] when the build there fails for missing packages)
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-check-out}
mkdir -p "$OUT"
LOG=$OUT/gpu-check.log
SUM=$OUT/summary.txt
: >"$LOG"
: >"$SUM"
exec > >(tee -a "$LOG") 2>&1
T0=$(date +%s)
DEADLINE=$((T0 + ${VB_GPU_CHECK_BUDGET:-540}))
NJ=$(nproc 2>/dev/null || echo 4)
BIN=build/vlapbench
TC=build/tests/test_cuda
failed=0

# step NAME TIMEOUT_S CMD...: runs CMD with a time box, prints a banner, records "NAME rc seconds" in the summary.
# rc 0 = pass; 3 = n/a (the step's own code for "not applicable yet"); anything else (124 = time box) = FAIL.
# Every limit is also cut to what is left of the whole run's budget (VB_GPU_CHECK_BUDGET s, default 540: the device
# tool's 600-s command limit less the start-up); a step with under 5 s left is recorded as "not run (budget)".
step() {
  local name=$1 lim=$2; shift 2
  local t=$(date +%s)
  local left=$((DEADLINE - t))
  if [ $left -lt 5 ]; then
    printf '%-10s %-28s\n' "$name" "not run (budget spent)" | tee -a "$SUM"
    failed=$((failed + 1))
    return
  fi
  [ $lim -gt $left ] && lim=$left
  echo
  echo "==== [$name] $(date -u +%H:%M:%S) (limit ${lim}s): $*"
  timeout --kill-after=10 "$lim" bash -c '"$@"' step "$@" # functions are exported (below)
  local rc=$?
  local dt=$(($(date +%s) - t)) verdict=PASS
  if [ $rc = 3 ]; then verdict=n/a
  elif [ $rc != 0 ]; then verdict=FAIL; failed=$((failed + 1)); fi
  [ $rc = 124 ] && verdict="FAIL (time box ${lim}s)"
  printf '%-10s %-28s exit %-3s %4ss\n' "$name" "$verdict" "$rc" "$dt" | tee -a "$SUM"
}

env_info() {
  uname -a
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi failed"
  command -v nvcc && nvcc --version | tail -2
  python3 -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda,
"gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None, "transformers", transformers.__version__)' 2>&1
  for m in openblas libavformat sqlite3 libcjson libutf8proc cmocka; do
    printf '%s: %s\n' "$m" "$(pkg-config --modversion $m 2>/dev/null || echo missing)"
  done
  return 0
}

build() {
  local blog r
  blog=$(mktemp)
  make -j"$NJ" CUDA=1 all "$TC" >"$blog" 2>&1
  r=$?
  tail -n 25 "$blog"
  rm -f "$blog"
  if [ $r = 0 ] && [ -x "$BIN" ] && [ -x "$TC" ] && "$BIN" version | grep -q '^cuda_backend: built'; then
    echo "build: built here ($BIN, $TC)"
    return 0
  fi
  if [ -x .gpu-pack/bin/vlapbench ] && [ -x .gpu-pack/bin/test_cuda ]; then
    echo "build: the build here failed; using the carried .gpu-pack/ (scripts/gpu-pack.sh)"
    echo pack >"$WHICH"
    return 0
  fi
  echo "build: failed and no .gpu-pack/ was carried (make it with scripts/gpu-pack.sh where the -dev packages are)"
  return 1
}

version() {
  "$BIN" version || return 1
  "$BIN" version | grep -q '^cuda_backend: built' || { echo "version: no CUDA backend in this binary"; return 1; }
  "$BIN" version | grep -q '^cuda_gpu: none' && { echo "version: the binary sees no GPU"; return 1; }
  return 0
}

rates() {
  local rc=0
  "$TC" --rate 8192 8192 8192 10 || rc=1
  # the main GEMMs of the real models: ViT-g fc1 / fc2 over 32 frames, qkv; Flan-T5-XL FF over 32 x 96 tokens
  "$TC" --rate 6144 8224 1408 10 || rc=1
  "$TC" --rate 1408 8224 6144 10 || rc=1
  "$TC" --rate 4224 8224 1408 10 || rc=1
  "$TC" --rate 10240 3072 2048 10 || rc=1
  "$TC" --rate 2048 3072 5120 10 || rc=1
  return $rc
}

# the largest max_abs_err / tolerance ratio of check-golden's lines on stdin, with its line
worst() {
  awk '{ if (match($0, / [0-9.eE+-]+ [0-9.eE+-]+ (ok|FAIL)/)) { split(substr($0, RSTART + 1, RLENGTH - 1), a, " ");
         r = (a[2] > 0 ? a[1] / a[2] : 0); if (r >= m) { m = r; l = $0 } } }
       END { printf "worst err/tolerance %.3g: %s", m, l }'
}

golden() {
  local rc=0 n=0 d o r
  for d in tests/golden/*/; do
    [ -f "$d/cases.json" ] || continue
    n=$((n + 1))
    o=$("$BIN" check-golden --strict "$d" 2>&1)
    r=$?
    echo "cpu:  $(echo "$o" | tail -n 1)"
    [ $r = 0 ] || { echo "$o" | grep -E 'FAIL|SKIP|error' | head -n 10; rc=1; }
    o=$("$BIN" check-golden --device cuda --strict "$d" 2>&1)
    r=$?
    echo "cuda: $(echo "$o" | tail -n 1); $(echo "$o" | worst)"
    [ $r = 0 ] || { echo "$o" | grep -E 'FAIL|SKIP|error' | head -n 20; rc=1; }
    o=$("$BIN" check-golden --device cuda --weights bf16 "$d" 2>&1) # bf16 weights: the deviation, reported only
    echo "cuda bf16 weights (report only): $(echo "$o" | tail -n 1); $(echo "$o" | worst)"
  done
  [ $n -gt 0 ] || { echo "golden: no golden sets"; return 1; }
  return $rc
}

# e2e's row-by-row comparison of two results databases (CPU, GPU) with python3's sqlite3 module; report to $3.
e2e_compare() {
  python3 - "$@" <<'PY'
import json, sqlite3, sys
a, b, out, other = sys.argv[1:5]
f = open(out, "w")
def say(*x):
    s = " ".join(str(v) for v in x); print(s); f.write(s + "\n")
def rows(p):
    c = sqlite3.connect(p)
    q = ("SELECT r.method, r.frames, s.sample_key, s.status, s.prediction, s.picked, s.option_scores, s.error "
         "FROM samples s JOIN runs r ON r.id = s.run_id")
    d = {(m, k, key): (st, pr, pk, sc, er) for m, k, key, st, pr, pk, sc, er in c.execute(q)}
    dev = [x[0] for x in c.execute("SELECT DISTINCT device FROM runs")]
    return d, dev
A, da = rows(a)
B, db = rows(b)
say("cpu runs.device:", da, "| other runs.device:", db)
bad = 0
n_pick = 0
worst = 0.0
if set(A) != set(B) or not A:
    say("FAIL: the two databases hold different rows:", len(A), len(B)); bad += 1
for key in sorted(set(A) & set(B)):
    sa, sb = A[key], B[key]
    if sa[0] != "ok" or sb[0] != "ok":
        say("FAIL: error row", key, sa[4], sb[4]); bad += 1; continue
    if sa[2] != sb[2]:
        n_pick += 1; say("picks differ (a near tie of the selection scores?)", key, sa[2], sb[2]); continue
    x, y = json.loads(sa[3]), json.loads(sb[3])
    err = max(abs(p - q) / max(1.0, abs(p)) for p, q in zip(x, y))
    worst = max(worst, err)
    if sa[1] != sb[1] or err > 1e-3:
        say("FAIL: prediction / scores differ", key, sa[1], sb[1], "max rel score diff %.3g" % err); bad += 1
if da != ["cpu"] or not all(str(v).startswith("cuda: " if other == "cuda" else "cpu") for v in db):
    say("FAIL: runs.device not recorded as expected:", da, db); bad += 1
n = len(A)
say(f"e2e: {n} rows; {bad} failing; {n_pick} with other picks (allowed up to 10%); largest option-score "
    f"difference {worst:.3g} (relative)")
sys.exit(1 if bad or n_pick * 10 > n else 0)
PY
}

# One small end-to-end run on a synthetic set, CPU and GPU, compared row by row (python3's sqlite3 module).
e2e() {
  local d rc=0 dev
  d=$(mktemp -d)
  if ! "$BIN" synth --task event --out "$d/data" --videos 4 --questions 3 --seed 11 >"$d/synth.log" 2>&1; then
    tail -n 3 "$d/synth.log"
    echo "e2e: synth failed (the carried pack's FFmpeg is a stand-in): n/a here; the unit step's methods e2e ran the"
    echo "     same bundles end to end from pixels"
    rm -rf "$d"
    return 3
  fi
  local S=$d/data/nextqa M=models/demo
  local side devs=(cpu "${VB_E2E_DEVICE:-cuda}") # VB_E2E_DEVICE=cpu: a dry run of this step without a GPU
  for side in 0 1; do
    dev=${devs[$side]}
    local t=$(date +%s%N)
    "$BIN" run --dataset nextqa --annotations "$S/val.csv" --map "$S/map_vid_vidorID.json" --videos "$S/videos" \
      --method uniform="$M/uniform" --method sevila="$M/sevila" --method "vlap@4=$M/vlap-k4-T32" --frames 1,4 \
      --method-frames vlap=4 --warmup 0 --quiet --db "$d/side$side.db" --device "$dev" >"$d/run$side.log" 2>&1 \
      || { cat "$d/run$side.log"; echo "e2e: run --device $dev failed"; rc=1; }
    echo "e2e: run --device $dev: $((($(date +%s%N) - t) / 1000000)) ms"
  done
  if [ $rc = 0 ]; then e2e_compare "$d/side0.db" "$d/side1.db" "$OUT/e2e.txt" "${devs[1]}" || rc=1; fi
  rm -rf "$d"
  return $rc
}

bench() {
  "$BIN" bench-engine --device cuda --config configs/real/blip2-flan-t5-xl.config.json --weights bf16 --frames 32 \
    --reps 3 2>&1 | tail -n 60
  return "${PIPESTATUS[0]}"
}

torch_compare() {
  PYTHONUNBUFFERED=1 python3 - "$OUT/torch.txt" <<'PY'
import sys, time
out = open(sys.argv[1], "w")
def say(*a):
    s = " ".join(str(x) for x in a)
    print(s); out.write(s + "\n"); out.flush()
import torch, torch.nn.functional as F
dev = "cuda"
say("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

def timed(fn, reps=20, warm=3):
    for _ in range(warm): fn()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(reps): fn()
    b.record(); b.synchronize()
    return a.elapsed_time(b) / reps

NV, DV, FV, NT, DT, FT = 32 * 257, 1408, 6144, 8 * 128, 2048, 5120
import traceback
def attempt(name, fn):
    try:
        fn()
    except Exception:
        say(f"{name}: FAILED:", traceback.format_exc()[-600:])
    torch.cuda.empty_cache()
def basics():
    for dt, name in ((torch.bfloat16, "bf16"), (torch.float32, "f32")):
        A = torch.randn(8192, 8192, device=dev, dtype=dt); B = torch.randn(8192, 8192, device=dev, dtype=dt)
        ms = timed(lambda: A @ B, reps=10)
        say(f"torch gemm {name} 8192x8192x8192: {2 * 8192**3 / ms / 1e9:.1f} TFLOP/s (no TF32)")
        del A, B
    x = torch.randn(NV, FV, device=dev); w = torch.randn(FV, device=dev); b = torch.randn(FV, device=dev)
    xg = torch.randn(NT, 2 * FT, device=dev)
    def rms(t, w):
        return w * (t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + 1e-6))
    xl = torch.randn(NV, DV, device=dev); xr = torch.randn(NT, DT, device=dev)
    K = [("layernorm", "vit32 (8224, 1408)", lambda: F.layer_norm(xl, (DV,), w[:DV], b[:DV], 1e-6)),
         ("rmsnorm", "t5 (1024, 2048)", lambda: rms(xr, w[:DT])),
         ("gelu_erf", "vit32 (8224, 6144)", lambda: F.gelu(x)),
         ("gelu_tanh", "vit32 (8224, 6144)", lambda: F.gelu(x, approximate="tanh")),
         ("gated_gelu_tanh", "t5 (1024, 2 x 5120)", lambda: F.gelu(xg[:, :FT], approximate="tanh") * xg[:, FT:]),
         ("softmax", "vit32 scores (131584, 257)", lambda: torch.softmax(x.view(-1)[:131584 * 257].view(131584, 257), -1))]
    for name, shape, fn in K:
        say(f"torch kernel {name:<22} {shape:<34} {timed(fn):10.4f} ms")
    qv = torch.randn(32, 16, 257, 88, device=dev)
    say(f"torch kernel {'attention sdpa f32':<22} {'vit32 32 x (257 x 257, 16 x 88)':<34} "
        f"{timed(lambda: F.scaled_dot_product_attention(qv, qv, qv)):10.4f} ms")
    qb = qv.bfloat16()
    say(f"torch kernel {'attention sdpa bf16':<22} {'vit32 32 x (257 x 257, 16 x 88)':<34} "
        f"{timed(lambda: F.scaled_dot_product_attention(qb, qb, qb)):10.4f} ms")
    lin = torch.nn.Linear(DV, FV, device=dev)
    xv = torch.randn(NV, DV, device=dev)
    for dt, name in ((torch.bfloat16, "bf16"), (torch.float32, "f32")):
        l2, x2 = lin.to(dt), xv.to(dt)
        say(f"torch kernel {'linear':<22} {'vit32 fc1 8224 x 6144 x 1408 ' + name:<34} {timed(lambda: l2(x2)):10.4f} ms")
    del x, xg, xl, xr, qv, qb, lin, xv
attempt("gemm / kernels", basics)

# transformers' own modules, random weights, bf16, the real shapes; each in its own try so one failure does not hide
# the others
import transformers
from transformers import Blip2VisionConfig, Blip2VisionModel, Blip2QFormerConfig, Blip2QFormerModel, T5Config, T5EncoderModel
say("transformers", transformers.__version__)
def build(cls, cfg):
    t = time.time()
    with torch.device(dev):
        m = cls(cfg)
    m = m.to(torch.bfloat16).eval()
    say(f"  built {cls.__name__}: {sum(p.numel() for p in m.parameters()) / 1e6:.0f} M params in {time.time() - t:.1f} s")
    return m
state = {}
def vit_part():
    vit = build(Blip2VisionModel, Blip2VisionConfig())  # BLIP-2 ViT-g: 39 layers, 1408, 16 heads, 224 / 14
    px = torch.randn(32, 3, 224, 224, device=dev, dtype=torch.bfloat16)
    ms = timed(lambda: vit(pixel_values=px), reps=5, warm=2)
    L = vit.config.num_hidden_layers
    flop = L * (2 * NV * (4 * DV * DV + 2 * DV * FV) + 4 * 32 * 16 * 257 * 257 * 88)
    say(f"transformers vit-g 32 frames bf16: {ms:.2f} ms, {flop / ms / 1e9:.1f} TFLOP/s (linear + attention FLOPs)")
    state["enc"] = vit(pixel_values=px).last_hidden_state
def qformer_part():
    enc = state.get("enc")
    if enc is None:
        enc = torch.randn(32, 257, DV, device=dev, dtype=torch.bfloat16)
    qf = build(Blip2QFormerModel, Blip2QFormerConfig(encoder_hidden_size=DV))
    q = torch.randn(32, 32, 768, device=dev, dtype=torch.bfloat16)
    ms = timed(lambda: qf(query_embeds=q, encoder_hidden_states=enc), reps=5, warm=2)
    say(f"transformers blip2 q-former 32 frames bf16: {ms:.2f} ms")
def iqformer_part():
    from transformers import InstructBlipQFormerConfig, InstructBlipQFormerModel
    enc = state.get("enc")
    if enc is None:
        enc = torch.randn(32, 257, DV, device=dev, dtype=torch.bfloat16)
    iq = build(InstructBlipQFormerModel, InstructBlipQFormerConfig(encoder_hidden_size=DV))
    q = torch.randn(32, 32, 768, device=dev, dtype=torch.bfloat16)
    ids = torch.randint(0, 30000, (32, 32), device=dev)
    ms = timed(lambda: iq(input_ids=ids, query_embeds=q, encoder_hidden_states=enc), reps=5, warm=2)
    say(f"transformers instructblip q-former 32 frames + 32 text tokens bf16: {ms:.2f} ms")
def t5_part():
    t5 = build(T5EncoderModel, T5Config(d_model=2048, d_ff=5120, num_layers=24, num_heads=32, d_kv=64,
                                        feed_forward_proj="gated-gelu", vocab_size=32128))
    for bsz, n in ((32, 96), (1, 168)):
        e = torch.randn(bsz, n, 2048, device=dev, dtype=torch.bfloat16)
        ms = timed(lambda: t5(inputs_embeds=e), reps=5, warm=2)
        flop = 24 * (2 * bsz * n * (4 * 2048 * 2048 + 3 * 2048 * 5120) + 4 * bsz * 32 * n * n * 64)
        say(f"transformers flan-t5-xl encoder {bsz} x {n} tokens bf16: {ms:.2f} ms, {flop / ms / 1e9:.1f} TFLOP/s")
with torch.inference_mode():
    attempt("vit-g", vit_part)
    attempt("blip2 q-former", qformer_part)
    attempt("instructblip q-former", iqformer_part)
    state.clear()
    attempt("flan-t5-xl encoder", t5_part)
say("torch: done")
PY
}

WHICH=$(mktemp)
export BIN TC NJ OUT WHICH
export -f env_info build version rates worst golden e2e_compare e2e bench torch_compare
wanted() { [ -z "${VB_GPU_CHECK_STEPS:-}" ] || [[ " $VB_GPU_CHECK_STEPS " == *" $1 "* ]]; }
step env 20 env_info
step build 240 build
if [ "$(cat "$WHICH")" = pack ]; then # the carried pack stands in
  echo "build      (the binaries are the carried .gpu-pack/, built elsewhere)" | tee -a "$SUM"
  BIN=.gpu-pack/bin/vlapbench
  TC=.gpu-pack/bin/test_cuda
  export LD_LIBRARY_PATH=$PWD/.gpu-pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export BIN TC
fi
rm -f "$WHICH"
export VB_ROOT=$PWD # test_cuda finds tests/golden and models/demo from here
if [ -x "$BIN" ] && [ -x "$TC" ]; then
  step version 20 version
  wanted unit && step unit 150 "$TC"
  wanted golden && step golden 90 golden
  wanted e2e && step e2e 120 e2e
  wanted kernels && step kernels 90 "$TC" --kernels
  wanted rate && step rate 45 rates
  wanted bench && step bench 90 bench
else
  echo "no binaries: the steps that need them are not run"
  failed=$((failed + 1))
fi
wanted torch && step torch 150 torch_compare

echo
echo "==== summary ($(($(date +%s) - T0)) s in all; $failed failed; log: $LOG)"
cat "$SUM"
exit $failed
