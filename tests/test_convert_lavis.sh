#!/usr/bin/env bash
# tools/convert-lavis round trip.  The method golden bundles are renamed BACK to LAVIS / SeViLA / ViLA names
# (q_bias / v_bias split, Qformer.bert.*, Qformer_loc.*, fs.*, t5_model.*, plus tensors the converter must drop or
# fold), converted, and the converted bundles must pass check-golden --strict on the method cases.  (The converted
# qkv bias has a zero k part; a key bias shifts every score of one query equally, so softmax is unchanged.)
# With torch (Debian python3-torch; never installed by the test) the LAVIS dict goes through a real .pth and the CLI;
# without it the same dict goes straight into the converter's functions and the test then reports SKIP.
set -u
command -v python3 >/dev/null || { echo "SKIP: no python3"; exit 77; }
# Debian's python3-torch lives in the system interpreter; a pyenv/venv python3 first on PATH does not see it.
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then python3() { command "$p" "$@"; }; break; fi
done
python3 "$VB_ROOT/tools/convert-lavis" --selftest || { echo "FAIL: convert-lavis --selftest"; exit 1; }
G=$VB_SHARED/golden
[ -d "$G/methods/methods-blip2" ] && [ -f "$G/t5-tokenizer/tokenizer.json" ] || { echo "SKIP: $G/methods absent"; exit 77; }
have_torch=0; python3 -c 'import torch' 2>/dev/null && have_torch=1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
for m in sevila:methods-blip2 vila:methods-instructblip; do
  meth=${m%%:*}; d=${m#*:}
  python3 - "$VB_ROOT/tools/convert-lavis" "$G/methods/$d" "$tmp" "$meth" "$have_torch" "$G" <<'PY' || { echo "FAIL: conversion $meth"; fail=1; continue; }
import importlib.machinery, importlib.util, os, subprocess, sys
ld = importlib.machinery.SourceFileLoader("cl", sys.argv[1])
spec = importlib.util.spec_from_loader("cl", ld); cl = importlib.util.module_from_spec(spec); ld.exec_module(cl)
src, tmp, meth, have_torch, G = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1", sys.argv[6]
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
cfgp = os.path.join(src, "config.json")
out = os.path.join(tmp, meth)
if have_torch:
    import torch
    dt = {"F32": torch.float32}
    t = lambda r: torch.frombuffer(bytearray(r.data), dtype=dt[r.dtype]).reshape(r.shape).clone()
    pth = os.path.join(tmp, meth + ".pth")
    torch.save({"model": {k: t(v) for k, v in sd.items()}, "epoch": 3}, pth)
    rc = subprocess.call([sys.executable, sys.argv[1], "--method", meth, "--pth", pth, "--config", cfgp,
                          "--tokenizer-dir", G + "/t5-tokenizer", "--tokenizer-dir", G + "/bert-tokenizer",
                          "--out", out])
    sys.exit(rc)
conv, dropped = cl.convert(sd, meth)
missing = [r for r in cl.REQUIRED if r not in conv]
assert not missing, missing
assert sorted(conv) == sorted(hf), sorted(set(conv) ^ set(hf))
assert len(dropped) >= 5, dropped
# the CLI on the same LAVIS-named tensors stored as safetensors (no torch needed to read them)
lav = os.path.join(tmp, meth + ".lavis.safetensors")
cl.write_safetensors(lav, sd)
rc = subprocess.call([sys.executable, sys.argv[1], "--method", meth, "--pth", lav, "--config", cfgp,
                      "--tokenizer-dir", G + "/t5-tokenizer", "--tokenizer-dir", G + "/bert-tokenizer", "--out", out])
if rc:
    sys.exit(rc)
print("converted without torch (CLI on a LAVIS-named .safetensors):", len(conv), "tensors,", len(dropped), "dropped")
PY
  ln -s "$G/methods/$d/cases.safetensors" "$tmp/$meth/cases.safetensors"
  ln -s "$G/methods/$d/cases.json" "$tmp/$meth/cases.json"
  VB_T5_TOKENIZER=$G/t5-tokenizer/tokenizer.json VB_BERT_VOCAB=$G/bert-tokenizer/vocab.txt \
    "$VB_BIN" check-golden --strict "$tmp/$meth" > "$tmp/$meth.log" 2>&1 || { echo "FAIL: check-golden on converted $meth"; grep -v ' ok$' "$tmp/$meth.log"; fail=1; }
  tail -1 "$tmp/$meth.log" | sed "s/, [0-9]* SKIP//"
done
[ $fail -eq 0 ] || exit 1
if [ $have_torch -eq 0 ]; then
  echo "SKIP: torch not importable (Debian python3-torch): .pth reading untested; renaming round trip passed"; exit 77
fi
echo ok
