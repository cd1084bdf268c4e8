/* report_config.c — the report configuration file and the option values it shares with the flags
** (report_config.h). */
#include "reports/report_config.h"

#include "base/common.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

int vb_report_parse_plot_size(const char * s, int32_t * w, int32_t * h) {
    char * e;
    long   W = strtol(s, &e, 10), H = 0;
    if (e != s && *e == 'x') {
        const char * p = e + 1;
        H = strtol(p, &e, 10);
        if (e == p) H = 0;
    }
    if (*e || W < 100 || H < 100 || W > 10000 || H > 10000)
        return vb_fail(VB_ERR_FORMAT, "takes WxH in pixels, each 100..10000 (e.g. 640x400), not '%s'", s);
    *w = (int32_t)W;
    *h = (int32_t)H;
    return VB_OK;
}

int vb_report_parse_font(const char * s, char name[128], int32_t * size) {
    const char * comma = strrchr(s, ',');
    size_t       len = comma ? (size_t)(comma - s) : strlen(s);
    if (len == 0 || len >= 128) return vb_fail(VB_ERR_FORMAT, "takes NAME[,SIZE] (a name of 1..127 bytes)");
    memcpy(name, s, len);
    name[len] = 0;
    *size = 0;
    if (comma) {
        char * e;
        long   sz = strtol(comma + 1, &e, 10);
        if (e == comma + 1 || *e || sz < 4 || sz > 72)
            return vb_fail(VB_ERR_FORMAT, "font size must be 4..72 points, not '%s'", comma + 1);
        *size = (int32_t)sz;
    }
    return VB_OK;
}

void vb_report_config_free(struct vb_report_config * cfg) {
    if (!cfg) return;
    for (int32_t i = 0; i < cfg->n_display_names; i++)
        free(cfg->display_names[i]);
    cfg->n_display_names = 0;
}

/* A boolean field into *out. */
static int get_bool(const char * path, const cJSON * it, int * out) {
    if (!cJSON_IsBool(it)) return vb_fail(VB_ERR_FORMAT, "%s: field \"%s\": expected true or false", path, it->string);
    *out = cJSON_IsTrue(it) ? 1 : 0;
    return VB_OK;
}

static int get_names(const char * path, const cJSON * it, struct vb_report_config * cfg) {
    if (!cJSON_IsObject(it))
        return vb_fail(VB_ERR_FORMAT, "%s: field \"display_names\": expected an object {\"method\": \"Name\", ...}",
                       path);
    const cJSON * e;
    cJSON_ArrayForEach(e, it) {
        if (!e->string[0] || strchr(e->string, '='))
            return vb_fail(VB_ERR_FORMAT, "%s: field \"display_names\": method name '%s' is empty or holds '='", path,
                           e->string);
        if (!cJSON_IsString(e) || !e->valuestring[0])
            return vb_fail(VB_ERR_FORMAT, "%s: field \"display_names.%s\": expected a non-empty string", path,
                           e->string);
        if (cfg->n_display_names >= VB_REPORT_MAX_DISPLAY_NAMES)
            return vb_fail(VB_ERR_FORMAT, "%s: field \"display_names\": more than %d methods", path,
                           VB_REPORT_MAX_DISPLAY_NAMES);
        size_t n = strlen(e->string) + strlen(e->valuestring) + 2;
        char * s = vb_malloc(n);
        snprintf(s, n, "%s=%s", e->string, e->valuestring);
        cfg->display_names[cfg->n_display_names++] = s;
    }
    return VB_OK;
}

/* One top-level field. */
static int get_field(const char * path, const cJSON * it, struct vb_report_config * cfg) {
    const char * k = it->string;
    if (!strcmp(k, "display_names")) return get_names(path, it, cfg);
    if (!strcmp(k, "log_latency")) return get_bool(path, it, &cfg->log_latency);
    if (!strcmp(k, "titles")) return get_bool(path, it, &cfg->titles);
    if (!strcmp(k, "plot_size") || !strcmp(k, "font")) {
        if (!cJSON_IsString(it)) return vb_fail(VB_ERR_FORMAT, "%s: field \"%s\": expected a string", path, k);
        int rc = !strcmp(k, "font") ? vb_report_parse_font(it->valuestring, cfg->font, &cfg->font_size)
                                    : vb_report_parse_plot_size(it->valuestring, &cfg->plot_w, &cfg->plot_h);
        return rc == VB_OK ? rc : vb_fail_prefix(rc, "%s: field \"%s\"", path, k);
    }
    return vb_fail(VB_ERR_FORMAT,
                   "%s: unknown field \"%s\" (fields: display_names, plot_size, font, log_latency, titles)", path, k);
}

int vb_report_config_read(const char * path, struct vb_report_config * cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->log_latency = cfg->titles = -1;
    char * text;
    size_t len;
    int    rc = vb_read_file(path, &text, &len);
    if (rc != VB_OK) return vb_fail_prefix(rc, "report configuration");
    const char * end = NULL;
    cJSON *      root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        int32_t line = 1;
        for (const char * p = text; end && p < end && p < text + len; p++)
            line += *p == '\n';
        free(text);
        return vb_fail(VB_ERR_FORMAT, "%s:%d: not valid JSON", path, line);
    }
    free(text);
    if (!cJSON_IsObject(root)) rc = vb_fail(VB_ERR_FORMAT, "%s: expected a JSON object {...}", path);
    const cJSON * it;
    if (rc == VB_OK) cJSON_ArrayForEach(it, root) {
            rc = get_field(path, it, cfg);
            if (rc != VB_OK) break;
        }
    cJSON_Delete(root);
    if (rc != VB_OK) vb_report_config_free(cfg);
    return rc;
}
