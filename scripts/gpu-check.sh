#!/usr/bin/env bash
# scripts/gpu-check.sh — the one prepared device check of the CUDA backend (issue 20; docs/cuda.md), sized to end
# within 10 minutes on one H100.  Run from the repository root on the GPU machine; everything it prints goes to
# $OUT/gpu-check.log (OUT defaults to ./gpu-check-out), the step table to $OUT/summary.txt, PyTorch's numbers also
# to $OUT/torch.txt.  Every step is time-boxed and the whole run ends within 540 s (VB_GPU_CHECK_BUDGET); a failing
# step is recorded and the script goes on; the exit code is the number of failed steps (0 = all passed; steps that
# cannot apply yet say so and count as "n/a", not passed).
#
# Steps:
#   env        nvidia-smi, nvcc, python3 / torch / transformers versions
#   build      make -j CUDA=1 (vlapbench + build/tests/test_cuda); when the machine lacks the project's -dev
#              packages, falls back to a carried .gpu-pack/ (scripts/gpu-pack.sh, made where they are installed)
#   version    vlapbench version: cuda_backend / cuda_gpu lines (the GPU must be seen)
#   unit       test_cuda: every CUDA kernel, the cuBLASLt linear (f32 exact path, bf16), the device ViT and T5
#              encoder vs the CPU engine
#   rate       cuBLASLt GEMM rate at 8192^3 bf16 / f32 and at the real ViT-g / Flan-T5-XL shapes
#   kernels    test_cuda --kernels: our kernels' times at the real shapes, and the 32-frame ViT-g pass through
#              engine/cuda/vit.c (bf16 and f32) and the Flan-T5-XL encoder through engine/cuda/t5enc.c (bf16;
#              random weights)
#   torch      the same GEMMs / kernels in PyTorch, and transformers' own BLIP-2 ViT-g, Q-Former, InstructBLIP
#              Q-Former and Flan-T5-XL encoder (random weights, bf16) at the real shapes
#   golden     check-golden on the repository's golden sets, CPU (sanity) and --device cuda (n/a until wired)
#   bench      bench-engine --device cuda at the real BLIP-2 shape (n/a until wired)
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

golden() {
  local rc=0 n=0 d
  for d in tests/golden/*/; do
    [ -f "$d/cases.json" ] || continue
    n=$((n + 1))
    local o r
    o=$("$BIN" check-golden --strict "$d" 2>&1)
    r=$?
    echo "$o" | tail -n 1
    [ $r = 0 ] || { echo "$o" | grep -E 'FAIL|SKIP|error' | head -n 10; rc=1; }
  done
  [ $n -gt 0 ] || { echo "golden: no golden sets"; return 1; }
  [ $rc = 0 ] || return 1
  local msg
  msg=$("$BIN" check-golden --device cuda --strict tests/golden/tiny 2>&1)
  local r=$?
  echo "check-golden --device cuda: exit $r: $msg"
  if [ $r != 0 ] && [[ "$msg" == *"not yet wired"* ]]; then return 3; fi
  return $r
}

bench() {
  local msg r
  msg=$("$BIN" bench-engine --device cuda --config configs/real/blip2-flan-t5-xl.config.json --weights bf16 --frames 32 \
        --reps 3 2>&1)
  r=$?
  echo "$msg" | tail -n 40
  if [ $r != 0 ] && [[ "$msg" == *"not yet wired"* ]]; then return 3; fi
  return $r
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
export -f env_info build version rates golden bench torch_compare
step env 30 env_info
step build 240 build
if [ "$(cat "$WHICH")" = pack ]; then # the carried pack stands in
  echo "build      (the binaries are the carried .gpu-pack/, built elsewhere)" | tee -a "$SUM"
  BIN=.gpu-pack/bin/vlapbench
  TC=.gpu-pack/bin/test_cuda
  export LD_LIBRARY_PATH=$PWD/.gpu-pack/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export BIN TC
fi
rm -f "$WHICH"
if [ -x "$BIN" ] && [ -x "$TC" ]; then
  step version 20 version
  step unit 90 "$TC"
  step rate 60 rates
  step kernels 90 "$TC" --kernels
fi
step torch 200 torch_compare
if [ -x "$BIN" ] && [ -x "$TC" ]; then
  step golden 60 golden
  step bench 30 bench
else
  echo "no binaries: the steps that need them are not run"
  failed=$((failed + 1))
fi

echo
echo "==== summary ($(($(date +%s) - T0)) s in all; $failed failed; log: $LOG)"
cat "$SUM"
exit $failed
