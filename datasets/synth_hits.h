/* synth_hits.h — how often uniform sampling sees the card in an event-task benchmark (`vlapbench synth --task event`):
** per dataset, the questions whose uniform_midbin frames (k = 1, 2, 4, inside the question's segment, as the runner
** samples them) hold a card frame, against the number expected when each card start is uniform over the video and
** each How2QA window uniform among its own.  It reads the benchmark as the runner does: the official annotation
** files through the real loaders (dataset.h), the segment rule of sampling.h, and the manifest's card frames.  Used
** to check the demo split's stratified event times (tests/test_synth_strata.c, `vlapbench synth --uniform-hits`).
*/
#ifndef VB_SYNTH_HITS_H
#define VB_SYNTH_HITS_H

#include <stdint.h>

enum { VB_SYNTH_HITS_DS = 4 }; /* NExT-QA, STAR, VLEP, How2QA (VALUE) */

struct vb_synth_hits {
    const char * name[VB_SYNTH_HITS_DS];      /* "nextqa", "star", "vlep", "how2qa-value" */
    int32_t      n[VB_SYNTH_HITS_DS];         /* questions per dataset */
    int32_t      hits[VB_SYNTH_HITS_DS][3];   /* questions whose uniform k = 1, 2, 4 frames hold a card frame */
    double       expect[VB_SYNTH_HITS_DS][3]; /* their expected number (uniform card starts, uniform windows) */
    /* questions an ideal reader answers right with uniform's k = 1, 2, 4 frames when it reads the card wherever it
    ** sees it and otherwise always answers option g (g < the dataset's option count): what a trained uniform
    ** answerer with a fixed fallback guess scores */
    int32_t reader[VB_SYNTH_HITS_DS][3][5];
    int32_t n_options[VB_SYNTH_HITS_DS]; /* options per question (the largest) */
};

/* Count for the event-task benchmark in dir (written by vb_synth_benchmark; videos not needed).  Returns VB_OK, or a
** vb_status whose message names the file (a loader error, a manifest entry missing or malformed, a sample whose
** video is not one of the manifest's). */
int vb_synth_uniform_hits_dir(const char * dir, struct vb_synth_hits * h);

#endif
