"""tools/train-demo: trains the demo's models (uniform BLIP-2, SeViLA, VLAP) from scratch on the synthetic event task
and writes Hugging Face-layout bundles (bf16 safetensors) exactly like `vlapbench init-model`.  See docs/demo.md."""
import argparse
import copy
import json
import math
import os
import random
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from . import data as D
from . import golden
from . import methods as X
from . import models as M

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DS = ["nextqa", "star", "vlep", "how2qa-value"]
CHANCE = {"nextqa": 0.2, "star": 0.25, "vlep": 0.5, "how2qa-value": 0.25}
RECIPE = "r3"  # in the phase cache names: a cache of another recipe version is never reused
GRADE_W = {2: 1.0, 1: 0.25, 0: 0.0}  # graded relevance: the event's first (large) card frame, a later (small) one


class Log:
    def __init__(s, path):
        s.f = open(path, "w")
        s.t0 = time.time()

    def __call__(s, msg):
        line = f"[{time.time() - s.t0:7.1f}s] {msg}"
        print(line, flush=True)
        s.f.write(line + "\n")
        s.f.flush()


def round_bf16_(module):
    """Round every parameter to the bf16 value the bundle will store (so later stages train on the shipped weights)."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(M.bf16_round(p))


def freeze(module):
    for p in module.parameters():
        p.requires_grad_(False)


# ---------------------------------------------------------------------------------------------------- features
def vit_features(vit, split, bs=32):
    """body features (n_rec, N, D) of every frame record, no grad."""
    out = []
    with torch.no_grad():
        for i in range(0, len(split.frames), bs):
            out.append(vit(split.pixels(list(range(i, min(i + bs, len(split.frames)))))))
    return torch.cat(out)


# ---------------------------------------------------------------------------------------------------- frame choice
def oracle_frames(rng, x, k, T_key="cand", p_card=0.8):
    """k ascending candidate frame records of sample x: with probability p_card at least one card frame (when the
    candidates have one), the rest drawn at random."""
    recs, rel = x[T_key + "_rec"], x["rel"]
    n = len(recs)
    pos = set()
    cards = [i for i in range(n) if rel[i]]
    if cards and rng.random() < p_card:
        pos.add(rng.choice(cards))
    while len(pos) < k:
        pos.add(rng.randrange(n))
    return [recs[i] for i in sorted(pos)]


def answer_frames(rng, x, k, p_card=0.75):
    """k ascending candidate frame records of sample x for the uniform / SeViLA answerer: with probability p_card one
    card frame plus k - 1 others drawn at random; otherwise k frames without the card (card-less sets, with the true
    answer as target, teach the answerer one guess, the training prior, whatever k is: so that uniform sampling's
    accuracy at k is its chance of seeing the card plus the same guess elsewhere)."""
    recs, rel = x["cand_rec"], x["rel"]
    n = len(recs)
    cards = [i for i in range(n) if rel[i]]
    none = [i for i in range(n) if not rel[i]]
    pos = set()
    if cards and rng.random() < p_card:
        pos.add(rng.choice(cards))
        while len(pos) < k:
            pos.add(rng.randrange(n))
    else:
        while len(pos) < k:
            pos.add(rng.choice(none))
    return [recs[i] for i in sorted(pos)]


def balanced_sampler(samples):
    """A draw function: a dataset uniformly, then an answer uniformly among that dataset's answers, then a sample with
    that answer (every colour as often, whatever the training split's counts: an answerer trained on the raw mix
    could collapse its least frequent colour onto another letter)."""
    by = {}
    for x in samples:
        by.setdefault(x["dataset"], {}).setdefault(x["answer"], []).append(x)
    keys = sorted(by)
    return lambda rng: (lambda d: rng.choice(d[rng.choice(sorted(d))]))(by[rng.choice(keys)])


def cached(a, name, log, rng, modules, hist_key, man):
    """A rerun with the same work directory and arguments reuses a finished phase (deterministic: same result)."""
    path = os.path.join(a.work, f"phase-{RECIPE}-{name}-{a.seed}-{a.scale}-{a.train_videos}-{a.train_questions}.pt")
    if not os.path.exists(path):
        return path, False
    c = torch.load(path)
    for k, m in modules.items():
        m.load_state_dict(c[k])
    rng.setstate(c["rng"])
    man["losses"][hist_key] = c["hist"]
    log(f"{name}: reusing {path}")
    return path, True


def save_phase(path, rng, modules, hist):
    d = {k: m.state_dict() for k, m in modules.items()}
    d["rng"] = rng.getstate()
    d["hist"] = hist
    torch.save(d, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vlapbench", default=os.path.join(ROOT, "build", "vlapbench"))
    ap.add_argument("--work", default="/tmp/vb-train-demo", help="scratch directory (synthetic splits, exports)")
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "demo"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-videos", type=int, default=80)
    ap.add_argument("--train-questions", type=int, default=4)
    ap.add_argument("--val-videos", type=int, default=16)
    ap.add_argument("--demo-videos", type=int, default=50)
    ap.add_argument("--demo-questions", type=int, default=2)
    ap.add_argument("--demo-seed", type=int, default=1, help="the synth seed of scripts/demo.sh")
    ap.add_argument("--demo-event-times", choices=["stratified", "iid"], default="stratified",
                    help="card times of the demo split, as scripts/demo.sh draws them (training and validation: iid)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every step count (quick runs: 0.1)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    os.makedirs(a.work, exist_ok=True)
    log = Log(os.path.join(a.work, "train.log"))
    vb = a.vlapbench
    man = {"generator": "tools/train-demo", "torch": torch.__version__, "threads": a.threads, "seed": a.seed,
           "args": vars(a), "losses": {}, "deviations": [], "golden": {}}

    # ---- 0. the torch modules against the HF goldens
    bad = golden.run(ROOT, log=log)
    if bad:
        raise SystemExit(f"torch modules disagree with the goldens: {bad}")
    man["golden"] = "tests/golden/{tiny,instruct-tiny,frame-prompter}: every output within 2e-4"

    # ---- 1. data: train / validation / demo splits from different seeds, tokenizers from the training text
    splits = {"train": (101, a.train_videos, a.train_questions), "val": (202, a.val_videos, 2),
              "demo": (a.demo_seed, a.demo_videos, a.demo_questions)}
    # the demo split is the evaluation split: its card times are stratified (every start still uniform over the
    # video, but evenly spread over its videos, so that uniform sampling sees the card on its expected share of
    # them); the training and validation splits draw each card time on its own (docs/demo.md)
    times = {"train": "iid", "val": "iid", "demo": a.demo_event_times}
    for name, (seed, nv, nq) in splits.items():
        D.synth(vb, os.path.join(a.work, name), nv, nq, seed, log, times[name])
    tok = os.path.join(a.out, "tokenizer")
    if os.path.exists(tok):
        shutil.rmtree(tok)
    D.tokenizer(vb, os.path.join(a.work, "train"), tok, log)
    S = {n: D.Split(vb, os.path.join(a.work, n), tok, os.path.join(a.work, n + "-export"), log) for n in splits}
    hdr = S["train"].hdr
    man["splits"] = {n: {"synth_seed": s[0], "videos": s[1], "questions_per_video": s[2], "event_times": times[n],
                         "samples": len(S[n].samples)} for n, s in splits.items()}
    cfg_b = json.load(open(os.path.join(ROOT, "configs", "demo-blip2.json")))
    cfg_i = json.load(open(os.path.join(ROOT, "configs", "demo-instructblip.json")))
    for c in (cfg_b, cfg_i):
        c["methods_bundle"] = {"ln_vision_eps": 1e-5}
    steps = lambda n: max(1, int(n * a.scale))

    # ---- 2. the shared frozen pair, part 1: the ViT, pre-trained on frames (colour of the card or "no card"; and a
    #         relevance head on the channel means of the ln_vision output, the only view VLAP's Frame-Prompter has)
    torch.manual_seed(a.seed + 1)
    blip = M.Blip2Parts(cfg_b, False)
    vit = blip.vision_model
    Dv = cfg_b["vision_config"]["hidden_size"]
    Nt = (cfg_b["vision_config"]["image_size"] // cfg_b["vision_config"]["patch_size"]) ** 2 + 1
    head_c = torch.nn.Linear(Dv, 9)
    head_r = torch.nn.Linear(Nt, 1)
    tr = S["train"]
    card_recs = [i for i in range(len(tr.frames)) if tr.rec_label[i]]
    other = [i for i in range(len(tr.frames)) if not tr.rec_label[i]]
    opt = torch.optim.AdamW(list(vit.parameters()) + list(head_c.parameters()) + list(head_r.parameters()), lr=2e-3,
                            weight_decay=0.01)
    n_vit = steps(100)
    hist = []
    cache = os.path.join(a.work, f"vit-{RECIPE}-{a.seed}-{n_vit}-{a.train_videos}-{a.train_questions}.pt")
    if os.path.exists(cache):  # a rerun with the same work directory: the ViT phase's result (deterministic)
        c = torch.load(cache)
        vit.load_state_dict(c["vit"])
        head_r.load_state_dict(c["head_r"])
        hist = c["hist"]
        rng.setstate(c["rng"])
        n_vit = 0
        log(f"vit: reusing {cache}")
    for it in range(n_vit):
        recs = [rng.choice(card_recs) for _ in range(8)] + [rng.choice(other) for _ in range(8)]
        ln = vit.post_layernorm(vit(tr.pixels(recs)))
        lc = F.cross_entropy(head_c(ln.mean(1)), torch.from_numpy(tr.rec_colour[recs]))
        # graded relevance: 1 for the event's first (large) card frame, 0.5 for a later (small) one, 0 elsewhere
        lr_ = F.binary_cross_entropy_with_logits(head_r(ln.mean(-1)).squeeze(-1),
                                                 torch.from_numpy(tr.rec_grade[recs]).float() / 2.0)
        loss = lc + lr_
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist.append(loss.item())
        if it % 20 == 0 or it == n_vit - 1:
            log(f"vit {it}/{n_vit}: colour {lc.item():.3f} relevance {lr_.item():.3f}")
    if n_vit:
        torch.save({"vit": vit.state_dict(), "head_r": head_r.state_dict(), "hist": hist, "rng": rng.getstate()}, cache)
    man["losses"]["vit"] = hist[::10] + hist[-1:]
    round_bf16_(vit)
    freeze(vit)
    feats = {}
    for n in S:
        feats[n] = vit_features(vit, S[n])
        log(f"features {n}: {tuple(feats[n].shape)}")
    lnf = {n: vit.post_layernorm(f) for n, f in feats.items()}

    # ---- 3. the shared frozen pair, part 2: Flan-T5, trained with the BLIP-2 answerer (Q-Former + projection) on
    #         QA ("Option X", frames that show the card 80 % of the time) and on SeViLA's frame-relevance prompt
    #         ("yes" / "no"), as Flan-T5 is instruction-tuned before BLIP-2 / SeViLA freeze it
    t5 = blip.language_model
    params = [p for n, p in blip.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=0.01)
    tgt = [hdr[f"target{j}"] for j in range(5)]
    n_t5 = steps(400)
    hist = []

    def qa_batch_uniform(model, split_name, B, p_text=0.0, p_card=0.75, draw=None):
        sp = S[split_name]
        xs = [draw(rng) if draw else rng.choice(sp.samples) for _ in range(B)]
        vis, qa, tg = [], [], []
        for x in xs:
            k = rng.choice([1, 1, 2, 4])
            if rng.random() < p_text:
                # text curriculum: the card's colour name (T5 embeddings) in place of one frame's visual tokens, so
                # that T5 first learns to match a colour against the options and letters
                cid = hdr["colour_ids"][sp.events[x["video"]][2]]
                vis.append([model.language_model.shared(torch.tensor(cid))])  # as one frame (k = 1)
            else:
                recs = answer_frames(rng, x, k, p_card)
                vis.append(X.blip2_visual(model, lnf[split_name][recs]))
            qa.append(x["qa_t5_77"])
            tg.append(tgt[x["answer"]])
        emb, mask = X.uniform_inputs(model.language_model, hdr, vis, qa)
        return X.target_loss(model.language_model, emb, mask, tg)

    def loc_batch(loc_parts, t5m, split_name, B):
        sp = S[split_name]
        xs = [rng.choice(sp.samples) for _ in range(B)]
        recs, ids, tg = [], [], []
        for j, x in enumerate(xs):
            rel = x["rel32"]
            cards = [i for i in range(len(rel)) if rel[i]]
            pos = rng.choice(cards) if (cards and j % 2 == 0) else rng.randrange(len(rel))
            recs.append(x["cand32_rec"][pos])
            ids.append(x["loc_t5_77"])
            tg.append(hdr["target_yes"] if rel[pos] else hdr["target_no"])
        vis = loc_parts(feats[split_name][recs])
        emb, mask = X.loc_inputs(t5m, hdr, list(vis), ids)
        return X.target_loss(t5m, emb, mask, [t[:1] for t in tg])  # step 0 only: the localizer reads step 0

    blip_loc = lambda f: blip.language_projection(blip.qformer(blip.query_tokens, blip.vision_model.post_layernorm(f)))
    cp, done = cached(a, "t5", log, rng, {"blip": blip}, "t5_blip2_answerer", man)
    if done:
        n_t5 = 0
    for it in range(n_t5):
        p_text = max(0.0, 0.5 * (1.0 - it / (0.6 * n_t5)))
        l1 = qa_batch_uniform(blip, "train", 8, p_text)
        l2 = loc_batch(blip_loc, t5, "train", 4) if it % 2 == 0 else torch.zeros(())
        loss = l1 + 0.5 * l2
        opt.zero_grad()
        loss.backward()
        opt.step()
        hist.append([l1.item(), l2.item()])
        if it % 50 == 0 or it == n_t5 - 1:
            log(f"t5+blip2 {it}/{n_t5}: qa {l1.item():.3f} loc {l2.item():.3f}")
    if n_t5:
        man["losses"]["t5_blip2_answerer"] = hist[::25] + hist[-1:]
        save_phase(cp, rng, {"blip": blip}, man["losses"]["t5_blip2_answerer"])
    round_bf16_(blip)

    # ---- 3b. a second stage of the same (T5 and the BLIP-2 answerer) on colour-balanced batches whose frame sets
    #          hold the card 90 % of the time: on the raw mix the answerer collapsed its least frequent colour (red,
    #          19 % of the training answers) onto another letter on every 4- and 5-option dataset; a Q-Former fine-tune
    #          through a frozen T5 did not undo that, training T5 on balanced batches did
    params = [p for n, p in blip.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    n_b2 = steps(500)
    hist = []
    draw = balanced_sampler(tr.samples)
    cp, done = cached(a, "b2ft", log, rng, {"blip": blip}, "t5_blip2_answerer_balanced", man)
    if done:
        n_b2 = 0
    for it in range(n_b2):
        l1 = qa_batch_uniform(blip, "train", 8, p_card=0.9, draw=draw)
        l2 = loc_batch(blip_loc, t5, "train", 4) if it % 4 == 0 else torch.zeros(())
        l = l1 + 0.5 * l2
        opt.zero_grad()
        l.backward()
        opt.step()
        hist.append([l1.item(), l2.item()])
        if it % 50 == 0 or it == n_b2 - 1:
            log(f"t5+blip2 balanced {it}/{n_b2}: qa {l1.item():.3f} loc {l2.item():.3f}")
    if n_b2:
        man["losses"]["t5_blip2_answerer_balanced"] = hist[::25] + hist[-1:]
        save_phase(cp, rng, {"blip": blip}, man["losses"]["t5_blip2_answerer_balanced"])
    round_bf16_(blip)
    freeze(blip)
    man["deviations"].append(
        "The frozen pair is trained here (no EVA-CLIP / Flan-T5 pre-training exists at this size): the ViT on frame "
        "labels (card colour or none; plus a relevance head on the channel means of ln_vision, the Frame-Prompter's "
        "only input), then Flan-T5 together with the BLIP-2 answerer on QA and on SeViLA's yes/no frame prompt, "
        "with a text curriculum: for the first 60 % of the steps (probability 0.5 falling to 0) a frame's visual "
        "tokens are replaced by the T5 embedding of the card's colour name, so that T5 learns to match a colour "
        "against the options before it must read it from the Q-Former.")
    man["deviations"].append(
        "Uniform BLIP-2 and SeViLA share one BLIP-2 answerer (as SeViLA's answerer is BLIP-2's), trained on frame "
        "sets of k = 1, 2 or 4 frames of which 75 % hold one card frame (the rest drawn at random) and 25 % hold "
        "none (target: the true answer, so it learns one guess for card-less frames at every k), then, with T5, "
        "500 more steps on colour-balanced batches (a dataset, then an answer uniformly) whose frame sets hold the "
        "card 90 % of the time (on the raw mix it read the least frequent colour, red, as another one); it is not "
        "fine-tuned on uniform samples.")

    # ---- 4. SeViLA's localizer: its own ln_vision, Q-Former, query tokens and projection (warm start: copies of the
    #         answerer's), trained on per-frame relevance labels (target "yes" on card frames, "no" elsewhere) through
    #         the frozen T5, as SeViLA's localizer is trained on pseudo-labelled keyframes
    loc = M.Localizer(cfg_b)
    with torch.no_grad():
        loc.vision_layernorm.load_state_dict(blip.vision_model.post_layernorm.state_dict())
        loc.query_tokens.copy_(blip.query_tokens)
        loc.qformer.load_state_dict(blip.qformer.state_dict())
        loc.language_projection.load_state_dict(blip.language_projection.state_dict())
    for p in loc.parameters():
        p.requires_grad_(True)
    opt = torch.optim.AdamW(loc.parameters(), lr=1e-3, weight_decay=0.01)
    loc_fn = lambda f: loc.language_projection(loc.qformer(loc.query_tokens, loc.vision_layernorm(f)))
    n_loc = steps(300)
    hist = []

    def loc_graded_batch(B):
        """B videos x 4 frames (the first card frame, a later card frame, two distractors): pointwise "yes" / "no"
        at step 0, plus graded relevance as listwise cross-entropies of the raw "yes" logits (SeViLA's ranking
        score): the first card frame above the other three, the later card frame above the distractors."""
        xs = [rng.choice(tr.samples) for _ in range(B)]
        recs, ids, tg = [], [], []
        for x in xs:
            g = x["grade32"]
            first = g.index(2)
            later = [i for i in range(len(g)) if g[i] == 1]
            none = [i for i in range(len(g)) if g[i] == 0]
            d = rng.sample(none, 3)
            pos = [first, rng.choice(later) if later else d[2], d[0], d[1]]
            for i in pos:
                recs.append(x["cand32_rec"][i])
                ids.append(x["loc_t5_77"])
                tg.append(hdr["target_yes"][0] if g[i] else hdr["target_no"][0])
        vis = loc_fn(feats["train"][recs])
        emb, mask = X.loc_inputs(t5, hdr, list(vis), ids)
        enc = t5.encode(emb, mask)
        l0 = t5.decode(torch.zeros(len(recs), 1, dtype=torch.long), enc, mask)[:, 0]  # (4B, V) step-0 logits
        point = F.cross_entropy(l0, torch.tensor(tg))
        y = l0[:, hdr["yes_id"]].reshape(B, 4)
        zero = torch.zeros(B, dtype=torch.long)
        lst = F.cross_entropy(y, zero) + F.cross_entropy(y[:, 1:], zero)
        return point, lst

    cp, done = cached(a, "loc", log, rng, {"loc": loc}, "sevila_localizer", man)
    if done:
        n_loc = 0
    for it in range(n_loc):
        lp, ll = loc_graded_batch(8)
        l = lp + ll
        opt.zero_grad()
        l.backward()
        opt.step()
        hist.append([lp.item(), ll.item()])
        if it % 50 == 0 or it == n_loc - 1:
            log(f"localizer {it}/{n_loc}: yes/no {lp.item():.3f} ranking {ll.item():.3f}")
    if n_loc:
        man["losses"]["sevila_localizer"] = hist[::25] + hist[-1:]
        save_phase(cp, rng, {"loc": loc}, man["losses"]["sevila_localizer"])
    round_bf16_(loc)
    freeze(loc)
    man["deviations"].append(
        "SeViLA's localizer starts from copies of the answerer's Q-Former, query tokens, projection and ln_vision "
        "(warm start) and is trained for 300 steps (8 videos x 4 frames) with true per-frame labels: step-0 "
        "\"yes\" on card frames, \"no\" elsewhere, plus graded relevance (listwise cross-entropy of the raw "
        "\"yes\" logits, its ranking score: the event's first, large card frame above the later, small one, and "
        "that above distractors), so that its top-1 has a clear margin instead of a float-rounding tie between two "
        "card frames.")

    # ---- 5. VLAP: the InstructBLIP answerer (Q-Former reading the QA prompt + projection; warm start: the BLIP-2
    #         answerer's query tokens, attention, cross-attention and query FFN, fresh text embeddings and text FFN),
    #         first on frames that show the card 80 % of the time, then one Frame-Prompter per (k, T) trained
    #         through the frozen answerer with straight-through Gumbel-softmax at ViLA's temperature schedule
    torch.manual_seed(a.seed + 2)
    ib = M.Blip2Parts(cfg_i, True)
    ib.vision_model.load_state_dict(blip.vision_model.state_dict())
    ib.language_model.load_state_dict(blip.language_model.state_dict())
    with torch.no_grad():
        ib.query_tokens.copy_(blip.query_tokens)
        ib.language_projection.load_state_dict(blip.language_projection.state_dict())
        src = blip.qformer.state_dict()
        dst = ib.qformer.state_dict()
        for k_ in dst:
            if k_ in src:
                dst[k_].copy_(src[k_])
        dst["embeddings.layernorm.weight"].copy_(src["layernorm.weight"])
        dst["embeddings.layernorm.bias"].copy_(src["layernorm.bias"])
        for l in ib.qformer.encoder.layer:
            l.intermediate.load_state_dict(l.intermediate_query.state_dict())
            l.output.load_state_dict(l.output_query.state_dict())
    freeze(ib.vision_model)
    freeze(ib.language_model)
    ib_params = [p for n, p in ib.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(ib_params, lr=1e-3, weight_decay=0.01)
    n_ib = steps(300)
    hist = []
    cp, done = cached(a, "ib", log, rng, {"ib": ib}, "vlap_answerer_warmup", man)
    if done:
        n_ib = 0
    for it in range(n_ib):
        xs = [draw(rng) for _ in range(8)]  # colour-balanced, as the BLIP-2 answerer's second stage
        vis, qa, tg = [], [], []
        for x in xs:
            k = rng.choice([1, 2, 4])
            recs = oracle_frames(rng, x, k)
            vis.append(X.instruct_visual(ib, lnf["train"][recs], [x["qa_bert"]] * k))
            qa.append(x["qa_t5_full"])
            tg.append(tgt[x["answer"]])
        emb, mask = X.vlap_inputs(ib.language_model, vis, qa)
        l = X.target_loss(ib.language_model, emb, mask, tg)
        opt.zero_grad()
        l.backward()
        opt.step()
        hist.append(l.item())
        if it % 50 == 0 or it == n_ib - 1:
            log(f"instructblip {it}/{n_ib}: {l.item():.3f}")
    if n_ib:
        man["losses"]["vlap_answerer_warmup"] = hist[::25] + hist[-1:]
        save_phase(cp, rng, {"ib": ib}, man["losses"]["vlap_answerer_warmup"])
    round_bf16_(ib)
    freeze(ib)
    man["deviations"].append(
        "VLAP's InstructBLIP answerer is warmed up on colour-balanced batches of frame sets that show the card 80 % of the time (ViLA starts "
        "from a fine-tuned uniform InstructBLIP model) and then kept frozen while each Frame-Prompter trains.")

    prompters = {}
    n_fp = steps(100)
    for T, key_ds in ((32, [d for d in DS if d != "how2qa-value"]), (8, ["how2qa-value"])):
        pool = [x for x in tr.samples if x["dataset"] in key_ds]
        for k in (1, 2, 4):
            torch.manual_seed(a.seed + 100 + 10 * T + k)
            fp = M.FramePrompter(Nt, k, T)
            with torch.no_grad():  # warm start: each output reads its own frame's gates with the ViT relevance head
                f_ = T // k
                fp.fc1.weight.zero_()
                for j in range(f_):
                    fp.fc1.weight[j, j * Nt:(j + 1) * Nt] = head_r.weight[0]
                fp.fc1.bias.fill_(head_r.bias.item())
                fp.fc2.weight.copy_(torch.eye(f_))
                fp.fc2.bias.zero_()
            opt = torch.optim.AdamW(fp.parameters(), lr=3e-3, weight_decay=0.0)
            hist = []
            epochs = 10.0  # ViLA: max_epoch 10 of a 50-epoch exponential decay from 1 to 0.01
            for it in range(n_fp):
                tau = 0.01 ** (epochs * it / n_fp / 50.0)
                xs = [rng.choice(pool) for _ in range(8)]
                lnT = torch.stack([lnf["train"][x["cand_rec"]] for x in xs])  # (B, T, N, D)
                logits = fp(lnT)  # (B, S, T/S)
                mask = M.gumbel_st(logits, tau)  # hard one-hot per segment, soft gradient
                seg = lnT.reshape(len(xs), k, T // k, *lnT.shape[2:])
                sel = torch.einsum("bsf,bsfnd->bsnd", mask, seg)  # (B, k, N, D): the picked frame per segment
                vis = [X.instruct_visual(ib, sel[b], [x["qa_bert"]] * k) for b, x in enumerate(xs)]
                emb, m_ = X.vlap_inputs(ib.language_model, vis, [x["qa_t5_full"] for x in xs])
                lqa = X.target_loss(ib.language_model, emb, m_, [tgt[x["answer"]] for x in xs])
                # auxiliary relevance loss: in the segment that holds the card, its frames are the targets
                # (graded: the event's first card frame weighs 1, a later one 0.25)
                rel = torch.tensor([[GRADE_W[g] for g in x["grade"]] for x in xs]).reshape(len(xs), k, T // k)
                has = rel.sum(-1) > 0
                laux = torch.zeros(())
                if has.any():
                    lsm = F.log_softmax(logits, dim=-1)
                    laux = -((lsm * rel).sum(-1) / rel.sum(-1).clamp(min=1))[has].mean()
                loss = lqa + laux
                opt.zero_grad()
                loss.backward()
                opt.step()
                hist.append([lqa.item(), laux.item(), tau])
                if it % 50 == 0 or it == n_fp - 1:
                    log(f"frame-prompter k={k} T={T} {it}/{n_fp}: qa {lqa.item():.3f} aux {laux.item():.3f} "
                        f"tau {tau:.3f}")
            round_bf16_(fp)
            freeze(fp)
            prompters[(k, T)] = fp
            man["losses"][f"frame_prompter_k{k}_T{T}"] = hist[::25] + hist[-1:]
    man["deviations"].append(
        "Each Frame-Prompter starts from the ViT pre-training's relevance head (fc1 reads each frame's channel-mean "
        "gates with that head's weights, fc2 = identity; that head is trained with graded targets: 1 for the event's "
        "first card frame, 0.5 for a later one) and adds an auxiliary relevance loss (cross-entropy of its segment "
        "logits towards the card frames of the segment that holds them, the first weighted 1, a later one 0.25) to "
        "the QA loss, and trains for 100 steps of batch 8 with the "
        "temperature of ViLA's schedule (1 -> 0.01 over 50 epochs, stopped at epoch 10: tau 1 -> 0.40); the "
        "QFormer-Distiller (teacher on all T frames) is not used.")

    # ---- 6. bundles, evaluation, manifest
    from .bundles import write_bundles
    from .evaluate import evaluate
    bundles = write_bundles(a, log, tok, blip, loc, ib, prompters, cfg_b, cfg_i)
    man["bundles"] = bundles
    res = {}
    for n in ("val", "demo"):
        res[n] = evaluate(S[n], a.out, n, log, write=(n == "demo"))
    man["accuracy_pytorch"] = res
    man["chance"] = CHANCE
    man["train_seconds"] = round(time.time() - log.t0, 1)
    json.dump(man, open(os.path.join(a.out, "manifest.json"), "w"), indent=1)
    log(f"done in {man['train_seconds']} s; manifest {os.path.join(a.out, 'manifest.json')}")


if __name__ == "__main__":
    main()
