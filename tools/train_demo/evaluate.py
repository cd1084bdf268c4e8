"""PyTorch evaluation of the written bundles (read back from their bf16 safetensors) on an exported split, with the
C engine's protocol (methods.py).  For the demo split it writes models/demo/fidelity-demo.tsv: per dataset, sample,
method and k the picked frames, the prediction and the option scores, which tests/test_demo_fidelity.sh compares
with the C engine's."""
import json
import os

import torch

from . import methods as X
from . import models as M

DS = ["nextqa", "star", "vlep", "how2qa-value"]


def load(out, name, instruct, localizer=False, fp=None):
    d = os.path.join(out, name)
    cfg = json.load(open(os.path.join(d, "config.json")))
    W = M.st_read(os.path.join(d, "model.safetensors"))
    m = M.Blip2Parts(cfg, instruct)
    M.load_hf_state(m, W)
    extra = None
    if localizer:
        extra = M.Localizer(cfg)
        M.load_hf_state(extra, W, prefix="localizer.")
    if fp:
        k, T = fp
        Nt = cfg["methods_bundle"]["vision_tokens_per_frame"]
        extra = M.FramePrompter(Nt, k, T)
        M.load_hf_state(extra, W, prefix="frame_prompter.")
    for p in m.parameters():
        p.requires_grad_(False)
    return m, extra


def chunks(xs, n):
    for i in range(0, len(xs), n):
        yield xs[i:i + n]


def evaluate(split, out, name, log, write=False):
    hdr = split.hdr
    letters = hdr["letter_ids"]
    rows = []
    acc = {}
    with torch.no_grad():
        uni, _ = load(out, "uniform", False)
        sev, loc = load(out, "sevila", False, localizer=True)
        body = torch.cat([uni.vision_model(split.pixels(list(range(i, min(i + 32, len(split.frames))))))
                          for i in range(0, len(split.frames), 32)])
        ln = uni.vision_model.post_layernorm(body)
        loc_memo = {}
        for ds in DS:
            xs = [x for x in split.samples if x["dataset"] == ds]
            # uniform BLIP-2
            for k in (1, 2, 4):
                res = []
                for c in chunks(xs, 32):
                    vis = [X.blip2_visual(uni, ln[x[f"uniform{k}_rec"]]) for x in c]
                    emb, mask = X.uniform_inputs(uni.language_model, hdr, vis, [x["qa_t5_77"] for x in c])
                    res += X.readout(uni.language_model, emb, mask, letters, [min(x["n_options"], 5) for x in c], 1.0)
                for x, (sc, p, t0) in zip(xs, res):
                    rows.append((ds, x["key"], "uniform", k, x[f"uniform{k}"], p, sc, x["answer"]))
            # SeViLA: localizer once per sample, then the answerer on the top-k
            lsc = []
            for x in xs:  # (two questions of a video with the same frames and prompt score once)
                key = (tuple(x["cand32_rec"]), tuple(x["loc_t5_77"]))
                if key not in loc_memo:
                    f = loc.vision_layernorm(body[x["cand32_rec"]])
                    v = loc.language_projection(loc.qformer(loc.query_tokens, f))
                    emb, mask = X.loc_inputs(sev.language_model, hdr, list(v), [x["loc_t5_77"]] * len(v))
                    loc_memo[key] = X.loc_scores(sev.language_model, emb, mask, hdr["yes_id"]).tolist()
                lsc.append(loc_memo[key])
            for k in (1, 2, 4):
                picks = [X.topk_sorted(s, k) for s in lsc]
                res = []
                for c0 in range(0, len(xs), 32):
                    c = xs[c0:c0 + 32]
                    vis = [X.blip2_visual(sev, ln[[x["cand32_rec"][i] for i in picks[c0 + j]]])
                           for j, x in enumerate(c)]
                    emb, mask = X.uniform_inputs(sev.language_model, hdr, vis, [x["qa_t5_77"] for x in c])
                    res += X.readout(sev.language_model, emb, mask, letters, [min(x["n_options"], 5) for x in c], 1.0)
                for x, pk, (sc, p, t0) in zip(xs, picks, res):
                    rows.append((ds, x["key"], "sevila", k, [x["cand32"][i] for i in pk], p, sc, x["answer"]))
            # VLAP: Frame-Prompter argmax per segment, InstructBLIP answerer
            T = len(xs[0]["cand"]) if xs else 32
            for k in (1, 2, 4):
                ib, fp = load(out, f"vlap-k{k}-T{T}", True, fp=(k, T))
                res, picks = [], []
                for c in chunks(xs, 32):
                    lnT = torch.stack([ln[x["cand_rec"]] for x in c])
                    lg = fp(lnT)
                    pk = [[s * (T // k) + X.first_argmax(lg[b, s].tolist()) for s in range(k)] for b in range(len(c))]
                    vis = [X.instruct_visual(ib, ln[[x["cand_rec"][i] for i in pk[j]]], [x["qa_bert"]] * k)
                           for j, x in enumerate(c)]
                    emb, mask = X.vlap_inputs(ib.language_model, vis, [x["qa_t5_full"] for x in c])
                    res += X.readout(ib.language_model, emb, mask, letters, [5] * len(c), 1.5)
                    picks += pk
                for x, pk, (sc, p, t0) in zip(xs, picks, res):
                    rows.append((ds, x["key"], "vlap", k, [x["cand"][i] for i in pk], p, sc, x["answer"]))
    for ds, key, meth, k, pk, p, sc, ans in rows:
        a = acc.setdefault(ds, {}).setdefault(f"{meth}-k{k}", [0, 0])
        a[0] += int(p == ans)
        a[1] += 1
    summary = {ds: {m: round(100.0 * c / n, 2) for m, (c, n) in v.items()} for ds, v in acc.items()}
    for ds, v in summary.items():
        log(f"pytorch {name} {ds}: " + ", ".join(f"{m} {a:.1f}" for m, a in v.items()))
    if write:
        with open(os.path.join(out, f"fidelity-{name}.tsv"), "w") as f:
            f.write("# tools/train-demo: PyTorch evaluation of the committed bundles on the demo split "
                    "(dataset, sample key, method, k, picked frames, prediction, option scores)\n")
            if getattr(split, "stamp", None):
                f.write(f"# split: {split.stamp}\n")
            for ds, key, meth, k, pk, p, sc, ans in rows:
                f.write(f"{ds}\t{key}\t{meth}\t{k}\t{','.join(str(i) for i in pk)}\t{p}\t"
                        f"{','.join('%.6g' % v for v in sc)}\n")
    return summary
