/* score.h — accuracy with the semantics of each dataset's official scorer (docs/formats.md §2.4, §3.3, §4.5,
** §5.4, §8).
**
**   NExT-QA  eval_mc.py: per type with TP merged into TN (Why How Bef&Aft When Cnt Loc Other), groups C/T/D pooled
**            by counts, overall pooled; printed "{:.2f}" of correct*100.0/count.
**   STAR     no offline scorer: per category (Interaction Sequence Prediction Feasibility) and their Mean (the STAR
**            headline), plus the pooled overall, clearly labelled.
**   VLEP     standalone_eval/eval.py (JSONL {example_id, pred_ans}) -> {"qa_acc": {"overall": round(acc*100, 2)}};
**            VALUE evaluate_vlep.py ({"<example_id>": answer}) -> {"<split>": round(acc*100, 2)}.
**   How2QA   VALUE evaluate_how2qa.py ({"<qid>": answer_idx}, id set must equal the ground truth) ->
**            {"<split>": float("{:.2f}".format(100*acc))}.  Raw HERO CSV: plain accuracy, same print, key = line.
** The tally is a library (reused by the report code); the readers turn official prediction files into a per-sample
** prediction array.
*/
#ifndef VB_SCORE_H
#define VB_SCORE_H

#include "datasets/dataset.h"

#include <stdint.h>
#include <stdio.h>

#define VB_SCORE_MAX_CAT 8

struct vb_score_cat {
    char    name[24];  /* category code ("CW", "TN", "Interaction", "vlep") or group ("C") */
    char    label[24]; /* display name of the official scorer ("Why", "Bef&Aft", "Acc_C", ...) */
    int32_t correct;
    int32_t total; /* scored samples (ground truth known and a prediction present) */
};

struct vb_score {
    char                dataset[16]; /* "nextqa", "star", "vlep", "how2qa" */
    char                split[16];   /* split of the first sample */
    int32_t             n_cat;
    struct vb_score_cat cat[VB_SCORE_MAX_CAT]; /* (n_cat) official order; NExT-QA TP counted under TN */
    int32_t             n_group;
    struct vb_score_cat group[VB_SCORE_MAX_CAT]; /* (n_group) NExT-QA C, T, D; 0 elsewhere */
    int32_t             correct;                 /* pooled over all scored samples */
    int32_t             total;
    int32_t             n_missing;    /* samples with a ground truth but no prediction (pred == -1): not in any total */
    int32_t             n_unanswered; /* samples without ground truth (test splits): not scored */
};

/* Count correct/total per category, group and overall.  pred: (d->n) predicted option index per sample, -1 =
** missing.  All samples must belong to one dataset family.  Returns VB_OK, VB_ERR_ARG (mixed datasets, prediction
** out of range: message names the sample key) or VB_ERR_NOTFOUND (no sample has both a ground truth and a
** prediction). */
int vb_score_tally(const struct vb_dataset * d, const int32_t * pred, struct vb_score * out);

/* correct * 100.0 / total (eval_mc.py order of operations); 0 when total is 0. */
double vb_score_pct(const struct vb_score_cat * c);
/* Pooled overall accuracy in percent, (double) correct / total * 100 (the VLEP / VALUE order). */
double vb_score_overall_pct(const struct vb_score * s);
/* STAR Mean: mean of the four category accuracies in percent; -1 unless all four categories have samples. */
double vb_score_star_mean(const struct vb_score * s);
/* Headline number in percent: STAR Mean, otherwise the pooled overall. */
double vb_score_headline(const struct vb_score * s);

/* Python's repr(round(x, 2)) / repr(float("{:.2f}".format(x))) for 0 <= x <= 100: "%.2f" with trailing zeros
** removed but one decimal kept ("67.55", "67.5", "100.0").  buf needs 32 bytes. Returns buf. */
char * vb_score_pyfmt2(double x, char * buf);

enum vb_pred_format {
    VB_PRED_NEXTQA = 0, /* {"video_qid": {"prediction": int, "answer": int}} */
    VB_PRED_VLEP_JSONL, /* lines {"example_id": int, "pred_ans": int} */
    VB_PRED_VALUE,      /* {"<id>": int} (VALUE VLEP / How2QA; flat STAR {"question_id": int}) */
    VB_PRED_STAR_EVALAI /* {"Interaction": [{"question_id": str, "answer": int}], ...} */
};

struct vb_pred_info {
    enum vb_pred_format format;
    int32_t             n_entries;         /* predictions in the file (lines for JSONL) */
    int32_t             n_missing;         /* samples with ground truth and no prediction */
    int32_t             n_extra;           /* file entries whose id is not a sample key */
    char                missing_ex[3][64]; /* up to 3 missing keys, in sample order */
    char                extra_ex[3][64];   /* up to 3 unknown ids, in file order */
    int32_t             n_answer_mismatch; /* NExT-QA: the file's "answer" differs from the CSV */
    char                mismatch_ex[3][64];
    int32_t             n_alias; /* VLEP JSONL lines using "pre_ans" instead of "pred_ans" */
};

/* Read an official prediction file for dataset d into pred (d->n entries; -1 where the file has no prediction).
** The format is recognised from the dataset and the file's shape.  Ids are normalised (VALUE keys are integers, so
** "0123" = "123").  Missing and unknown ids are only counted in *info (the caller decides); a malformed file,
** duplicate id, non-integer or out-of-range prediction returns VB_ERR_FORMAT "file:line: reason" (JSONL) or
** "file: key 'k': reason".  VB_ERR_IO if unreadable. */
int vb_score_read_predictions(const struct vb_dataset * d, const char * path, int32_t * pred,
                              struct vb_pred_info * info);

/* Print what the official scorer prints for this dataset and prediction format (docs/formats.md §8; for STAR and raw
** How2QA, which have none, the vlapbench equivalent).  d and info give line counts and skipped ids. */
void vb_score_print_official(FILE * f, const struct vb_score * s, const struct vb_dataset * d, const char * pred_path,
                             const struct vb_pred_info * info);
/* One JSON object: dataset, split, per-category and per-group {correct, total, acc}, overall, headline (and STAR
** mean), missing / unanswered counts, and (info may be NULL) prediction-file counts.  Percentages with 2 decimals. */
void vb_score_print_json(FILE * f, const struct vb_score * s, const struct vb_pred_info * info);

#endif
