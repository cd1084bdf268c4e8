/* charge.c — the time-charging arithmetic of the runner (see charge.h). */
#include "harness/charge.h"

#include "base/common.h"

#include <string.h>

static int32_t find_frame(const struct vb_charge_frame * f, int32_t n, int64_t idx) {
    int32_t lo = 0, hi = n - 1;
    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        if (f[mid].idx == idx) return mid;
        if (f[mid].idx < idx)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int vb_charge_clip(const struct vb_charge_frame * fr, int32_t nf, const int64_t * idx, int32_t n, int64_t t_open_us,
                   int64_t * decode_us, int64_t * pre_us) {
    int64_t dec = t_open_us, pre = 0; /* every cell would open (index) the video */
    for (int32_t j = 0; j < n; j++) {
        int32_t u = find_frame(fr, nf, idx[j]);
        if (u < 0) return -1;
        pre += fr[u].t_pre_us;
        int seen = 0;
        for (int32_t q = 0; q < j && !seen; q++)
            seen = idx[q] == idx[j];
        if (!seen) dec += fr[u].t_decode_us;
    }
    *decode_us = dec;
    *pre_us = pre;
    return 0;
}

void vb_charge_stages(const struct vb_charge_in * in, int64_t t_us[VB_STAGE_COUNT]) {
    t_us[VB_STAGE_DECODE] = in->decode_us;
    t_us[VB_STAGE_PREPROCESS] = in->preprocess_us;
    t_us[VB_STAGE_VIT] = in->vit_us + in->vit_shared_us;
    t_us[VB_STAGE_SELECT] = in->select_us + in->select_shared_us;
    t_us[VB_STAGE_QFORMER] = in->qformer_us;
    t_us[VB_STAGE_T5_ENC] = in->t5_enc_us;
    t_us[VB_STAGE_T5_DEC] = in->t5_dec_us;
    t_us[VB_STAGE_TOTAL] = in->total_us + in->vit_shared_us + in->select_shared_us;
}

const struct vb_select_memo_entry * vb_select_memo_find(const struct vb_select_memo * m, const void * method,
                                                        const void * bundle, int32_t T) {
    for (int32_t i = 0; i < m->n; i++)
        if (m->e[i].method == method && m->e[i].bundle == bundle && m->e[i].T == T) return &m->e[i];
    return NULL;
}

void vb_select_memo_add(struct vb_select_memo * m, const void * method, const void * bundle, int32_t T,
                        const float * scores, int64_t cost_us) {
    if (vb_select_memo_find(m, method, bundle, T) || m->n >= VB_CHARGE_MEMO_MAX || T <= 0) return;
    struct vb_select_memo_entry * e = &m->e[m->n++];
    e->method = method;
    e->bundle = bundle;
    e->T = T;
    e->cost_us = cost_us;
    e->scores = vb_malloc(sizeof(float) * (size_t)T);
    memcpy(e->scores, scores, sizeof(float) * (size_t)T);
}

void vb_select_memo_clear(struct vb_select_memo * m) {
    for (int32_t i = 0; i < m->n; i++)
        free(m->e[i].scores);
    m->n = 0;
}
