/* prompts.h — the prompt strings, frame prefixes and answer-letter conventions shared by uniform BLIP-2, SeViLA and
** VLAP, exactly as the official code builds them (docs/methods.md §2.5-2.6; SeViLA / ViLA
** lavis/datasets/datasets/mc_video_vqa_datasets.py L63-100, sevila.py L100-111).  Engine-independent: strings only;
** tokenization happens in the caller (vb_t5tok_* / vb_berttok_*).
**
**   QA prompt          "Question: " + q + {" Option " + L + ": " + a_j} + " Considering the information
**                      presented in the frame, select the correct answer from the options."
**   localizer prompt   "Question: " + q + " " + "Options: (" + {a_j + " "} + ")" +
**                      " Does the information within the frame provide the necessary details to accurately answer the
**                      given question?"
**   VLEP QA            "Upon observing the provided frames, what is the most probable subsequent event?" + " " +
**                      "Option A: " + a0 + " Option B: " + a1
**   VLEP localizer     VLEP QA + " " + "Does the information within the frame provide the necessary details to
**                      predict next event?"
**   frame prefixes     "Frame: " (localizer), "Frame i: " i = 1..k (answerer), tokenized without </s>.
**
** Options and questions are used exactly as the SeViLA/LAVIS unified JSON stores them (docs/formats.md §6): NExT-QA
** read from the official CSV gets question + "?" and every option + "." appended unconditionally (as SeViLA's
** preprocessing does; "catching toy " -> "catching toy ."), vb_prompt_text_from_sample(..., nextqa_unify=1).
*/
#ifndef VB_PROMPTS_H
#define VB_PROMPTS_H

#include "datasets/dataset.h"

#include <stdint.h>

/* Letter pieces of the answer readout, in option order, and the hard-coded ids the official code uses with the
** Flan-T5 vocabulary (looked up by piece text at bundle load; these are what the lookup must give for Flan-T5). */
#define VB_PROMPT_N_LETTERS 5
extern const char * const vb_prompt_letter_pieces[VB_PROMPT_N_LETTERS];   /* "▁A" .. "▁E" */
extern const int32_t      vb_prompt_flan_letter_ids[VB_PROMPT_N_LETTERS]; /* 71 272 205 309 262 */
#define VB_PROMPT_YES_PIECE      "\xe2\x96\x81yes"                        /* "▁yes", Flan-T5 id 4273 */
#define VB_PROMPT_FLAN_YES_ID    4273
#define VB_PROMPT_SEVILA_MAX_TXT 77  /* SeViLA: T5 prompts truncated on the right to 77 ids incl. </s> */
#define VB_PROMPT_VLAP_MAX_BERT  128 /* ViLA: Q-Former (BERT) text truncated on the left to 128 ids */

enum vb_prompt_style {
    VB_PROMPT_MC = 0,  /* question + options: NExT-QA, STAR, How2QA, TVQA */
    VB_PROMPT_VLEP = 1 /* no question, two events, own fixed text */
};

/* The text pieces a prompt is built from (owned strings). */
struct vb_prompt_text {
    enum vb_prompt_style style;
    char *               question;  /* NULL for VLEP */
    int32_t              n_options; /* 2..5 */
    char *               options[VB_MAX_OPTIONS];
};

/* Fill *out from a loaded sample: style VLEP when s->dataset is "vlep", else MC (an MC sample without a question is
** VB_ERR_FORMAT).  nextqa_unify != 0 applies SeViLA's unified-JSON normalisation for NExT-QA records read from the
** official CSV (question + "?", option + "."); pass 0 for records read from the unified JSON (already normalised)
** and for other datasets.  The strings are copied; free with vb_prompt_text_free.  Returns VB_OK, VB_ERR_FORMAT
** (n_options outside 2..5, missing option/question; message names the sample key). */
int vb_prompt_text_from_sample(struct vb_prompt_text * out, const struct vb_sample * s, int nextqa_unify);
/* Same from plain strings (question may be NULL only for VLEP).  Strings are copied. */
int vb_prompt_text_make(struct vb_prompt_text * out, enum vb_prompt_style style, const char * question,
                        int32_t n_options, const char * const * options);
/* Free the copied strings and zero *t (t may be NULL; safe to call twice). */
void vb_prompt_text_free(struct vb_prompt_text * t);

/* The QA prompt (answerer of all three methods, VLAP's Q-Former text).  Returns a malloc'd string (caller frees). */
char * vb_prompt_qa(const struct vb_prompt_text * t);
/* The SeViLA localizer prompt.  Returns a malloc'd string. */
char * vb_prompt_loc(const struct vb_prompt_text * t);
/* Frame prefix: i == 0 -> "Frame: " (localizer), i >= 1 -> "Frame i: " (answerer).  Writes into buf (NUL-terminated,
** at most n bytes) and returns buf. */
char * vb_prompt_frame_prefix(int32_t i, char * buf, int32_t n);
/* Answer-letter character of option j ('A' + j). */
char vb_prompt_letter(int32_t j);

#endif
