/* report_config.h — `vlapbench report --config FILE`: the figure options of a report (display names per method,
** plot size, font, log latency axis, titles) read from a JSON file, and the parsers of the values that the file and
** the command-line flags share.
**
**   {"display_names": {"vlap": "VLAP", "sevila": "SeViLA", "uniform": "BLIP-2"},
**    "plot_size": "640x400", "font": "Latin Modern Roman,9", "log_latency": true, "titles": false}
**
** Every field is optional; any other field is an error (a misspelt option never passes silently).  Flags given on
** the command line override the file (a --display-name for a method overrides the file's name for it).
*/
#ifndef VB_REPORT_CONFIG_H
#define VB_REPORT_CONFIG_H

#include "reports/report.h"

#include <stdint.h>

#define VB_REPORT_MAX_DISPLAY_NAMES 64

/* What a report configuration file sets (strings owned; free with vb_report_config_free). */
struct vb_report_config {
    char *  display_names[VB_REPORT_MAX_DISPLAY_NAMES]; /* (n_display_names) "method=Display Name" */
    int32_t n_display_names;
    int32_t plot_w, plot_h;      /* 0 = not set */
    char    font[128];           /* "" = not set */
    int32_t font_size;           /* 0 = not set */
    int     log_latency, titles; /* -1 = not set, else 0 / 1 */
};

/* "WxH" in pixels, each 100..10000.  Returns VB_OK (*w, *h set) or VB_ERR_FORMAT with the rule in vb_errmsg(). */
int vb_report_parse_plot_size(const char * s, int32_t * w, int32_t * h);
/* "NAME[,SIZE]" (NAME 1..127 bytes, SIZE 4..72 points; the last comma separates).  Writes name (NUL-terminated)
** and *size (0 when absent).  Returns VB_OK or VB_ERR_FORMAT with the rule in vb_errmsg(). */
int vb_report_parse_font(const char * s, char name[128], int32_t * size);

/* Read the configuration file at path into *cfg (zeroed first; fields not in the file stay "not set").  Returns
** VB_OK, VB_ERR_IO (cannot read: message names the file) or VB_ERR_FORMAT (not a JSON object, an unknown field, a
** value of the wrong type or out of range: the message names the file and the field, e.g.
** "cfg.json: field \"plot_size\": ..."). */
int vb_report_config_read(const char * path, struct vb_report_config * cfg);
/* Free the owned strings (cfg may be NULL; safe to call twice). */
void vb_report_config_free(struct vb_report_config * cfg);

#endif
