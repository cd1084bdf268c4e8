/* weights.c — safetensors reading (mmap, checked) and writing. */
#include "engine/weights.h"

#include "base/common.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct vb_st_file {
    char *          path;
    uint8_t *       map;
    size_t          size;
    const uint8_t * data; /* start of the data section */
    size_t          data_size;
};

struct vb_weights {
    int32_t               n_files;
    struct vb_st_file *   files; /* (n_files) */
    int32_t               n, cap;
    struct vb_st_tensor * t;    /* (n) */
    int32_t *             hash; /* open addressing, (hcap), -1 = empty */
    int32_t               hcap;
};

static const struct {
    const char *  name;
    enum vb_dtype dt;
    size_t        size;
} DTYPES[] = {{"F32", VB_DT_F32, 4},   {"F16", VB_DT_F16, 2}, {"BF16", VB_DT_BF16, 2}, {"I64", VB_DT_I64, 8},
              {"I32", VB_DT_I32, 4},   {"I16", VB_DT_I16, 2}, {"I8", VB_DT_I8, 1},     {"U8", VB_DT_U8, 1},
              {"BOOL", VB_DT_BOOL, 1}, {"F64", VB_DT_F64, 8}};

const char * vb_dtype_name(enum vb_dtype dt) {
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (DTYPES[i].dt == dt) return DTYPES[i].name;
    return "?";
}
size_t vb_dtype_size(enum vb_dtype dt) {
    for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
        if (DTYPES[i].dt == dt) return DTYPES[i].size;
    return 0;
}

static uint32_t hash_str(const char * s) {
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static void hash_rebuild(struct vb_weights * w) {
    free(w->hash);
    w->hcap = 16;
    while (w->hcap < 2 * w->n + 2)
        w->hcap *= 2;
    w->hash = vb_malloc(sizeof(int32_t) * (size_t)w->hcap);
    for (int32_t i = 0; i < w->hcap; i++)
        w->hash[i] = -1;
    for (int32_t i = 0; i < w->n; i++) {
        uint32_t h = hash_str(w->t[i].name) & (uint32_t)(w->hcap - 1);
        while (w->hash[h] >= 0)
            h = (h + 1) & (uint32_t)(w->hcap - 1);
        w->hash[h] = i;
    }
}

const struct vb_st_tensor * vb_weights_find(const struct vb_weights * w, const char * name) {
    if (!w || w->n == 0) return NULL;
    uint32_t h = hash_str(name) & (uint32_t)(w->hcap - 1);
    while (w->hash[h] >= 0) {
        if (strcmp(w->t[w->hash[h]].name, name) == 0) return &w->t[w->hash[h]];
        h = (h + 1) & (uint32_t)(w->hcap - 1);
    }
    return NULL;
}

int32_t vb_weights_count(const struct vb_weights * w) {
    return w->n;
}
const struct vb_st_tensor * vb_weights_at(const struct vb_weights * w, int32_t i) {
    return &w->t[i];
}
const char * vb_weights_file_path(const struct vb_weights * w, int32_t file) {
    return w->files[file].path;
}
int32_t vb_weights_n_files(const struct vb_weights * w) {
    return w->n_files;
}

void vb_shape_str(const int64_t * shape, int32_t ndim, char * buf, size_t len) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, len - o, "[");
    for (int32_t i = 0; i < ndim && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < len) snprintf(buf + o, len - o, "]");
}

struct range {
    uint64_t b, e;
    int32_t  idx;
};
static int cmp_range(const void * a, const void * b) {
    const struct range *x = a, *y = b;
    return x->b < y->b ? -1 : x->b > y->b ? 1 : (x->e < y->e ? -1 : x->e > y->e);
}

/* Parse one mapped file; appends its tensors to w. */
static int parse_file(struct vb_weights * w, int32_t fi) {
    struct vb_st_file * f = &w->files[fi];
    const char *        P = f->path;
    if (f->size < 8)
        return vb_fail(VB_ERR_FORMAT, "%s: file too small for a safetensors header (%zu bytes)", P, f->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | f->map[i];
    if (hlen > f->size - 8)
        return vb_fail(VB_ERR_FORMAT, "%s: header length %llu past end of file (%zu bytes)", P,
                       (unsigned long long)hlen, f->size);
    if (hlen > (100u << 20))
        return vb_fail(VB_ERR_FORMAT, "%s: header length %llu too large", P, (unsigned long long)hlen);
    char * js = vb_malloc((size_t)hlen + 1);
    memcpy(js, f->map + 8, (size_t)hlen);
    js[hlen] = 0;
    cJSON * root = cJSON_ParseWithLength(js, (size_t)hlen);
    if (!root || !cJSON_IsObject(root)) {
        const char * ep = cJSON_GetErrorPtr();
        long         off = ep && root == NULL ? (long)(ep - js) : -1;
        cJSON_Delete(root);
        free(js);
        return vb_fail(VB_ERR_FORMAT, "%s: header is not a JSON object (near byte %ld)", P, off);
    }
    f->data = f->map + 8 + hlen;
    f->data_size = f->size - 8 - (size_t)hlen;
    int     rc = VB_OK;
    int32_t first = w->n;
    cJSON * it;
    cJSON_ArrayForEach(it, root) {
        if (strcmp(it->string, "__metadata__") == 0) continue;
        const char * N = it->string;
        cJSON *      dt = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        cJSON *      sh = cJSON_GetObjectItemCaseSensitive(it, "shape");
        cJSON *      of = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsObject(it) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(of) ||
            cJSON_GetArraySize(of) != 2) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s': entry needs dtype, shape and data_offsets[2]", P, N);
            break;
        }
        size_t        esz = 0;
        enum vb_dtype dtype = VB_DT_F32;
        for (size_t i = 0; i < sizeof DTYPES / sizeof DTYPES[0]; i++)
            if (strcmp(dt->valuestring, DTYPES[i].name) == 0) dtype = DTYPES[i].dt, esz = DTYPES[i].size;
        if (!esz) {
            rc = vb_fail(VB_ERR_UNSUPPORTED, "%s: tensor '%s': unknown dtype '%s'", P, N, dt->valuestring);
            break;
        }
        int32_t nd = cJSON_GetArraySize(sh);
        if (nd > VB_MAX_DIMS) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s': %d dims (max %d)", P, N, nd, VB_MAX_DIMS);
            break;
        }
        struct vb_st_tensor t = {0};
        t.dtype = dtype;
        t.ndim = nd;
        uint64_t numel = 1;
        int      bad = 0;
        for (int32_t d = 0; d < nd; d++) {
            cJSON * v = cJSON_GetArrayItem(sh, d);
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9.0e15 ||
                v->valuedouble != (double)(int64_t)v->valuedouble) {
                bad = 1;
                break;
            }
            t.shape[d] = (int64_t)v->valuedouble;
            if (t.shape[d] != 0 && numel > UINT64_MAX / (uint64_t)t.shape[d]) {
                bad = 1;
                break;
            }
            numel *= (uint64_t)t.shape[d];
        }
        if (bad || numel > UINT64_MAX / esz) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s': invalid shape", P, N);
            break;
        }
        cJSON *b0 = cJSON_GetArrayItem(of, 0), *b1 = cJSON_GetArrayItem(of, 1);
        if (!cJSON_IsNumber(b0) || !cJSON_IsNumber(b1) || b0->valuedouble < 0 || b1->valuedouble < 0 ||
            b0->valuedouble > 1.8e19 || b1->valuedouble > 1.8e19) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s': invalid data_offsets", P, N);
            break;
        }
        uint64_t ob = (uint64_t)b0->valuedouble, oe = (uint64_t)b1->valuedouble;
        if (ob > oe) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s': data_offsets begin %llu > end %llu", P, N,
                         (unsigned long long)ob, (unsigned long long)oe);
            break;
        }
        if (oe > f->data_size) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu) past end of data (%zu bytes)", P, N,
                         (unsigned long long)ob, (unsigned long long)oe, f->data_size);
            break;
        }
        if (oe - ob != numel * esz) {
            char s[128];
            vb_shape_str(t.shape, nd, s, sizeof s);
            rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s': %llu bytes stored but %s %s needs %llu", P, N,
                         (unsigned long long)(oe - ob), dt->valuestring, s, (unsigned long long)(numel * esz));
            break;
        }
        if (vb_weights_find(w, N)) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s' appears twice", P, N);
            break;
        }
        t.name = vb_strdup(N);
        t.numel = (int64_t)numel;
        t.data = f->data + ob;
        t.nbytes = (size_t)(oe - ob);
        t.file = fi;
        if (w->n == w->cap) w->t = vb_realloc(w->t, sizeof *w->t * (size_t)(w->cap = w->cap ? 2 * w->cap : 64));
        w->t[w->n++] = t;
        if (w->n * 2 + 2 > w->hcap)
            hash_rebuild(w);
        else {
            uint32_t h = hash_str(t.name) & (uint32_t)(w->hcap - 1);
            while (w->hash[h] >= 0)
                h = (h + 1) & (uint32_t)(w->hcap - 1);
            w->hash[h] = w->n - 1;
        }
    }
    if (rc == VB_OK) {
        /* the ranges must tile the data region exactly: sorted by (begin, end), each begins where the previous one
        ** ended (empty tensors included: one inside another tensor's range is an overlap), the last ends at the end
        ** of the file; a gap or trailing bytes are bytes no tensor accounts for */
        int32_t        cnt = w->n - first;
        struct range * r = vb_malloc(sizeof *r * (size_t)(cnt ? cnt : 1));
        for (int32_t i = 0; i < cnt; i++) {
            r[i].b = (uint64_t)(w->t[first + i].data - f->data);
            r[i].e = r[i].b + w->t[first + i].nbytes;
            r[i].idx = first + i;
        }
        qsort(r, (size_t)cnt, sizeof *r, cmp_range);
        uint64_t pos = 0;
        int32_t  last = -1; /* the tensor that ended at pos (-1: none yet) */
        for (int32_t i = 0; i < cnt && rc == VB_OK; i++) {
            const char * nm = w->t[r[i].idx].name;
            if (r[i].b < pos)
                rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu) overlap tensor '%s'", P, nm,
                             (unsigned long long)r[i].b, (unsigned long long)r[i].e, w->t[last].name);
            else if (r[i].b > pos)
                rc = vb_fail(VB_ERR_FORMAT,
                             "%s: tensor '%s': data_offsets begin %llu leaves a gap of %llu bytes after %s%s%s", P, nm,
                             (unsigned long long)r[i].b, (unsigned long long)(r[i].b - pos),
                             last >= 0 ? "tensor '" : "the start of the data", last >= 0 ? w->t[last].name : "",
                             last >= 0 ? "'" : "");
            else {
                pos = r[i].e;
                last = r[i].idx;
            }
        }
        if (rc == VB_OK && pos != (uint64_t)f->data_size)
            rc = vb_fail(VB_ERR_FORMAT, "%s: %llu bytes of data after the last tensor%s%s%s are not part of any tensor",
                         P, (unsigned long long)((uint64_t)f->data_size - pos), last >= 0 ? " '" : "",
                         last >= 0 ? w->t[last].name : "", last >= 0 ? "'" : "");
        free(r);
    }
    cJSON_Delete(root);
    free(js);
    return rc;
}

static int map_file(struct vb_st_file * f, const char * path) {
    memset(f, 0, sizeof *f);
    f->path = vb_strdup(path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return vb_fail(VB_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return vb_fail(VB_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    }
    f->size = (size_t)st.st_size;
    if (f->size == 0) {
        close(fd);
        return vb_fail(VB_ERR_FORMAT, "%s: empty file", path);
    }
    void * m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return vb_fail(VB_ERR_IO, "%s: mmap failed: %s", path, strerror(errno));
    madvise(m, f->size, MADV_WILLNEED);
    f->map = m;
    return VB_OK;
}

static int add_file(struct vb_weights * w, const char * path) {
    w->files = vb_realloc(w->files, sizeof *w->files * (size_t)(w->n_files + 1));
    int rc = map_file(&w->files[w->n_files], path);
    w->n_files++;
    if (rc != VB_OK) return rc;
    return parse_file(w, w->n_files - 1);
}

static int ends_with(const char * s, const char * suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int open_index(struct vb_weights * w, const char * index_path) {
    char * js;
    int    rc = vb_read_file(index_path, &js, NULL);
    if (rc != VB_OK) return rc;
    cJSON * root = cJSON_Parse(js);
    free(js);
    cJSON * wm = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(wm)) {
        cJSON_Delete(root);
        return vb_fail(VB_ERR_FORMAT, "%s: no weight_map object", index_path);
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", index_path);
    char * sl = strrchr(dir, '/');
    if (sl)
        sl[1] = 0;
    else
        dir[0] = 0;
    /* distinct shard names in order of first appearance */
    cJSON * it;
    cJSON_ArrayForEach(it, wm) {
        if (!cJSON_IsString(it) || strchr(it->valuestring, '/') || strstr(it->valuestring, "..")) {
            rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s': bad shard name", index_path, it->string);
            break;
        }
        int  seen = 0;
        char p[4600];
        snprintf(p, sizeof p, "%s%s", dir, it->valuestring);
        for (int32_t i = 0; i < w->n_files; i++)
            if (strcmp(w->files[i].path, p) == 0) seen = 1;
        if (seen) continue;
        rc = add_file(w, p);
        if (rc != VB_OK) break;
    }
    if (rc == VB_OK) {
        /* the index and the shards' headers must agree both ways: every entry is in the shard it names (once), and
        ** every tensor of every shard is listed */
        int32_t * listed = vb_calloc((size_t)(w->n ? w->n : 1), sizeof *listed); /* (n) times named by the index */
        cJSON_ArrayForEach(it, wm) {
            const struct vb_st_tensor * t = vb_weights_find(w, it->string);
            char                        p[4600];
            snprintf(p, sizeof p, "%s%s", dir, it->valuestring);
            if (!t) {
                rc = vb_fail(VB_ERR_NOTFOUND, "%s: tensor '%s' listed in the index is missing from %s", index_path,
                             it->string, p);
                break;
            }
            if (strcmp(w->files[t->file].path, p) != 0) {
                rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s' is listed under shard %s but stored in shard %s",
                             index_path, it->string, p, w->files[t->file].path);
                break;
            }
            if (listed[t - w->t]++) {
                rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s' is listed twice", index_path, it->string);
                break;
            }
        }
        for (int32_t i = 0; rc == VB_OK && i < w->n; i++)
            if (!listed[i])
                rc = vb_fail(VB_ERR_FORMAT, "%s: tensor '%s' of shard %s is not listed in the index", index_path,
                             w->t[i].name, w->files[w->t[i].file].path);
        free(listed);
    }
    cJSON_Delete(root);
    return rc;
}

int vb_weights_open(struct vb_weights ** out, const char * path) {
    *out = NULL;
    struct vb_weights * w = vb_calloc(1, sizeof *w);
    hash_rebuild(w);
    int         rc;
    struct stat st;
    if (stat(path, &st) != 0) {
        rc = vb_fail(VB_ERR_IO, "%s: %s", path, strerror(errno));
    } else if (S_ISDIR(st.st_mode)) {
        char p[4200];
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", path);
        if (access(p, R_OK) == 0)
            rc = open_index(w, p);
        else {
            snprintf(p, sizeof p, "%s/model.safetensors", path);
            rc = add_file(w, p);
        }
    } else if (ends_with(path, ".json")) {
        rc = open_index(w, path);
    } else {
        rc = add_file(w, path);
    }
    if (rc != VB_OK) {
        vb_weights_close(w);
        return rc;
    }
    *out = w;
    return VB_OK;
}

void vb_weights_close(struct vb_weights * w) {
    if (!w) return;
    for (int32_t i = 0; i < w->n; i++)
        free(w->t[i].name);
    for (int32_t i = 0; i < w->n_files; i++) {
        if (w->files[i].map) munmap(w->files[i].map, w->files[i].size);
        free(w->files[i].path);
    }
    free(w->files);
    free(w->t);
    free(w->hash);
    free(w);
}

float vb_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float    f;
    memcpy(&f, &u, 4);
    return f;
}

float vb_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        if (man == 0)
            u = sign;
        else { /* subnormal */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) {
                man <<= 1;
                exp--;
            }
            man &= 0x3ff;
            u = sign | (exp << 23) | (man << 13);
        }
    } else if (exp == 31)
        u = sign | 0x7f800000u | (man << 13);
    else
        u = sign | ((exp + 127 - 15) << 23) | (man << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t vb_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

uint16_t vb_f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000;
    int32_t  exp = (int32_t)((u >> 23) & 0xff) - 127 + 15;
    uint32_t man = u & 0x7fffff;
    if (((u >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (man ? 0x200 : 0));
    if (exp >= 31) return (uint16_t)(sign | 0x7c00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        man |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exp);
        uint32_t half = 1u << (shift - 1);
        uint32_t r = man >> shift;
        uint32_t rem = man & ((1u << shift) - 1);
        if (rem > half || (rem == half && (r & 1))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ((uint32_t)exp << 10) | (man >> 13);
    uint32_t rem = man & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (r & 1))) r++;
    return (uint16_t)(sign | r);
}

int vb_weights_check_shape(const struct vb_weights * w, const struct vb_st_tensor * t, int32_t ndim,
                           const int64_t * shape) {
    if (!shape) return VB_OK;
    int ok = t->ndim == ndim;
    for (int32_t i = 0; ok && i < ndim; i++)
        if (shape[i] >= 0 && shape[i] != t->shape[i]) ok = 0;
    if (ok) return VB_OK;
    char a[128], b[128];
    vb_shape_str(shape, ndim, a, sizeof a);
    vb_shape_str(t->shape, t->ndim, b, sizeof b);
    return vb_fail(VB_ERR_SHAPE, "%s: tensor '%s': shape %s, the config expects %s", w->files[t->file].path, t->name, b,
                   a);
}

void vb_weights_drop_pages(const struct vb_weights * w, const struct vb_st_tensor * t) {
    (void)w;
    if (!t || t->nbytes == 0) return;
    long ps = sysconf(_SC_PAGESIZE);
    if (ps <= 0) return;
    uintptr_t b = (uintptr_t)t->data, e = b + t->nbytes, P = (uintptr_t)ps;
    b = (b + P - 1) / P * P;
    e = e / P * P;
    if (e > b) (void)madvise((void *)b, e - b, MADV_DONTNEED);
}

static const char * first_path(const struct vb_weights * w) {
    return w->n_files ? w->files[0].path : "(weights)";
}

int vb_weights_check(const struct vb_weights * w, const char * name, int32_t ndim, const int64_t * shape) {
    const struct vb_st_tensor * t = vb_weights_find(w, name);
    if (!t) return vb_fail(VB_ERR_NOTFOUND, "%s: missing tensor '%s'", first_path(w), name);
    return vb_weights_check_shape(w, t, ndim, shape);
}

int vb_weights_load_f32(const struct vb_weights * w, const char * name, int32_t ndim, const int64_t * shape,
                        float ** out) {
    *out = NULL;
    const struct vb_st_tensor * t = vb_weights_find(w, name);
    if (!t) return vb_fail(VB_ERR_NOTFOUND, "%s: missing tensor '%s'", first_path(w), name);
    int rc = vb_weights_check_shape(w, t, ndim, shape);
    if (rc != VB_OK) return rc;
    float *         d = vb_malloc(sizeof(float) * (size_t)(t->numel ? t->numel : 1));
    const uint8_t * p = t->data;
    switch (t->dtype) {
    case VB_DT_F32:
        memcpy(d, p, t->nbytes);
        break;
    case VB_DT_F16:
        for (int64_t i = 0; i < t->numel; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            d[i] = vb_f16_to_f32(h);
        }
        break;
    case VB_DT_BF16:
        for (int64_t i = 0; i < t->numel; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            d[i] = vb_bf16_to_f32(h);
        }
        break;
    case VB_DT_F64:
        for (int64_t i = 0; i < t->numel; i++) {
            double x;
            memcpy(&x, p + 8 * i, 8);
            d[i] = (float)x;
        }
        break;
    default:
        free(d);
        return vb_fail(VB_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s where a float tensor is expected",
                       w->files[t->file].path, name, vb_dtype_name(t->dtype));
    }
    *out = d;
    return VB_OK;
}

int vb_weights_load_i64(const struct vb_weights * w, const char * name, int32_t ndim, const int64_t * shape,
                        int64_t ** out) {
    *out = NULL;
    const struct vb_st_tensor * t = vb_weights_find(w, name);
    if (!t) return vb_fail(VB_ERR_NOTFOUND, "%s: missing tensor '%s'", first_path(w), name);
    int rc = vb_weights_check_shape(w, t, ndim, shape);
    if (rc != VB_OK) return rc;
    int64_t * d = vb_malloc(sizeof(int64_t) * (size_t)(t->numel ? t->numel : 1));
    if (t->dtype == VB_DT_I64)
        memcpy(d, t->data, t->nbytes);
    else if (t->dtype == VB_DT_I32) {
        for (int64_t i = 0; i < t->numel; i++) {
            int32_t v;
            memcpy(&v, t->data + 4 * i, 4);
            d[i] = v;
        }
    } else {
        free(d);
        return vb_fail(VB_ERR_UNSUPPORTED, "%s: tensor '%s': dtype %s where an integer tensor is expected",
                       w->files[t->file].path, name, vb_dtype_name(t->dtype));
    }
    *out = d;
    return VB_OK;
}

/* ---- writer ---- */
struct wt {
    char *        name;
    enum vb_dtype dt;
    int32_t       ndim;
    int64_t       shape[VB_MAX_DIMS];
    void *        data;
    size_t        nbytes;
};
struct vb_st_writer {
    int32_t     n, cap;
    struct wt * t;
    cJSON *     meta;
};

struct vb_st_writer * vb_st_writer_new(void) {
    return vb_calloc(1, sizeof(struct vb_st_writer));
}

void vb_st_writer_add(struct vb_st_writer * sw, const char * name, enum vb_dtype dt, int32_t ndim,
                      const int64_t * shape, const void * data) {
    VB_ASSERT(ndim >= 0 && ndim <= VB_MAX_DIMS);
    for (int32_t i = 0; i < sw->n; i++)
        VB_ASSERT(strcmp(sw->t[i].name, name) != 0);
    if (sw->n == sw->cap) sw->t = vb_realloc(sw->t, sizeof *sw->t * (size_t)(sw->cap = sw->cap ? 2 * sw->cap : 64));
    struct wt * t = &sw->t[sw->n++];
    memset(t, 0, sizeof *t);
    t->name = vb_strdup(name);
    t->dt = dt;
    t->ndim = ndim;
    size_t numel = 1;
    for (int32_t i = 0; i < ndim; i++)
        t->shape[i] = shape[i], numel *= (size_t)shape[i];
    t->nbytes = numel * vb_dtype_size(dt);
    t->data = vb_malloc(t->nbytes);
    memcpy(t->data, data, t->nbytes);
}

void vb_st_writer_meta(struct vb_st_writer * sw, const char * key, const char * value) {
    if (!sw->meta) sw->meta = cJSON_CreateObject();
    cJSON_AddStringToObject(sw->meta, key, value);
}

int vb_st_writer_write(const struct vb_st_writer * sw, const char * path) {
    cJSON * root = cJSON_CreateObject();
    if (sw->meta) cJSON_AddItemToObject(root, "__metadata__", cJSON_Duplicate(sw->meta, 1));
    size_t off = 0;
    for (int32_t i = 0; i < sw->n; i++) {
        const struct wt * t = &sw->t[i];
        cJSON *           e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "dtype", vb_dtype_name(t->dt));
        cJSON * sh = cJSON_AddArrayToObject(e, "shape");
        for (int32_t d = 0; d < t->ndim; d++)
            cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)t->shape[d]));
        cJSON * of = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(of, cJSON_CreateNumber((double)(off + t->nbytes)));
        off += t->nbytes;
        cJSON_AddItemToObject(root, t->name, e);
    }
    char * js = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    size_t hl = strlen(js), padded = (hl + 7) / 8 * 8;
    FILE * f = fopen(path, "wb");
    if (!f) {
        free(js);
        return vb_fail(VB_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    }
    uint8_t lb[8];
    for (int i = 0; i < 8; i++)
        lb[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    int ok = fwrite(lb, 1, 8, f) == 8 && fwrite(js, 1, hl, f) == hl;
    for (size_t i = hl; ok && i < padded; i++)
        ok = fputc(' ', f) != EOF;
    for (int32_t i = 0; ok && i < sw->n; i++)
        ok = fwrite(sw->t[i].data, 1, sw->t[i].nbytes, f) == sw->t[i].nbytes;
    free(js);
    if (fclose(f) != 0) ok = 0;
    if (!ok) return vb_fail(VB_ERR_IO, "%s: write failed", path);
    return VB_OK;
}

void vb_st_writer_free(struct vb_st_writer * sw) {
    if (!sw) return;
    for (int32_t i = 0; i < sw->n; i++) {
        free(sw->t[i].name);
        free(sw->t[i].data);
    }
    free(sw->t);
    cJSON_Delete(sw->meta);
    free(sw);
}
