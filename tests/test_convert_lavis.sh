#!/usr/bin/env bash
# tools/convert-lavis without torch.  Every python run here has a torch.py first on PYTHONPATH that raises ImportError
# (checked), and the converter runs twice: once without numpy (pure python, a numpy.py shim the same way) and once
# with numpy where some python3 on the machine has it.
#  1. --selftest (renaming, qkv bias, safetensors writer/reader).
#  2. tests/data/lavis_tiny.pth, saved by torch 1.13 (tools/make-pth-fixture.py): every state-dict tensor read
#     (float32/16, bfloat16, float64, int64, bool, 0-dim, empty, transposed / sliced / stepped views of one storage, a
#     view at a storage offset, an expanded nn.Parameter) must equal torch's bytes in tests/data/lavis_tiny.json, and
#     every float cast must equal torch's .to(float32 / float16 / bfloat16) (NaN: any NaN; torch's own bf16 NaN
#     pattern depends on its code path).
#  3. The CLI on that .pth: the bundle's tensors, names and values (keep and --dtype bf16), the dropped count.
#  4. Bad input: missing .pth / .safetensors / config, not a zip, a legacy pickle, a truncated archive, no data.pkl, a
#     missing or short storage, a view outside its storage, a malformed pickle, a pickle calling os.system (must not
#     run), bad safetensors headers: exit 1, one message naming the file and the fault, no traceback.
#  5. With $VB_SHARED/golden/methods (conformance data): the method golden bundles renamed BACK to LAVIS / SeViLA /
#     ViLA names (q_bias / v_bias split, Qformer.bert.*, Qformer_loc.*, fs.*, t5_model.*, plus tensors the converter
#     must drop or fold), written as a torch.save-format .pth (a small writer below, with transposed-storage views),
#     converted by the CLI, and the converted bundles must pass check-golden --strict on the method cases.  (The
#     converted qkv bias has a zero k part; a key bias shifts every score of one query equally, so softmax is
#     unchanged.)  Without ../shared this part is reported as not run; parts 1-4 need nothing outside the repository.
set -u
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
CL=$VB_ROOT/tools/convert-lavis
FIX=$VB_ROOT/tests/data/lavis_tiny
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/notorch" "$tmp/nonumpy"
echo 'raise ImportError("torch hidden by tests/test_convert_lavis.sh")' > "$tmp/notorch/torch.py"
cp "$tmp/notorch/torch.py" "$tmp/nonumpy/torch.py"
echo 'raise ImportError("numpy hidden by tests/test_convert_lavis.sh")' > "$tmp/nonumpy/numpy.py"
fail=0

# (python, PYTHONPATH, mode) triples: pure python always, numpy when available
runs=("python3:$tmp/nonumpy:pure")
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && PYTHONPATH=$tmp/notorch "$p" -c 'import numpy' 2>/dev/null; then
    runs+=("$p:$tmp/notorch:numpy"); break
  fi
done
[ ${#runs[@]} -eq 1 ] && echo "note: no python3 with numpy here; the numpy cast path is not exercised"

cat > "$tmp/load_cl.py" <<'PY'
import importlib.machinery, importlib.util, sys
def load(path):
    ld = importlib.machinery.SourceFileLoader("cl", path)
    spec = importlib.util.spec_from_loader("cl", ld); m = importlib.util.module_from_spec(spec); ld.exec_module(m)
    return m
PY

# The torch.save zip layout written without torch (fake torch modules so that pickle names the same globals):
# ARCHIVE/data.pkl, ARCHIVE/data/<key>, ARCHIVE/version.  Used for parts 4 and 5; the fixture of part 2 is torch's.
cat > "$tmp/mkpth.py" <<'PY'
import collections, io, pickle, sys, types, zipfile
torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
def _rebuild_tensor_v2(*a): raise RuntimeError
_rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
utils._rebuild_tensor_v2 = _rebuild_tensor_v2; torch._utils = utils
ST = {"F32": "FloatStorage", "F16": "HalfStorage", "BF16": "BFloat16Storage", "I64": "LongStorage"}
SZ = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}
for n in ST.values():
    setattr(torch, n, type(n, (), {"__module__": "torch"}))
sys.modules["torch"], sys.modules["torch._utils"] = torch, utils
class Storage:
    def __init__(self, key, dtype, data, numel=None):
        self.key, self.dtype, self.data = key, dtype, data
        self.numel = len(data) // SZ[dtype] if numel is None else numel
class Tensor:
    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())
    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2, self.args)
def contiguous(storage, shape):
    st, s = [], 1
    for d in reversed(shape):
        st.insert(0, s); s *= d
    return Tensor(storage, 0, shape, st)
def write(path, obj, storages, prefix="archive", pkl=None, skip=()):
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=2)
    p.persistent_id = lambda o: (("storage", getattr(torch, ST[o.dtype]), o.key, "cpu", o.numel)
                                 if isinstance(o, Storage) else None)
    p.dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(prefix + "/data.pkl", buf.getvalue() if pkl is None else pkl(buf.getvalue()))
        for s in storages:
            if s.key not in skip:
                z.writestr(prefix + "/data/" + s.key, s.data)
        z.writestr(prefix + "/version", "3\n")
PY

for r in "${runs[@]}"; do
  IFS=: read -r py pp mode <<<"$r"
  export PYTHONPATH=$pp
  if "$py" -c 'import torch' 2>/dev/null; then echo "FAIL: the torch shim did not hide torch from $py"; exit 1; fi
  echo "== $py ($mode casts; torch not importable)"
  "$py" "$CL" --selftest || { echo "FAIL: convert-lavis --selftest ($mode)"; fail=1; }

  # ---- 2. the torch-made fixture
  "$py" - "$CL" "$FIX" "$mode" "$tmp" <<'PY' || { echo "FAIL: reading lavis_tiny.pth ($mode)"; fail=1; }
import json, math, struct, sys
sys.path.insert(0, sys.argv[4]); import load_cl
cl = load_cl.load(sys.argv[1]); fix, mode = sys.argv[2], sys.argv[3]
assert (cl._numpy() is not None) == (mode == "numpy"), "cast path is not the %s one" % mode
meta = json.load(open(fix + ".json")); want = meta["tensors"]
sd = cl.load_pth(fix + ".pth")
bad = []
if sorted(sd) != sorted(want):
    bad.append("names differ: %s" % sorted(set(sd) ^ set(want)))
def elems(h, dt):
    b = bytes.fromhex(h)
    if dt == "BF16":
        b = b"".join(b"\0\0" + b[i:i + 2] for i in range(0, len(b), 2)); dt = "F32"
    return struct.unpack("<%d%s" % (len(b) // {"F32": 4, "F16": 2}[dt], {"F32": "f", "F16": "e"}[dt]), b)
def same(a, b):
    return all((x == y and math.copysign(1, x) == math.copysign(1, y)) or (x != x and y != y) for x, y in zip(a, b))
casts = 0
for k, w in want.items():
    t = sd.get(k)
    if t is None:
        continue
    got = t.data.hex()
    if t.dtype != w["dtype"] or t.shape != w["shape"] or got != w["hex"]:
        bad.append("%s: got %s %s %s, torch %s %s %s" % (k, t.dtype, t.shape, got, w["dtype"], w["shape"], w["hex"]))
    for dt, h in w.get("to", {}).items():
        c = cl.t_cast(t, dt)
        g = c.data.hex(); casts += 1
        if c.dtype != dt or len(g) != len(h) or not (g == h or same(elems(g, dt), elems(h, dt))):
            bad.append("%s .to(%s): got %s, torch %s" % (k, dt, g, h))
def rowmajor(shape):
    st, s = [], 1
    for d in reversed(shape):
        st.insert(0, s); s *= d
    return st
views = [k for k, w in want.items() if w["storage_offset"] or w["stride"] != rowmajor(w["shape"])]
assert len(views) >= 4, views  # the fixture really holds non-contiguous / offset views
for b in bad:
    print("  " + b)
print("lavis_tiny.pth (torch %s): %d tensors (%d views), %d casts, %d mismatches" %
      (meta["torch"], len(want), len(views), casts, len(bad)))
sys.exit(1 if bad else 0)
PY

  # ---- 3. the CLI on the fixture
  echo '{"model_type": "blip-2", "note": "test config"}' > "$tmp/cfg.json"
  for dt in keep bf16; do
    out=$tmp/bundle-$mode-$dt
    "$py" "$CL" --method sevila --pth "$FIX.pth" --config "$tmp/cfg.json" --allow-missing --dtype $dt \
      --out "$out" > "$tmp/cli.log" 2>&1 || { echo "FAIL: CLI on lavis_tiny.pth ($mode, $dt)"; cat "$tmp/cli.log"; fail=1; continue; }
    "$py" - "$CL" "$FIX" "$out" "$dt" "$tmp" "$tmp/cli.log" <<'PY' || { echo "FAIL: bundle from lavis_tiny.pth ($mode, $dt)"; fail=1; }
import json, sys
sys.path.insert(0, sys.argv[5]); import load_cl
cl = load_cl.load(sys.argv[1]); want = json.load(open(sys.argv[2] + ".json"))["tensors"]; dt = sys.argv[4]
got = cl.read_safetensors(sys.argv[3] + "/model.safetensors")
# the bundle names of the fixture's LAVIS names for --method sevila (written out here, not computed by rename())
M = {"visual_encoder.cls_token": "vision_model.embeddings.class_embedding",
     "visual_encoder.pos_embed": "vision_model.embeddings.position_embedding",
     "visual_encoder.patch_embed.proj.weight": "vision_model.embeddings.patch_embedding.weight",
     "visual_encoder.blocks.0.attn.qkv.weight": "vision_model.encoder.layers.0.self_attn.qkv.weight",
     "visual_encoder.blocks.0.attn.proj.weight": "vision_model.encoder.layers.0.self_attn.projection.weight",
     "visual_encoder.blocks.0.mlp.fc1.weight": "vision_model.encoder.layers.0.mlp.fc1.weight",
     "ln_vision.weight": "vision_model.post_layernorm.weight", "ln_vision.bias": "vision_model.post_layernorm.bias",
     "t5_proj.weight": "language_projection.weight", "t5_proj.bias": "language_projection.bias",
     "query_tokens": "query_tokens", "Qformer.bert.embeddings.LayerNorm.weight": "qformer.layernorm.weight",
     "t5_model.lm_head.weight": "language_model.lm_head.weight",
     "t5_model.encoder.embed_tokens.weight": "language_model.shared.weight"}
DROPPED = 5  # position_ids, Qformer.cls.predictions.bias, temp, t5_proj_T.weight, fs.mask
def bytes_of(k):
    w = want[k]
    return w["hex"] if dt == "keep" else w["to"]["BF16"]
exp = {M[k]: bytes_of(k) for k in M}
q, v = bytes_of("visual_encoder.blocks.0.attn.q_bias"), bytes_of("visual_encoder.blocks.0.attn.v_bias")
exp["vision_model.encoder.layers.0.self_attn.qkv.bias"] = q + "00" * (len(v) // 2) + v
def same(g, w):  # equal bytes, or for bf16 equal up to the NaN pattern (torch's depends on its code path)
    if g == w or dt != "bf16" or len(g) != len(w):
        return g == w
    nan = lambda h: (int(h[2:4] + h[0:2], 16) & 0x7FFF) > 0x7F80
    return all(a == b or (nan(a) and nan(b)) for a, b in zip([g[i:i + 4] for i in range(0, len(g), 4)],
                                                             [w[i:i + 4] for i in range(0, len(w), 4)]))
bad = [n for n in sorted(set(exp) | set(got)) if n not in got or n not in exp or not same(got[n].data.hex(), exp[n])]
for n in bad:
    print("  %s: got %s, want %s" % (n, got[n].data.hex() if n in got else "-", exp.get(n, "-")))
if dt == "bf16" and any(got[n].dtype != "BF16" for n in got):
    bad.append("dtype"); print("  not all BF16")
log = open(sys.argv[6]).read()
if "%d tensors written, %d source tensors ignored" % (len(exp), DROPPED) not in log:
    bad.append("log"); print("  CLI said: " + log)
cfg = json.load(open(sys.argv[3] + "/config.json"))
if cfg.get("note") != "test config" or cfg["methods_bundle"]["method"] != "sevila":
    bad.append("config"); print("  config.json: %s" % cfg)
print("CLI --dtype %s: %d tensors, %d wrong" % (dt, len(got), len(bad)))
sys.exit(1 if bad else 0)
PY
  done
done
export PYTHONPATH=$tmp/nonumpy
py=python3

# ---- 4. bad input: exit 1, one line naming the file and the fault, no traceback, nothing executed
"$py" - "$tmp" "$FIX.pth" <<'PY' || { echo "FAIL: could not build the malformed inputs"; fail=1; }
import os, pickle, struct, sys, zipfile
tmp, fix = sys.argv[1], sys.argv[2]
sys.path.insert(0, tmp); import mkpth
d = tmp + "/bad"; os.makedirs(d)
open(d + "/text.pth", "w").write("hello, not a checkpoint\n")
open(d + "/legacy.pth", "wb").write(pickle.dumps({"model": {}}, protocol=2))
raw = open(fix, "rb").read()
open(d + "/truncated.pth", "wb").write(raw[:len(raw) // 2])
with zipfile.ZipFile(fix) as z:
    names = z.namelist()
    def rewrite(path, change):
        with zipfile.ZipFile(path, "w") as o:
            for n in names:
                b = change(n, z.read(n))
                if b is not None:
                    o.writestr(n, b)
    rewrite(d + "/nopkl.pth", lambda n, b: None if n.endswith("data.pkl") else b)
    rewrite(d + "/nostorage.pth", lambda n, b: None if n.endswith("/data/5") else b)
    rewrite(d + "/short.pth", lambda n, b: b[:100] if n.endswith("/data/5") else b)
    rewrite(d + "/badpkl.pth", lambda n, b: b[:len(b) // 2] if n.endswith("data.pkl") else b)
s = mkpth.Storage("0", "F32", bytes(4 * 6))
mkpth.write(d + "/outside.pth", {"model": {"w": mkpth.Tensor(s, 2, (2, 3), (3, 1))}}, [s])
# a pickle that would run os.system if the unpickler resolved globals: "model" = os.system("touch PWNED")
cmd = ("touch " + tmp + "/PWNED").encode()
evil = b"\x80\x02}q\x00X\x05\x00\x00\x00modelq\x01cos\nsystem\nq\x02X" + struct.pack("<I", len(cmd)) + cmd + \
       b"\x85q\x03Rq\x04s."
import pickletools; pickletools.dis(evil, out=open(os.devnull, "w"))  # well-formed
with zipfile.ZipFile(d + "/evil.pth", "w") as o:
    o.writestr("archive/data.pkl", evil)
    o.writestr("archive/version", "3\n")
open(d + "/bighdr.safetensors", "wb").write(struct.pack("<Q", 1 << 40) + b"{}")
open(d + "/notjson.safetensors", "wb").write(struct.pack("<Q", 8) + b"{nope:1}")
h = b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
open(d + "/shortdata.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(8))
h = b'{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}'
open(d + "/shape.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(16))
h = b'{"w":{"dtype":"Q8","shape":[4],"data_offsets":[0,4]}}'
open(d + "/dtype.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(4))
open(d + "/badcfg.json", "w").write("{not json")
PY
B=$tmp/bad
expect_err() {  # expect_err NAME PATTERN ARGS... : exit 1, stderr names the file and matches PATTERN, no traceback
  local name=$1 pat=$2; shift 2
  "$py" "$CL" --method sevila --out "$tmp/o-$name" --allow-missing "$@" > "$tmp/err.log" 2>&1
  local rc=$?
  if [ $rc -ne 1 ] || grep -q Traceback "$tmp/err.log" || ! grep -q -- "$pat" "$tmp/err.log"; then
    echo "FAIL: $name: exit $rc, want 1 and /$pat/:"; sed 's/^/    /' "$tmp/err.log"; fail=1
  else
    echo "ok: $name: $(head -c 200 "$tmp/err.log")"
  fi
}
C=(--config "$tmp/cfg.json")
expect_err missing-pth "nope.pth: no such file" --pth "$tmp/nope.pth" "${C[@]}"
expect_err missing-safetensors "nope.safetensors: no such file" --pth "$tmp/nope.safetensors" "${C[@]}"
expect_err missing-t5 "t5.safetensors: no such file" --pth "$FIX.pth" --t5 "$tmp/t5.safetensors" "${C[@]}"
expect_err missing-config "none.json: no such file" --pth "$FIX.pth" --config "$tmp/none.json"
expect_err bad-config "badcfg.json: not JSON" --pth "$FIX.pth" --config "$B/badcfg.json"
expect_err missing-tokdir "tokdir: --tokenizer-dir: no such directory" --pth "$FIX.pth" --tokenizer-dir "$tmp/tokdir" "${C[@]}"
expect_err directory "$tmp: not a regular file" --pth "$tmp" "${C[@]}"
expect_err text "text.pth: not a torch.save zip archive" --pth "$B/text.pth" "${C[@]}"
expect_err legacy "legacy.pth: .*legacy torch serialization" --pth "$B/legacy.pth" "${C[@]}"
expect_err truncated "truncated.pth: a damaged or truncated zip" --pth "$B/truncated.pth" "${C[@]}"
expect_err no-data-pkl "nopkl.pth: not a torch.save archive: 0 PREFIX/data.pkl" --pth "$B/nopkl.pth" "${C[@]}"
expect_err no-storage "nostorage.pth: storage lavis_tiny/data/5 is missing" --pth "$B/nostorage.pth" "${C[@]}"
expect_err short-storage "short.pth: lavis_tiny/data/5 holds 100 bytes; the pickle says 48 F32" --pth "$B/short.pth" "${C[@]}"
expect_err bad-pickle "badpkl.pth: lavis_tiny/data.pkl: malformed pickle" --pth "$B/badpkl.pth" "${C[@]}"
expect_err view-outside "outside.pth: tensor on archive/data/0 (size \[2, 3\], stride \[3, 1\], offset 2) reaches element 7 of 6" \
  --pth "$B/outside.pth" "${C[@]}"
expect_err evil "evil.pth: entry model is built by os.system, which this reader does not handle" --pth "$B/evil.pth" "${C[@]}"
[ -e "$tmp/PWNED" ] && { echo "FAIL: the pickle ran os.system"; fail=1; }
expect_err st-header "bighdr.safetensors: header length 1099511627776 exceeds the file" --pth "$B/bighdr.safetensors" "${C[@]}"
expect_err st-json "notjson.safetensors: header is not JSON" --pth "$B/notjson.safetensors" "${C[@]}"
expect_err st-data "shortdata.safetensors: tensor w: data_offsets end 16 beyond the data (8 bytes)" --pth "$B/shortdata.safetensors" "${C[@]}"
expect_err st-shape "shape.safetensors: tensor w: 16 bytes for shape \[3\] of F32" --pth "$B/shape.safetensors" "${C[@]}"
expect_err st-dtype "dtype.safetensors: tensor w: dtype 'Q8' not supported" --pth "$B/dtype.safetensors" "${C[@]}"

# ---- 5. golden round trip (conformance data from $VB_SHARED)
G=${VB_SHARED:-$VB_ROOT/../shared}/golden
if ! [ -d "$G/methods/methods-blip2" ] || ! [ -f "$G/t5-tokenizer/tokenizer.json" ]; then
  [ $fail -eq 0 ] || exit 1
  echo "ok (golden round trip not run: $G/methods absent, conformance data from ../shared)"; exit 0
fi
for m in sevila:methods-blip2 vila:methods-instructblip; do
  meth=${m%%:*}; d=${m#*:}
  "$py" - "$CL" "$G/methods/$d" "$tmp" "$meth" "$G" <<'PY' || { echo "FAIL: conversion $meth"; fail=1; continue; }
import array, os, subprocess, sys
tmp = sys.argv[3]
sys.path.insert(0, tmp); import load_cl, mkpth
cl = load_cl.load(sys.argv[1])
src, meth, G = sys.argv[2], sys.argv[4], sys.argv[5]
hf = cl.read_safetensors(os.path.join(src, "model.safetensors"))
def qf(rest, pre):
    if rest.startswith("layernorm.") or rest.startswith("embeddings.layernorm."):
        return pre + "bert.embeddings.LayerNorm." + rest.split(".")[-1]
    return pre + "bert." + rest.replace("attention.attention", "attention.self")
sd = {}
for k, v in hf.items():
    if k.startswith("vision_model.embeddings."):
        r = k[len("vision_model.embeddings."):]
        sd["visual_encoder." + {"class_embedding": "cls_token", "position_embedding": "pos_embed",
            "patch_embedding.weight": "patch_embed.proj.weight", "patch_embedding.bias": "patch_embed.proj.bias"}[r]] = v
    elif k.startswith("vision_model.encoder.layers."):
        i, r = k[len("vision_model.encoder.layers."):].split(".", 1)
        if r == "self_attn.qkv.bias":
            n = len(v.data) // 3; D = v.shape[0] // 3
            sd["visual_encoder.blocks.%s.attn.q_bias" % i] = cl.Raw(v.data[:n], [D], v.dtype)
            sd["visual_encoder.blocks.%s.attn.v_bias" % i] = cl.Raw(v.data[2 * n:], [D], v.dtype)
            continue
        for a, b in (("layer_norm1.", "norm1."), ("layer_norm2.", "norm2."), ("self_attn.qkv.", "attn.qkv."),
                     ("self_attn.projection.", "attn.proj."), ("mlp.", "mlp.")):
            if r.startswith(a):
                sd["visual_encoder.blocks.%s.%s%s" % (i, b, r[len(a):])] = v
                break
        else:
            raise SystemExit("unmapped " + k)
    elif k.startswith("vision_model.post_layernorm."):
        sd["ln_vision." + k.split(".")[-1]] = v
    elif k.startswith("qformer."):
        sd[qf(k[len("qformer."):], "Qformer.")] = v
    elif k == "query_tokens":
        sd[k] = v
    elif k.startswith("language_projection."):
        sd["t5_proj." + k.split(".")[-1]] = v
    elif k.startswith("language_model."):
        sd["t5_model." + k[len("language_model."):]] = v
    elif k.startswith("localizer.qformer."):
        sd[qf(k[len("localizer.qformer."):], "Qformer_loc.")] = v
    elif k == "localizer.query_tokens":
        sd["query_tokens_loc"] = v
    elif k.startswith("localizer.language_projection."):
        sd["t5_proj_loc." + k.split(".")[-1]] = v
    elif k.startswith("localizer.vision_layernorm."):
        sd["ln_vision_loc." + k.split(".")[-1]] = v
    elif k.startswith("frame_prompter."):
        a, b = k[len("frame_prompter."):].split(".")
        sd["fs.%s.%s" % ({"fc1": "conv_pool", "norm": "ln", "fc2": "conv_gs"}[a], b)] = v
    else:
        raise SystemExit("unmapped " + k)
# what LAVIS checkpoints also carry: the tied alias (shared.weight removed: must come back from embed_tokens), the
# BERT LM head, position ids, the ViLA teacher, BLIP-2's deleted text embeddings
sd["t5_model.encoder.embed_tokens.weight"] = sd.pop("t5_model.shared.weight")
z = lambda n: cl.Raw(bytes(4 * n), [n], "F32")
sd["Qformer.cls.predictions.bias"] = z(3)
sd["Qformer_T.bert.embeddings.LayerNorm.weight"] = z(2)
sd["query_tokens_T"] = z(6); sd["t5_proj_T.weight"] = z(4); sd["dist_fc_bn.0.weight"] = z(4)
if meth == "sevila":
    sd["Qformer.bert.embeddings.word_embeddings.weight"] = z(10)
    sd["Qformer.bert.encoder.layer.0.output.dense.weight"] = z(10)
conv, dropped = cl.convert(sd, meth)
missing = [r for r in cl.REQUIRED if r not in conv]
assert not missing, missing
assert sorted(conv) == sorted(hf), sorted(set(conv) ^ set(hf))
assert len(dropped) >= 5, dropped
# the same LAVIS dict as a torch.save-format .pth: every 2-D F32 weight of the ViT and the T5 feed-forward stored
# transposed and rebuilt as a transposed view (stride (1, rows)), everything else contiguous
storages, tens, nviews = [], {}, 0
for i, (k, v) in enumerate(sorted(sd.items())):
    key = str(i)
    if v.dtype == "F32" and len(v.shape) == 2 and (".blocks." in k or ".DenseReluDense." in k):
        R, C = v.shape
        a = array.array("f"); a.frombytes(v.data)
        s = mkpth.Storage(key, "F32", array.array("f", [a[r * C + c] for c in range(C) for r in range(R)]).tobytes())
        tens[k] = mkpth.Tensor(s, 0, (R, C), (1, R)); nviews += 1
    else:
        s = mkpth.Storage(key, v.dtype, v.data)
        tens[k] = mkpth.contiguous(s, v.shape)
    storages.append(s)
pth = os.path.join(tmp, meth + ".pth")
mkpth.write(pth, {"model": tens, "epoch": 3, "config": {"run": {"lr": 1e-4}}}, storages)
assert nviews >= 4, nviews
out = os.path.join(tmp, meth)
rc = subprocess.call([sys.executable, sys.argv[1], "--method", meth, "--pth", pth, "--config",
                      os.path.join(src, "config.json"), "--tokenizer-dir", G + "/t5-tokenizer",
                      "--tokenizer-dir", G + "/bert-tokenizer", "--out", out])
if rc:
    sys.exit(rc)
back = cl.read_safetensors(os.path.join(out, "model.safetensors"))
def want(k):  # the golden bytes; a qkv bias comes back as cat(q, zeros, v)
    d = hf[k].data
    if k.endswith("self_attn.qkv.bias"):
        n = len(d) // 3
        d = d[:n] + bytes(n) + d[2 * n:]
    return d
diff = [k for k in hf if k not in back or back[k].data != want(k) or back[k].shape != hf[k].shape]
assert not diff and sorted(back) == sorted(hf), (diff[:5], sorted(set(back) ^ set(hf)))
print("converted without torch (CLI on a .pth with %d transposed views): %d tensors equal the golden bundle, %d dropped"
      % (nviews, len(conv), len(dropped)))
PY
  ln -s "$G/methods/$d/cases.safetensors" "$tmp/$meth/cases.safetensors"
  ln -s "$G/methods/$d/cases.json" "$tmp/$meth/cases.json"
  VB_T5_TOKENIZER=$G/t5-tokenizer/tokenizer.json VB_BERT_VOCAB=$G/bert-tokenizer/vocab.txt \
    "$VB_BIN" check-golden --strict "$tmp/$meth" > "$tmp/$meth.log" 2>&1 || { echo "FAIL: check-golden on converted $meth"; grep -v ' ok$' "$tmp/$meth.log"; fail=1; }
  tail -1 "$tmp/$meth.log" | sed "s/, [0-9]* SKIP//"
done
[ $fail -eq 0 ] || exit 1
echo ok
