"""Plain-torch re-implementations of the Hugging Face modules vlapbench's C engine implements, with Hugging Face
parameter names (so state_dict() is the bundle layout): EVA ViT (Blip2VisionModel), BLIP-2 / InstructBLIP Q-Former,
language projection, Flan-T5 (gated GELU, relative position buckets), the VLAP Frame-Prompter (ViLA FrameSelector)
and SeViLA's localizer parts.  Validated against tests/golden/{tiny,instruct-tiny,frame-prompter} (golden.py)."""
import json
import math
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def gelu(x):
    return F.gelu(x)  # exact erf GELU (LAVIS / SeViLA / ViLA set dense_act_fn = "gelu")


# ---------------------------------------------------------------------------------------------------- EVA ViT
class VitAttention(nn.Module):
    def __init__(s, D, H):
        super().__init__()
        s.H = H
        s.qkv = nn.Linear(D, 3 * D, bias=False)
        s.q_bias = nn.Parameter(torch.zeros(D))
        s.v_bias = nn.Parameter(torch.zeros(D))  # EVA: no k bias (qkv.bias = [q_bias, 0, v_bias])
        s.projection = nn.Linear(D, D)

    def forward(s, x):
        B, N, D = x.shape
        dh = D // s.H
        b = torch.cat([s.q_bias, torch.zeros_like(s.q_bias), s.v_bias])
        q, k, v = F.linear(x, s.qkv.weight, b).reshape(B, N, 3, s.H, dh).permute(2, 0, 3, 1, 4)
        a = torch.softmax((q * dh ** -0.5) @ k.transpose(-1, -2), dim=-1)
        return s.projection((a @ v).permute(0, 2, 1, 3).reshape(B, N, D))


class VitMlp(nn.Module):
    def __init__(s, D, I):
        super().__init__()
        s.fc1 = nn.Linear(D, I)
        s.fc2 = nn.Linear(I, D)

    def forward(s, x):
        return s.fc2(gelu(s.fc1(x)))


class VitLayer(nn.Module):
    def __init__(s, D, I, H, eps):
        super().__init__()
        s.layer_norm1 = nn.LayerNorm(D, eps=eps)
        s.self_attn = VitAttention(D, H)
        s.layer_norm2 = nn.LayerNorm(D, eps=eps)
        s.mlp = VitMlp(D, I)

    def forward(s, x):
        x = x + s.self_attn(s.layer_norm1(x))
        return x + s.mlp(s.layer_norm2(x))


class VitEmbeddings(nn.Module):
    def __init__(s, D, p, S):
        super().__init__()
        n = (S // p) ** 2 + 1
        s.class_embedding = nn.Parameter(torch.randn(1, 1, D) * 0.02)
        s.patch_embedding = nn.Conv2d(3, D, p, p)
        s.position_embedding = nn.Parameter(torch.randn(1, n, D) * 0.02)

    def forward(s, px):
        e = s.patch_embedding(px).flatten(2).transpose(1, 2)
        e = torch.cat([s.class_embedding.expand(px.shape[0], -1, -1), e], dim=1)
        return e + s.position_embedding


class VitEncoder(nn.Module):
    def __init__(s, vc):
        super().__init__()
        s.layers = nn.ModuleList([VitLayer(vc["hidden_size"], vc["intermediate_size"], vc["num_attention_heads"],
                                           vc.get("layer_norm_eps", 1e-6)) for _ in range(vc["num_hidden_layers"])])


class VisionModel(nn.Module):
    """forward -> body (F, N, D): the ViT output before post_layernorm (what the C engine caches)."""

    def __init__(s, vc, ln_vision_eps):
        super().__init__()
        s.embeddings = VitEmbeddings(vc["hidden_size"], vc["patch_size"], vc["image_size"])
        s.encoder = VitEncoder(vc)
        s.post_layernorm = nn.LayerNorm(vc["hidden_size"], eps=ln_vision_eps)

    def forward(s, px, layer_outputs=None):
        x = s.embeddings(px)
        for l in s.encoder.layers:
            x = l(x)
            if layer_outputs is not None:
                layer_outputs.append(x)
        return x


# ---------------------------------------------------------------------------------------------------- Q-Former
class BertSelfAttention(nn.Module):
    def __init__(s, D, Dk, H):
        super().__init__()
        s.H = H
        s.query = nn.Linear(D, D)
        s.key = nn.Linear(Dk, D)
        s.value = nn.Linear(Dk, D)

    def forward(s, x, kv, mask_add=None):
        B, N, D = x.shape
        M = kv.shape[1]
        dh = D // s.H
        q = s.query(x).reshape(B, N, s.H, dh).transpose(1, 2)
        k = s.key(kv).reshape(B, M, s.H, dh).transpose(1, 2)
        v = s.value(kv).reshape(B, M, s.H, dh).transpose(1, 2)
        sc = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
        if mask_add is not None:
            sc = sc + mask_add
        return (torch.softmax(sc, dim=-1) @ v).transpose(1, 2).reshape(B, N, D)


class DenseLN(nn.Module):
    def __init__(s, i, o, eps):
        super().__init__()
        s.dense = nn.Linear(i, o)
        s.LayerNorm = nn.LayerNorm(o, eps=eps)

    def forward(s, h, res):
        return s.LayerNorm(s.dense(h) + res)


class Dense(nn.Module):
    def __init__(s, i, o):
        super().__init__()
        s.dense = nn.Linear(i, o)

    def forward(s, x):
        return gelu(s.dense(x))


class BertAttention(nn.Module):
    def __init__(s, D, Dk, H, eps):
        super().__init__()
        s.attention = BertSelfAttention(D, Dk, H)
        s.output = DenseLN(D, D, eps)

    def forward(s, x, kv, mask_add=None):
        return s.output(s.attention(x, kv, mask_add), x)


class QFormerLayer(nn.Module):
    def __init__(s, qc, idx, text):
        super().__init__()
        D, I, H, eps = qc["hidden_size"], qc["intermediate_size"], qc["num_attention_heads"], qc.get(
            "layer_norm_eps", 1e-12)
        s.attention = BertAttention(D, D, H, eps)
        s.has_cross = idx % qc.get("cross_attention_frequency", 2) == 0
        if s.has_cross:
            s.crossattention = BertAttention(D, qc["encoder_hidden_size"], H, eps)
        s.text = text
        if text:
            s.intermediate = Dense(D, I)
            s.output = DenseLN(I, D, eps)
        s.intermediate_query = Dense(D, I)
        s.output_query = DenseLN(I, D, eps)

    def forward(s, x, Q, img, mask_add):
        a = s.attention(x, x, mask_add)
        q = a[:, :Q]
        if s.has_cross:
            q = s.crossattention(q, img)
        q = s.output_query(s.intermediate_query(q), q)
        if a.shape[1] > Q:
            t = a[:, Q:]
            t = s.output(s.intermediate(t), t)
            q = torch.cat([q, t], dim=1)
        return q


class QFormerEncoder(nn.Module):
    def __init__(s, qc, text):
        super().__init__()
        s.layer = nn.ModuleList([QFormerLayer(qc, i, text) for i in range(qc["num_hidden_layers"])])


class QFormerTextEmbeddings(nn.Module):
    def __init__(s, qc):
        super().__init__()
        D = qc["hidden_size"]
        s.word_embeddings = nn.Embedding(qc["vocab_size"], D)
        s.position_embeddings = nn.Embedding(qc.get("max_position_embeddings", 512), D)
        s.layernorm = nn.LayerNorm(D, eps=qc.get("layer_norm_eps", 1e-12))


class QFormer(nn.Module):
    """BLIP-2 (text=False: query tokens only, qformer.layernorm) or InstructBLIP (text=True: word + position
    embeddings of the prompt after the queries, qformer.embeddings.layernorm).  forward -> (B, Q(+L), D)."""

    def __init__(s, qc, text):
        super().__init__()
        s.text = text
        if text:
            s.embeddings = QFormerTextEmbeddings(qc)
        else:
            s.layernorm = nn.LayerNorm(qc["hidden_size"], eps=qc.get("layer_norm_eps", 1e-12))
        s.encoder = QFormerEncoder(qc, text)

    def forward(s, query, img, ids=None, text_mask=None, layer_outputs=None):
        B, Q = img.shape[0], query.shape[1]
        x = query.expand(B, -1, -1)
        mask_add = None
        if s.text and ids is not None:
            L = ids.shape[1]
            e = s.embeddings.word_embeddings(ids) + s.embeddings.position_embeddings(
                torch.arange(L, device=ids.device))[None]
            x = s.embeddings.layernorm(torch.cat([x, e], dim=1))
            if text_mask is not None:
                m = torch.cat([torch.ones(B, Q, dtype=text_mask.dtype), text_mask], dim=1)
                mask_add = ((1.0 - m.float()) * -10000.0)[:, None, None, :]
        elif s.text:
            x = s.embeddings.layernorm(x)
        else:
            x = s.layernorm(x)
        for l in s.encoder.layer:
            x = l(x, Q, img, mask_add)
            if layer_outputs is not None:
                layer_outputs.append(x)
        return x


# ---------------------------------------------------------------------------------------------------- T5
def rel_bucket(rel, bidirectional, nb, maxd):
    ret = torch.zeros_like(rel)
    if bidirectional:
        nb //= 2
        ret = ret + (rel > 0).long() * nb
        rel = rel.abs()
    else:
        rel = -torch.min(rel, torch.zeros_like(rel))
    max_exact = nb // 2
    small = rel < max_exact
    large = max_exact + (torch.log(rel.float() / max_exact) / math.log(maxd / max_exact) * (nb - max_exact)).long()
    large = torch.min(large, torch.full_like(large, nb - 1))
    return ret + torch.where(small, rel, large)


class T5Attention(nn.Module):
    def __init__(s, tc, bias, bidirectional):
        super().__init__()
        d, H, dk = tc["d_model"], tc["num_heads"], tc["d_kv"]
        s.H, s.dk, s.bidir = H, dk, bidirectional
        s.nb, s.maxd = tc.get("relative_attention_num_buckets", 32), tc.get("relative_attention_max_distance", 128)
        s.q = nn.Linear(d, H * dk, bias=False)
        s.k = nn.Linear(d, H * dk, bias=False)
        s.v = nn.Linear(d, H * dk, bias=False)
        s.o = nn.Linear(H * dk, d, bias=False)
        if bias:
            s.relative_attention_bias = nn.Embedding(s.nb, H)

    def position_bias(s, n, m):
        ctx = torch.arange(n)[:, None]
        mem = torch.arange(m)[None, :]
        b = rel_bucket(mem - ctx, s.bidir, s.nb, s.maxd)
        return s.relative_attention_bias(b).permute(2, 0, 1)[None]  # (1, H, n, m)

    def forward(s, x, kv, bias_add):
        B, N, _ = x.shape
        M = kv.shape[1]
        q = s.q(x).reshape(B, N, s.H, s.dk).transpose(1, 2)
        k = s.k(kv).reshape(B, M, s.H, s.dk).transpose(1, 2)
        v = s.v(kv).reshape(B, M, s.H, s.dk).transpose(1, 2)
        sc = q @ k.transpose(-1, -2) + bias_add  # T5: no 1/sqrt(d) scaling
        return s.o((torch.softmax(sc.float(), dim=-1) @ v).transpose(1, 2).reshape(B, N, s.H * s.dk))


class T5LayerNorm(nn.Module):
    def __init__(s, d, eps):
        super().__init__()
        s.weight = nn.Parameter(torch.ones(d))
        s.eps = eps

    def forward(s, x):
        return s.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + s.eps))


class T5SelfAttnLayer(nn.Module):
    def __init__(s, tc, bias, bidir):
        super().__init__()
        s.SelfAttention = T5Attention(tc, bias, bidir)
        s.layer_norm = T5LayerNorm(tc["d_model"], tc.get("layer_norm_epsilon", 1e-6))


class T5CrossLayer(nn.Module):
    def __init__(s, tc):
        super().__init__()
        s.EncDecAttention = T5Attention(tc, False, True)
        s.layer_norm = T5LayerNorm(tc["d_model"], tc.get("layer_norm_epsilon", 1e-6))


class GatedFF(nn.Module):
    def __init__(s, d, f):
        super().__init__()
        s.wi_0 = nn.Linear(d, f, bias=False)
        s.wi_1 = nn.Linear(d, f, bias=False)
        s.wo = nn.Linear(f, d, bias=False)

    def forward(s, x):
        return s.wo(gelu(s.wi_0(x)) * s.wi_1(x))


class T5FFLayer(nn.Module):
    def __init__(s, tc):
        super().__init__()
        s.DenseReluDense = GatedFF(tc["d_model"], tc["d_ff"])
        s.layer_norm = T5LayerNorm(tc["d_model"], tc.get("layer_norm_epsilon", 1e-6))


class T5Block(nn.Module):
    def __init__(s, tc, first, decoder):
        super().__init__()
        s.decoder = decoder
        ls = [T5SelfAttnLayer(tc, first, not decoder)]
        if decoder:
            ls.append(T5CrossLayer(tc))
        ls.append(T5FFLayer(tc))
        s.layer = nn.ModuleList(ls)

    def forward(s, x, self_bias, enc=None, cross_bias=None):
        l0 = s.layer[0]
        h = l0.layer_norm(x)
        x = x + l0.SelfAttention(h, h, self_bias)
        if s.decoder:
            l1 = s.layer[1]
            x = x + l1.EncDecAttention(l1.layer_norm(x), enc, cross_bias)
        lf = s.layer[-1]
        return x + lf.DenseReluDense(lf.layer_norm(x))


class T5Stack(nn.Module):
    def __init__(s, tc, decoder):
        super().__init__()
        n = tc["num_decoder_layers"] if decoder else tc["num_layers"]
        s.block = nn.ModuleList([T5Block(tc, i == 0, decoder) for i in range(n)])
        s.final_layer_norm = T5LayerNorm(tc["d_model"], tc.get("layer_norm_epsilon", 1e-6))


class T5(nn.Module):
    def __init__(s, tc):
        super().__init__()
        s.shared = nn.Embedding(tc["vocab_size"], tc["d_model"])
        s.encoder = T5Stack(tc, False)
        s.decoder = T5Stack(tc, True)
        s.lm_head = nn.Linear(tc["d_model"], tc["vocab_size"], bias=False)

    def encode(s, emb, mask=None, block_outputs=None):
        B, N, _ = emb.shape
        bias = s.encoder.block[0].layer[0].SelfAttention.position_bias(N, N)
        if mask is not None:
            bias = bias + ((1.0 - mask.float()) * torch.finfo(torch.float32).min)[:, None, None, :]
        x = emb
        for b in s.encoder.block:
            x = b(x, bias)
            if block_outputs is not None:
                block_outputs.append(x)
        return s.encoder.final_layer_norm(x)

    def decode(s, ids, enc, enc_mask=None, block_outputs=None, hidden=None):
        B, n = ids.shape
        x = s.shared(ids)
        bias = s.decoder.block[0].layer[0].SelfAttention.position_bias(n, n)
        causal = torch.tril(torch.ones(n, n, dtype=torch.bool))
        bias = bias + torch.where(causal, 0.0, torch.finfo(torch.float32).min)[None, None]
        cb = torch.zeros(1, 1, 1, enc.shape[1])
        if enc_mask is not None:
            cb = ((1.0 - enc_mask.float()) * torch.finfo(torch.float32).min)[:, None, None, :]
        for b in s.decoder.block:
            x = b(x, bias, enc, cb)
            if block_outputs is not None:
                block_outputs.append(x)
        x = s.decoder.final_layer_norm(x)
        if hidden is not None:
            hidden.append(x)
        return s.lm_head(x)


# ---------------------------------------------------------------------------------------------------- whole models
class Blip2Parts(nn.Module):
    """Blip2ForConditionalGeneration / InstructBlipForConditionalGeneration names: vision_model, query_tokens,
    qformer, language_projection, language_model."""

    def __init__(s, cfg, instruct):
        super().__init__()
        vc, qc, tc = cfg["vision_config"], cfg["qformer_config"], cfg["text_config"]
        mb = cfg.get("methods_bundle", {})
        s.vision_model = VisionModel(vc, mb.get("ln_vision_eps", 1e-5))
        s.query_tokens = nn.Parameter(torch.randn(1, cfg["num_query_tokens"], qc["hidden_size"]) * 0.02)
        s.qformer = QFormer(qc, instruct)
        s.language_projection = nn.Linear(qc["hidden_size"], tc["d_model"])
        s.language_model = T5(tc)


class Localizer(nn.Module):
    """SeViLA's localizer: localizer.{vision_layernorm, query_tokens, qformer, language_projection}."""

    def __init__(s, cfg):
        super().__init__()
        vc, qc, tc = cfg["vision_config"], cfg["qformer_config"], cfg["text_config"]
        s.vision_layernorm = nn.LayerNorm(vc["hidden_size"], eps=cfg.get("methods_bundle", {}).get(
            "ln_vision_eps", 1e-5))
        s.query_tokens = nn.Parameter(torch.randn(1, cfg["num_query_tokens"], qc["hidden_size"]) * 0.02)
        s.qformer = QFormer(qc, False)
        s.language_projection = nn.Linear(qc["hidden_size"], tc["d_model"])


class FramePrompter(nn.Module):
    """ViLA FrameSelector(inplanes=N, num_segments=S, frame_num=T): frame_prompter.{fc1, norm, fc2}."""

    def __init__(s, N, S, T):
        super().__init__()
        s.S, s.T, s.N = S, T, N
        k = T // S
        s.fc1 = nn.Linear(k * N, k)
        s.norm = nn.LayerNorm(k, eps=1e-5)
        s.fc2 = nn.Linear(k, k)

    def forward(s, ln_feats):  # (B, T, N, D) after ln_vision -> logits (B, S, T/S)
        g = ln_feats.mean(dim=-1)
        x = g.reshape(g.shape[0], s.S, -1)
        return s.fc2(F.relu(s.norm(s.fc1(x))))


def gumbel_st(logits, tau, gen=None, eps=1e-10):
    """ViLA GumbleSoftmax(force_hard=True): hard one-hot forward, soft gradient (straight-through)."""
    U = torch.rand(logits.shape, generator=gen)
    g = -torch.log(eps - torch.log(U + eps))
    y = torch.softmax((logits + g) / tau, dim=-1)
    h = F.one_hot(y.argmax(-1), y.shape[-1]).to(y.dtype)
    return (h - y).detach() + y


# ---------------------------------------------------------------------------------------------------- safetensors
DT = {"F32": (np.float32, 4), "F16": (np.float16, 2), "I64": (np.int64, 8), "I32": (np.int32, 4), "BF16": (None, 2)}


def st_read(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in h.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        raw = data[a:b]
        if v["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DT[v["dtype"]][0])
        out[k] = torch.from_numpy(arr.copy().reshape(v["shape"]))
    return out


def st_header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))


def to_bf16_bits(t):
    """float32 tensor -> uint16 numpy array of bf16 bits, round to nearest even."""
    u = t.detach().float().contiguous().numpy().view(np.uint32).astype(np.uint64)
    r = ((u >> 16) & 1) + 0x7FFF
    return ((u + r) >> 16).astype(np.uint16)


def bf16_round(t):
    """The float32 values a bf16 file stores for t."""
    b = to_bf16_bits(t).astype(np.uint32) << 16
    return torch.from_numpy(b.view(np.float32).reshape(t.shape).copy())


def st_write(path, tensors, dtype="BF16", metadata=None):
    """tensors: ordered list of (name, float tensor); written in that order."""
    hdr, blobs, off = {}, [], 0
    if metadata:
        hdr["__metadata__"] = metadata
    for k, t in tensors:
        if dtype == "BF16":
            b = to_bf16_bits(t).tobytes()
        elif dtype == "F16":
            b = t.detach().float().numpy().astype(np.float16).tobytes()
        else:
            b = t.detach().float().numpy().astype(np.float32).tobytes()
        hdr[k] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(hdr, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def hf_state(module, prefix=""):
    """state_dict in bundle names: ViT q_bias / v_bias fused into self_attn.qkv.bias = [q, 0, v]."""
    out = {}
    for k, v in module.state_dict().items():
        if k.endswith("self_attn.q_bias"):
            base = k[: -len("q_bias")]
            vb = module.state_dict()[base + "v_bias"]
            out[prefix + base + "qkv.bias"] = torch.cat([v, torch.zeros_like(v), vb])
        elif k.endswith("self_attn.v_bias"):
            continue
        else:
            out[prefix + k] = v
    return out


def load_hf_state(module, tensors, prefix="", strict=True):
    sd = module.state_dict()
    new = {}
    for k in sd:
        if k.endswith("self_attn.q_bias") or k.endswith("self_attn.v_bias"):
            base = k[: -len("q_bias")]
            full = tensors[prefix + base + "qkv.bias"]
            D = full.shape[0] // 3
            new[k] = full[:D] if k.endswith("q_bias") else full[2 * D:]
        elif prefix + k in tensors:
            new[k] = tensors[prefix + k]
        elif strict:
            raise KeyError(prefix + k)
    module.load_state_dict(new, strict=strict)
