"""The three methods' forward passes in torch, exactly as vlapbench's C engine runs them (methods.md §3-§6):
encoder inputs, answer readout (greedy step 0, step 1 on [0, t0], repetition penalty), SeViLA's top-k, VLAP's
per-segment argmax.  Used for training (teacher forcing) and for the PyTorch evaluation the fidelity test compares
against."""
import torch
import torch.nn.functional as F


def pad(seqs, value=0):
    n = max(len(x) for x in seqs)
    ids = torch.full((len(seqs), n), value, dtype=torch.long)
    mask = torch.zeros(len(seqs), n, dtype=torch.long)
    for i, x in enumerate(seqs):
        ids[i, :len(x)] = torch.tensor(x, dtype=torch.long)
        mask[i, :len(x)] = 1
    return ids, mask


def cat_rows(parts):
    """parts: per batch row a list of (emb (n, d)) -> padded (B, N, d) and mask (B, N)."""
    rows = [torch.cat(p, dim=0) for p in parts]
    n = max(r.shape[0] for r in rows)
    d = rows[0].shape[1]
    out = rows[0].new_zeros(len(rows), n, d)
    mask = torch.zeros(len(rows), n, dtype=torch.long)
    for i, r in enumerate(rows):
        out[i, :r.shape[0]] = r
        mask[i, :r.shape[0]] = 1
    return out, mask


def blip2_visual(m, ln_feats):
    """BLIP-2 Q-Former (no text) + projection: (n, N, D) ln features -> (n, Q, d)."""
    return m.language_projection(m.qformer(m.query_tokens, ln_feats))


def instruct_visual(m, ln_feats, bert_ids):
    """InstructBLIP Q-Former reading the prompt: ln_feats (n, N, D), bert_ids list of n id lists -> (n, Q, d)."""
    ids, mask = pad(bert_ids)
    Q = m.query_tokens.shape[1]
    return m.language_projection(m.qformer(m.query_tokens, ln_feats, ids, mask)[:, :Q])


def uniform_inputs(t5, hdr, vis, qa_ids):
    """vis: list (per row) of (k, Q, d); qa_ids: list of T5 id lists -> (emb, mask) for the uniform/SeViLA answerer:
    per frame ["Frame i: " ids, Q tokens], then the QA prompt (77, right truncation) ids."""
    parts = []
    for v, q in zip(vis, qa_ids):
        p = []
        for i in range(len(v)):  # v: (k, Q, d) or a list of k (n_i, d) rows (text curriculum)
            p.append(t5.shared(torch.tensor(hdr[f"prefix{i + 1}"])))
            p.append(v[i])
        p.append(t5.shared(torch.tensor(q)))
        parts.append(p)
    return cat_rows(parts)


def vlap_inputs(t5, vis, qa_ids):
    """VLAP: [k*Q visual tokens, QA prompt ids untruncated]."""
    return cat_rows([[v.reshape(-1, v.shape[-1]), t5.shared(torch.tensor(q))] for v, q in zip(vis, qa_ids)])


def loc_inputs(t5, hdr, vis, loc_ids):
    """SeViLA localizer: per frame ["Frame: " ids, Q tokens, localizer prompt ids]."""
    pre = t5.shared(torch.tensor(hdr["prefix0"]))
    return cat_rows([[pre, v, t5.shared(torch.tensor(q))] for v, q in zip(vis, loc_ids)])


def target_loss(t5, emb, mask, targets):
    """Teacher-forced CE: targets list of id lists (with </s>); decoder input = [0] + target[:-1]."""
    tgt, tmask = pad(targets, -100)
    dec = tgt.clone()
    dec[dec < 0] = 0
    dec = torch.cat([torch.zeros(len(targets), 1, dtype=torch.long), dec[:, :-1]], dim=1)
    enc = t5.encode(emb, mask)
    logits = t5.decode(dec, enc, mask)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), ignore_index=-100)


def rep_penalty(logits, prev, p):
    if p == 1.0:
        return logits
    out = logits.clone()
    for i in set(prev):
        v = out[i]
        out[i] = v * p if v < 0 else v / p
    return out


def first_argmax(x):
    best = 0
    for j in range(1, len(x)):
        if x[j] > x[best]:
            best = j
    return best


def readout(t5, emb, mask, letter_ids, n_letters, penalty):
    """Greedy step 0 from [0], step 1 on [0, t0]; letter logits (processed) of step 1 -> (scores, prediction, t0)
    per row."""
    enc = t5.encode(emb, mask)
    B = emb.shape[0]
    start = torch.zeros(B, 1, dtype=torch.long)
    l0 = t5.decode(start, enc, mask)[:, 0]
    out = []
    t0s = []
    for b in range(B):
        t0s.append(first_argmax(rep_penalty(l0[b], [0], penalty).tolist()))
    dec = torch.tensor([[0, t] for t in t0s], dtype=torch.long)
    l1 = t5.decode(dec, enc, mask)[:, 1]
    for b in range(B):
        p = rep_penalty(l1[b], [0, t0s[b]], penalty)
        sc = [p[letter_ids[j]].item() for j in range(n_letters[b])]
        out.append((sc, first_argmax(sc), t0s[b]))
    return out


def loc_scores(t5, emb, mask, yes_id):
    """Raw step-0 logit of "yes" per row."""
    enc = t5.encode(emb, mask)
    l0 = t5.decode(torch.zeros(emb.shape[0], 1, dtype=torch.long), enc, mask)[:, 0]
    return l0[:, yes_id]


def topk_sorted(scores, k):
    """vb_sevila_topk: k best (strict >, ties keep the lower index), then ascending."""
    used = [False] * len(scores)
    for _ in range(k):
        best = -1
        for i, s in enumerate(scores):
            if not used[i] and (best < 0 or s > scores[best]):
                best = i
        used[best] = True
    return [i for i in range(len(scores)) if used[i]]
