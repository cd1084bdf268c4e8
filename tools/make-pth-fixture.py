#!/usr/bin/env python3
"""make-pth-fixture — writes tests/data/lavis_tiny.pth and tests/data/lavis_tiny.json (optional tool; needs torch).

    /usr/bin/python3 tools/make-pth-fixture.py [OUTDIR]      (Debian python3-torch; default OUTDIR tests/data)

Run once; both files are committed.  tests/test_convert_lavis.sh reads the .pth with tools/convert-lavis WITHOUT
torch and compares every tensor with what torch itself says here (lavis_tiny.json).

lavis_tiny.pth is saved the way LAVIS' runner saves a checkpoint: torch.save({"model": state_dict, "optimizer": ...,
"config": ..., "scaler": None, "epoch": 3}) with the zip serialization, the state dict an OrderedDict carrying
_metadata like nn.Module.state_dict().  Its tensors use LAVIS / SeViLA names and cover: float32, float16, bfloat16,
float64, int64, bool; a 0-dim tensor; an empty tensor; a transposed view, a sliced view with a storage offset and a
view with a step in its last dimension (three views of one shared storage); a float16 view at an offset of a longer
storage; an expanded tensor (stride 0) stored as an nn.Parameter (torch._utils._rebuild_parameter); special values
(±0, ±inf, NaN, float16 overflow and subnormals, bfloat16 rounding ties).

lavis_tiny.json holds, for each state-dict tensor: dtype (safetensors name), shape, stride, storage offset, "hex" =
torch's bytes of t.contiguous() (little-endian; bfloat16 as its 16-bit patterns), and for floating tensors "to" = the
hex of t.to(float32 / float16 / bfloat16) computed by torch (what --dtype must give).
"""
import collections
import json
import os
import sys

import torch

DT = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
      torch.int64: "I64", torch.int32: "I32", torch.bool: "BOOL"}


def raw_hex(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)
    return t.numpy().tobytes().hex()


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "tests", "data")
    torch.manual_seed(20240613)
    sd = collections.OrderedDict()
    sd["visual_encoder.cls_token"] = torch.randn(1, 1, 4)
    sd["visual_encoder.pos_embed"] = torch.randn(1, 3, 4)
    sd["visual_encoder.patch_embed.proj.weight"] = torch.randn(4, 3, 2, 2)
    sd["visual_encoder.blocks.0.attn.q_bias"] = torch.randn(4).to(torch.bfloat16)
    sd["visual_encoder.blocks.0.attn.v_bias"] = torch.randn(4).to(torch.bfloat16)
    base = torch.randn(4, 12)  # one storage, three views of it (none of them the whole storage)
    sd["visual_encoder.blocks.0.attn.qkv.weight"] = base.t()  # [12,4] stride (1,12)
    sd["visual_encoder.blocks.0.attn.proj.weight"] = base[1:3, 2:6]  # [2,4] offset 14 stride (12,1)
    sd["visual_encoder.blocks.0.mlp.fc1.weight"] = base.t()[::2]  # [6,4] stride (2,12)
    sd["ln_vision.weight"] = torch.randn(4).to(torch.float16)
    sd["ln_vision.bias"] = torch.tensor([0.0, -0.0, 1e-7, 65504.0]).to(torch.float16)
    long16 = torch.randn(20).to(torch.float16)
    sd["t5_proj.weight"] = long16[8:].view(3, 4)  # offset 8 in a 20-element storage
    sd["t5_proj.bias"] = torch.randn(3)
    sd["query_tokens"] = torch.nn.Parameter(torch.arange(4.0).expand(1, 3, 4))  # stride (0,0,1), a Parameter
    sd["Qformer.bert.embeddings.position_ids"] = torch.arange(5).expand((1, -1))
    sd["Qformer.bert.embeddings.LayerNorm.weight"] = torch.randn(4)
    sd["Qformer.cls.predictions.bias"] = torch.randn(3, dtype=torch.float64)
    sd["temp"] = torch.tensor(0.07)  # 0-dim
    sd["t5_proj_T.weight"] = torch.zeros(0, 4)  # empty
    sd["fs.mask"] = torch.tensor([True, False, True])
    special = [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 65504.0, 65519.0, 65520.0, 1e5, -1e5,
               6e-8, 3e-8, 1e-40, 3.4e38, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 1 + 2 ** -11, 1 + 3 * 2 ** -11,
               0.1]
    sd["t5_model.lm_head.weight"] = torch.tensor(special, dtype=torch.float32).view(5, 4)
    sd["t5_model.encoder.embed_tokens.weight"] = torch.randn(5, 4).to(torch.bfloat16)
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("visual_encoder", {"version": 1})])

    opt = {"state": {0: {"step": 3, "exp_avg": torch.randn(4), "exp_avg_sq": torch.rand(4)}},
           "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "weight_decay": 0.05, "params": [0]}]}
    ckpt = {"model": sd, "optimizer": opt, "config": {"run": {"task": "videoqa", "init_lr": 3e-5}},
            "scaler": None, "epoch": 3}
    pth = os.path.join(out_dir, "lavis_tiny.pth")
    torch.save(ckpt, pth)

    back = torch.load(pth, map_location="cpu")["model"]  # what torch reads is the reference
    want = collections.OrderedDict()
    for k, t in back.items():
        e = {"dtype": DT[t.dtype], "shape": list(t.shape), "stride": list(t.stride()),
             "storage_offset": t.storage_offset(), "hex": raw_hex(t)}
        if t.is_floating_point():
            e["to"] = {DT[d]: raw_hex(t.to(d)) for d in (torch.float32, torch.float16, torch.bfloat16)}
        want[k] = e
    meta = {"made_by": "tools/make-pth-fixture.py", "torch": torch.__version__,
            "top_level_keys": sorted(ckpt), "epoch": 3, "tensors": want}
    with open(os.path.join(out_dir, "lavis_tiny.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print("wrote %s (%d bytes), %d tensors" % (pth, os.path.getsize(pth), len(want)))


if __name__ == "__main__":
    main()
