#!/usr/bin/env python3
"""PyTorch CPU reference for `vlapbench bench-engine`: the same component shapes (read from the same config.json),
the same thread count, random weights, median wall time, the same FLOP counts; prints lines
    torch <component> <ms> ms <GFLOP/s> GFLOP/s
scaled to the full depth exactly as bench-engine does (--layers N blocks built).  Uses Debian's python3-torch if
present; otherwise prints "SKIP: ..." and exits 77.  PyTorch's CPU GEMMs go to the system OpenBLAS here (Debian's
build), so the kernel is the one vlapbench uses (OPENBLAS_CORETYPE applies to both)."""
import argparse, json, sys, time

try:
    import torch
except ImportError:
    print("SKIP: python3-torch not installed (apt-get install python3-torch)")
    sys.exit(77)

ap = argparse.ArgumentParser()
ap.add_argument("--config", required=True)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--frames", type=int, default=8)
ap.add_argument("--qformer-text", type=int, default=32)
ap.add_argument("--components", default="vit,qformer,t5enc,t5dec")
a = ap.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
cfg = json.load(open(a.config))
vc, tc = cfg["vision_config"], cfg["text_config"]
qc = cfg.get("qformer_config", {})
instruct = "instructblip" in cfg.get("model_type", "") or any("InstructBlip" in x for x in cfg.get("architectures") or [])


def med(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[len(ts) // 2] if len(ts) % 2 else 0.5 * (ts[len(ts) // 2 - 1] + ts[len(ts) // 2])


def lin(i, o, bias=True):
    m = torch.nn.Linear(i, o, bias=bias)
    torch.nn.init.uniform_(m.weight, -0.02, 0.02)
    return m


print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, config {a.config}")
with torch.no_grad():
    # ---- ViT-g blocks (pre-LN, fused qkv, exact GELU), n_frames * 257 rows per Linear ----
    D, I, H = vc["hidden_size"], vc["intermediate_size"], vc["num_attention_heads"]
    L_full = vc["num_hidden_layers"]
    P = vc.get("patch_size", 14)
    grid = vc.get("image_size", 224) // P
    N = grid * grid + 1
    dh = D // H
    L = min(a.layers, L_full)
    F = a.frames
    if "vit" in a.components:
        blocks = [dict(ln1=torch.nn.LayerNorm(D), qkv=lin(D, 3 * D), proj=lin(D, D), ln2=torch.nn.LayerNorm(D),
                       fc1=lin(D, I), fc2=lin(I, D)) for _ in range(L)]
        x0 = torch.randn(F, N, D)

        def vit():
            h = x0
            for b in blocks:
                q, k, v = b["qkv"](b["ln1"](h)).reshape(F, N, 3, H, dh).permute(2, 0, 3, 1, 4)
                s = torch.softmax((q * dh ** -0.5) @ k.transpose(-1, -2), dim=-1)
                h = h + b["proj"]((s @ v).transpose(1, 2).reshape(F, N, D))
                h = h + b["fc2"](torch.nn.functional.gelu(b["fc1"](b["ln2"](h))))
            return h

        sec = med(vit, a.reps) / F * L_full / L
        flop = L_full * (2.0 * N * (4.0 * D * D + 2.0 * D * I) + 4.0 * N * N * D) + 2.0 * (grid * grid) * 3 * P * P * D
        print(f"torch vit {sec * 1e3:.2f} ms {flop / sec / 1e9:.1f} GFLOP/s")
        del blocks

    # ---- Q-Former (post-LN BERT, full depth) + language projection over a batch of F frames, as the methods run it:
    # Q query tokens (+ Lq instruction tokens for InstructBLIP) self-attend; the query rows cross-attend to the N ViT
    # tokens of their frame every cross_attention_frequency layers; query rows and text rows have their own FFNs ----
    Dq, Iq, Hq = qc.get("hidden_size", 768), qc.get("intermediate_size", 3072), qc.get("num_attention_heads", 12)
    Lq_layers, freq = qc.get("num_hidden_layers", 12), qc.get("cross_attention_frequency", 2)
    Dv, Q, dq = qc.get("encoder_hidden_size", D), cfg.get("num_query_tokens", 32), Dq // Hq
    Lq = min(a.qformer_text, qc.get("max_position_embeddings", 512)) if instruct else 0
    S = Q + Lq
    dm = tc["d_model"]
    if "qformer" in a.components:
        qtok = torch.randn(1, Q, Dq)
        wemb, pemb = torch.randn(qc.get("vocab_size", 30522), Dq), torch.randn(S, Dq) * 0.1
        eln = torch.nn.LayerNorm(Dq, eps=1e-12)
        ids = torch.arange(F * Lq).reshape(F, Lq) * 7919 % qc.get("vocab_size", 30522)
        qlayers = []
        for l in range(Lq_layers):
            y = dict(qkv=lin(Dq, 3 * Dq), ao=lin(Dq, Dq), ln1=torch.nn.LayerNorm(Dq, eps=1e-12), iq=lin(Dq, Iq),
                     oq=lin(Iq, Dq), lnq=torch.nn.LayerNorm(Dq, eps=1e-12))
            if freq > 0 and l % freq == 0:
                y.update(cq=lin(Dq, Dq), ckv=lin(Dv, 2 * Dq), co=lin(Dq, Dq), lnc=torch.nn.LayerNorm(Dq, eps=1e-12))
            if Lq:
                y.update(it=lin(Dq, Iq), ot=lin(Iq, Dq), lnt=torch.nn.LayerNorm(Dq, eps=1e-12))
            qlayers.append(y)
        proj = lin(Dq, dm)
        img = torch.randn(F, N, Dv)

        def heads(x, n):  # (F, n, Dq) -> (F, Hq, n, dq)
            return x.reshape(F, n, Hq, dq).transpose(1, 2)

        def attn(q, k, v, nq, nk):
            s = torch.softmax((heads(q, nq) * dq ** -0.5) @ heads(k, nk).transpose(-1, -2), dim=-1)
            return (s @ heads(v, nk)).transpose(1, 2).reshape(F, nq, Dq)

        def qformer():
            h = qtok.expand(F, Q, Dq)
            if Lq:
                h = torch.cat([h, wemb[ids] + pemb[:Lq]], 1)
            h = eln(h)
            for y in qlayers:
                q, k, v = y["qkv"](h).split(Dq, -1)
                h = y["ln1"](h + y["ao"](attn(q, k, v, S, S)))
                hq = h[:, :Q]
                if "cq" in y:
                    k, v = y["ckv"](img).split(Dq, -1)
                    hq = y["lnc"](hq + y["co"](attn(y["cq"](hq), k, v, Q, N)))
                hq = y["lnq"](hq + y["oq"](torch.nn.functional.gelu(y["iq"](hq))))
                if Lq:
                    ht = h[:, Q:]
                    ht = y["lnt"](ht + y["ot"](torch.nn.functional.gelu(y["it"](ht))))
                    h = torch.cat([hq, ht], 1)
                else:
                    h = hq
            return proj(h[:, :Q])

        sec = med(qformer, a.reps) / F
        n_cross = sum(1 for l in range(Lq_layers) if freq > 0 and l % freq == 0)
        flop = (Lq_layers * (2.0 * S * Dq * 4 * Dq + 4.0 * S * S * Dq + 4.0 * S * Dq * Iq) +
                n_cross * (4.0 * Q * Dq * Dq + 4.0 * N * Dv * Dq + 4.0 * Q * N * Dq) + 2.0 * Q * Dq * dm)
        print(f"torch qformer {sec * 1e3:.2f} ms {flop / sec / 1e9:.1f} GFLOP/s")
        del qlayers

    # ---- T5 encoder blocks (RMS norm, no score scaling, relative bias, gated-gelu) + cross K/V ----
    d, inner, dff = tc["d_model"], tc["num_heads"] * tc["d_kv"], tc["d_ff"]
    Ht, dkv = tc["num_heads"], tc["d_kv"]
    gated = tc.get("feed_forward_proj", "relu").startswith("gated")
    ne, nd = tc["num_layers"], tc.get("num_decoder_layers") or tc["num_layers"]
    Lt = min(a.layers, ne, nd)
    ffw = dff * (3 if gated else 2)

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

    if "t5enc" in a.components:
        eb = [dict(n1=torch.ones(d), qkv=lin(d, 3 * inner, False), o=lin(inner, d, False), n2=torch.ones(d),
                   wi=lin(d, (2 if gated else 1) * dff, False), wo=lin(dff, d, False)) for _ in range(Lt)]
        ckv = lin(d, Lt * 2 * inner, False)
        for n in (128, 512):
            xe = torch.randn(n, d)
            bias = torch.randn(Ht, n, n)

            def enc():
                h = xe
                for b in eb:
                    q, k, v = b["qkv"](rms(h, b["n1"])).reshape(n, 3, Ht, dkv).permute(1, 2, 0, 3)
                    s = torch.softmax(q @ k.transpose(-1, -2) + bias, dim=-1)
                    h = h + b["o"]((s @ v).transpose(0, 1).reshape(n, inner))
                    u = b["wi"](rms(h, b["n2"]))
                    if gated:
                        u = torch.nn.functional.gelu(u[:, :dff], approximate="tanh") * u[:, dff:]
                    h = h + b["wo"](u)
                return ckv(h)

            sec = med(enc, a.reps) * ne / Lt
            flop = ne * (2.0 * n * d * (4.0 * inner + ffw) + 4.0 * n * n * inner) + nd * 2.0 * n * d * 2.0 * inner
            print(f"torch t5enc{n} {sec * 1e3:.2f} ms {flop / sec / 1e9:.1f} GFLOP/s")

    # ---- one cached decoder step (one row through every Linear, cache of 8 positions) ----
    if "t5dec" in a.components:
        db = [dict(qkv=lin(d, 3 * inner, False), o=lin(inner, d, False), cq=lin(d, inner, False),
                   co=lin(inner, d, False), wi=lin(d, (2 if gated else 1) * dff, False), wo=lin(dff, d, False),
                   ks=torch.randn(Ht, 8, dkv), vs=torch.randn(Ht, 8, dkv), kc=torch.randn(Ht, 64, dkv),
                   vc=torch.randn(Ht, 64, dkv)) for _ in range(Lt)]
        head = lin(d, tc["vocab_size"], False)
        x1 = torch.randn(1, d)

        def dec_blocks():
            h = x1
            for b in db:
                q, k, v = b["qkv"](rms(h, torch.ones(d))).reshape(3, Ht, 1, dkv)
                s = torch.softmax(q @ torch.cat([b["ks"], k], 1).transpose(-1, -2), dim=-1)
                h = h + b["o"]((s @ torch.cat([b["vs"], v], 1)).reshape(1, inner))
                q = b["cq"](rms(h, torch.ones(d))).reshape(Ht, 1, dkv)
                s = torch.softmax(q @ b["kc"].transpose(-1, -2), dim=-1)
                h = h + b["co"]((s @ b["vc"]).reshape(1, inner))
                u = b["wi"](rms(h, torch.ones(d)))
                if gated:
                    u = torch.nn.functional.gelu(u[:, :dff], approximate="tanh") * u[:, dff:]
                h = h + b["wo"](u)
            return h

        tb = med(dec_blocks, a.reps * 4)
        th = med(lambda: head(x1), a.reps * 4)
        sec = th + tb * nd / Lt
        flop = nd * 2.0 * d * (4.0 * inner + ffw) + 2.0 * d * tc["vocab_size"]
        print(f"torch t5dec {sec * 1e3:.2f} ms {flop / sec / 1e9:.1f} GFLOP/s")
