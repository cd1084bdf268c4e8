/* loaders.h — helpers around the annotation loaders of dataset.h: a string-keyed hash map, JSON key->string map
** files (NExT-QA map_vid_vidorID.json, How2QA how2_vid_mapping.json), the How2QA raw-CSV option permutation
** (docs/formats.md §5.1), split names from file names, and per-sample text checks used by `datasets stats`.
*/
#ifndef VB_LOADERS_H
#define VB_LOADERS_H

#include "datasets/dataset.h"

#include <stddef.h>
#include <stdint.h>

/* Open-addressing hash map from NUL-terminated strings (copied) to int32 values. */
struct vb_strmap {
    int32_t   cap; /* power of two */
    int32_t   n;
    char **   keys; /* (cap) NULL = empty slot; owned */
    int32_t * vals; /* (cap) */
};
/* Initialise an empty map sized for about `hint` keys. Free with vb_strmap_free. */
void vb_strmap_init(struct vb_strmap * m, int32_t hint);
/* Insert key -> val. Returns 1 if inserted, 0 if the key already existed (its value is left unchanged). */
int vb_strmap_put(struct vb_strmap * m, const char * key, int32_t val);
/* Value of key, or -1 when absent. */
int32_t vb_strmap_get(const struct vb_strmap * m, const char * key);
/* Free the keys and tables and zero *m (m not NULL; a zeroed or already freed map is fine). */
void vb_strmap_free(struct vb_strmap * m);

/* A JSON object file whose values are all strings ({"<key>": "<value>", ...}). */
struct vb_jsonmap {
    int32_t          n;
    char **          keys; /* (n) owned */
    char **          vals; /* (n) owned */
    struct vb_strmap idx;  /* key -> index */
};
/* Load path into *m. Returns VB_OK, VB_ERR_IO, or VB_ERR_FORMAT ("path: ..." naming the bad key); on failure *m
** is empty. Free with vb_jsonmap_free. */
int vb_jsonmap_load(struct vb_jsonmap * m, const char * path);
/* Value for key, or NULL. */
const char * vb_jsonmap_get(const struct vb_jsonmap * m, const char * key);
/* Free keys, values and index and zero *m (m not NULL; a zeroed or already freed map is fine). */
void vb_jsonmap_free(struct vb_jsonmap * m);

/* Parse a How2QA VALUE mapping value "{youtube_id}_{clipStart}_{clipEnd}" from the right (YouTube ids may contain
** '_').  yt receives the id (NUL-terminated, at most yt_cap-1 bytes).  Returns VB_OK or VB_ERR_FORMAT. */
int vb_dataset_how2_clip_parse(const char * v, char * yt, size_t yt_cap, double * clip_start, double * clip_end);

/* The How2QA raw-CSV permutation of docs/formats.md §5.1: key = youtube_id 0x1f segment_field 0x1f question, seed =
** FNV-1a 64 of the key, splitmix64, Fisher-Yates over [wrong1, wrong2, wrong3, correct] from i = 3 down to 1 with
** j = next() mod (i+1).  perm[k] = original index (0..3, 3 = correct) of the option shown at position k; the answer
** index is the k with perm[k] == 3.  perm_str (5 bytes) receives e.g. "3012". Returns the answer index. */
int vb_dataset_how2qa_perm(const char * youtube_id, const char * segment_field, const char * question, int perm[4],
                           char perm_str[5]);

/* Split name guessed from an annotation file name: "test_public", "test", "val", "dev", "train", else "unknown".
** Returns a static string. */
const char * vb_dataset_split_from_path(const char * path);

/* 1 if two options of s have identical text. */
int vb_dataset_sample_repeats_option(const struct vb_sample * s);
/* 1 if the correct option's text equals the text of another option (ambiguous item). */
int vb_dataset_sample_answer_ambiguous(const struct vb_sample * s);

#endif
