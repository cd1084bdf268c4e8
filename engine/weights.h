/* weights.h — safetensors reader (single file or sharded through model.safetensors.index.json) and writer.
**
** File layout: 8-byte little-endian u64 N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets:[b,e]}, ...,
** "__metadata__": {...}}, then the raw little-endian row-major data; offsets are relative to the data start.
** Files are mmap'ed read-only; every tensor's [begin, end) is checked against the data size with overflow-safe
** arithmetic, its byte count against dtype x shape, and the ranges must tile the data section exactly (sorted, no gap,
** no overlap, no trailing bytes; empty tensors included), before any data is touched.  A sharded index must match
** the shards' headers both ways: each entry is stored in the shard it names, each shard tensor is listed once.
** Errors name the file and the tensor: "model.safetensors: tensor 'x.weight': data_offsets past end of data".
*/
#ifndef VB_WEIGHTS_H
#define VB_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

enum vb_dtype {
    VB_DT_F32 = 0,
    VB_DT_F16,
    VB_DT_BF16,
    VB_DT_I64,
    VB_DT_I32,
    VB_DT_I16,
    VB_DT_I8,
    VB_DT_U8,
    VB_DT_BOOL,
    VB_DT_F64,
    VB_DT_COUNT
};

#define VB_MAX_DIMS 8

struct vb_st_tensor {
    char *          name;
    enum vb_dtype   dtype;
    int32_t         ndim;
    int64_t         shape[VB_MAX_DIMS];
    int64_t         numel;
    const uint8_t * data; /* points into the mapping; not necessarily aligned */
    size_t          nbytes;
    int32_t         file; /* index into the weights' file list */
};

struct vb_weights; /* opaque */

/* Open `path`: a .safetensors file, a model.safetensors.index.json, or a directory holding model.safetensors or
** model.safetensors.index.json.  Returns VB_OK and *out, or an error (message names file and tensor). */
int  vb_weights_open(struct vb_weights ** out, const char * path);
void vb_weights_close(struct vb_weights * w);

/* Number of tensors, and the i-th (in file order; shards in index order). */
int32_t                     vb_weights_count(const struct vb_weights * w);
const struct vb_st_tensor * vb_weights_at(const struct vb_weights * w, int32_t i);
/* Tensor by exact name, or NULL. */
const struct vb_st_tensor * vb_weights_find(const struct vb_weights * w, const char * name);
/* Path of the file (shard) a tensor lives in, and the list of files (for sha256 provenance). */
const char * vb_weights_file_path(const struct vb_weights * w, int32_t file);
int32_t      vb_weights_n_files(const struct vb_weights * w);

/* Load tensor `name` converted to F32 into a new malloc'd buffer (*out, caller frees).  F32, F16, BF16 (and F64)
** are accepted.  If `shape` is not NULL, the tensor must have exactly `ndim` dims equal to shape[] (an entry < 0
** matches anything); otherwise VB_ERR_SHAPE naming file, tensor, expected and actual shapes.
** Missing tensor: VB_ERR_NOTFOUND naming the file and tensor. */
int vb_weights_load_f32(const struct vb_weights * w, const char * name, int32_t ndim, const int64_t * shape,
                        float ** out);
/* Same for integer tensors (I64, I32) converted to int64. */
int vb_weights_load_i64(const struct vb_weights * w, const char * name, int32_t ndim, const int64_t * shape,
                        int64_t ** out);
/* The shape check of the loaders: VB_OK when `shape` is NULL or t has exactly ndim dims equal to shape[] (an entry
** < 0 matches anything); else VB_ERR_SHAPE naming file, tensor, actual and expected shapes. */
int vb_weights_check_shape(const struct vb_weights * w, const struct vb_st_tensor * t, int32_t ndim,
                           const int64_t * shape);
/* Tensor `name` exists with exactly that shape (as vb_weights_load_f32 checks it, same errors), nothing loaded or
** allocated: the model loaders run it over their whole tensor list before they allocate anything from a config. */
int vb_weights_check(const struct vb_weights * w, const char * name, int32_t ndim, const int64_t * shape);
/* madvise(MADV_DONTNEED) the whole pages inside t's byte range of the read-only mapping: bytes already read
** (converted, copied) stop counting in the process RSS; the file stays in the page cache and a later read of the
** tensor maps the pages again (the data never changes).  The partial pages at both ends are left alone (they may hold
** a neighbour).  No-op for a NULL tensor, an empty range or when madvise is refused. */
void vb_weights_drop_pages(const struct vb_weights * w, const struct vb_st_tensor * t);
/* Format a shape as "[a, b, c]" into buf. */
void         vb_shape_str(const int64_t * shape, int32_t ndim, char * buf, size_t len);
const char * vb_dtype_name(enum vb_dtype dt);
size_t       vb_dtype_size(enum vb_dtype dt);

/* bf16 / f16 -> f32 conversion of one value. */
float    vb_bf16_to_f32(uint16_t h);
float    vb_f16_to_f32(uint16_t h);
uint16_t vb_f32_to_bf16(float f); /* round to nearest even */
uint16_t vb_f32_to_f16(float f);  /* round to nearest even */

/* ---- writer ---- */
struct vb_st_writer; /* opaque; collects tensors (copies data) then writes one file */
struct vb_st_writer * vb_st_writer_new(void);
/* Add a tensor; data (numel * dtype size bytes) is copied. Names must be unique (VB_ASSERT). */
void vb_st_writer_add(struct vb_st_writer * sw, const char * name, enum vb_dtype dt, int32_t ndim,
                      const int64_t * shape, const void * data);
/* Optional "__metadata__" string entry. */
void vb_st_writer_meta(struct vb_st_writer * sw, const char * key, const char * value);
/* Write the file (header padded to a multiple of 8). Returns VB_OK or VB_ERR_IO. Frees nothing. */
int  vb_st_writer_write(const struct vb_st_writer * sw, const char * path);
void vb_st_writer_free(struct vb_st_writer * sw);

#endif
