/* published.h — published reference numbers as data (docs/methods.md §8), shown beside measured
** results by `vlapbench report --published`.
**
** All numbers are on the val splits (NExT-QA val, STAR val, VLEP dev, VALUE How2QA val), accuracy in percent.
** NAN = not published.  Quality: primary = printed in the paper's table or abstract; secondary = paper summaries
** and results aggregators; derived = SeViLA row + the VLAP abstract's delta (printed nowhere).  The VLAP table
** itself is not reproduced in the spec, so VLAP rows are secondary/derived only.
*/
#ifndef VB_PUBLISHED_H
#define VB_PUBLISHED_H

#include <stdint.h>

enum vb_pub_quality { VB_PUB_PRIMARY = 0, VB_PUB_SECONDARY, VB_PUB_DERIVED };

struct vb_published {
    const char *        source;     /* e.g. "SeViLA Table 2 (zero-shot)" */
    const char *        model;      /* row label as printed, e.g. "BLIP-2 concat (4)" */
    const char *        method;     /* vlapbench method it corresponds to ("uniform", "sevila", "vlap"), NULL = none */
    const char *        setting;    /* "zero-shot" | "fine-tuned" */
    int32_t             candidates; /* T (0 = not applicable / not stated) */
    int32_t             frames;     /* k */
    double              nextqa_tem, nextqa_cau, nextqa_des, nextqa_avg;
    double              star_int, star_seq, star_pre, star_fea, star_avg;
    double              how2qa, tvqa, vlep;
    double              time_per_sample_s; /* SeViLA Table 15 (GPU not stated); NAN elsewhere */
    enum vb_pub_quality quality;
};

/* The whole table (static storage); *n receives the row count. */
const struct vb_published * vb_published_table(int32_t * n);

/* The best row for a measured run: same method, frames and candidates, preferring `setting` ("zero-shot" /
** "fine-tuned"; NULL = zero-shot), falling back to the other setting, then to the same method and frames in a row
** that states no candidate count (candidates 0); a row with another candidate count never matches.  With dataset and
*column set (see vb_published_value), only rows that publish that value are
** considered.  NULL when nothing matches. */
const struct vb_published * vb_published_find(const char * method, int32_t frames, int32_t candidates,
                                              const char * setting, const char * dataset, const char * column);

/* A value by dataset and table column: dataset "nextqa" (columns "Tem", "Cau", "Des", "Avg"), "star" ("Int",
** "Seq", "Pre", "Fea", "Avg"), "how2qa" / "vlep" / "tvqa" (column "Acc").  NAN when unknown or unpublished. */
double vb_published_value(const struct vb_published * p, const char * dataset, const char * column);

/* Name of a quality grade: "primary", "secondary", "derived" (any other value).  Static string, never NULL. */
const char * vb_published_quality_name(enum vb_pub_quality q);

#endif
