#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>

// A row-by-row JPEG reader over a buffer in memory, on libjpeg(-turbo)'s decompression API.
//
// libjpeg's default error manager calls exit() on an error; this one copies the message and longjmps
// back to the shim function that called into libjpeg. Every function below that calls into libjpeg sets
// its own setjmp first and returns 0 when libjpeg raised an error, so a longjmp only ever unwinds
// libjpeg's frames and this file's (the error, message and progress callbacks are C functions here):
// it never crosses a Swift frame. After a 0, the message is in `error` and the only valid call is
// cjpeg_reader_destroy. They are noinline (CJPEG_SETJMP_FRAME) so that each setjmp has a C frame of
// its own, as in the CPNG shim.
//
// Bounds: a file of more than `scan_limit` scans is refused (a progressive JPEG can hold thousands of
// tiny scans that each cost a pass over the whole image: libjpeg-turbo's own tools stop at 500), and
// libjpeg's memory manager may hold at most `max_memory_to_use` bytes (set by cjpeg_reader_open's
// caller), past which it fails with "Backing store not supported" instead of allocating.
// "Premature end of JPEG file" (a file cut short), which libjpeg treats as a warning and pads with
// gray, is an error here, as it is in Pillow.

#define CJPEG_SETJMP_FRAME static inline __attribute__((noinline))

typedef struct cjpeg_reader {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    int created;
    int scan_limit;
    int has_warning;
    char error[JMSG_LENGTH_MAX + 40];
    char warning[JMSG_LENGTH_MAX];
} cjpeg_reader;

/// What the file's frame header declares, filled in by cjpeg_reader_open.
typedef struct cjpeg_header {
    unsigned int width;
    unsigned int height;
    /// Components in the file: 1 (gray), 3 (YCbCr or RGB), 4 (CMYK or YCCK).
    int components;
    /// libjpeg's J_COLOR_SPACE of the file (1 gray, 2 RGB, 3 YCbCr, 4 CMYK, 5 YCCK).
    int color_space;
    int progressive;
    /// 1 when the file has an Adobe APP14 marker (CMYK from Photoshop is stored inverted then).
    int saw_adobe_marker;
} cjpeg_header;

/// What cjpeg_reader_start will deliver: the scaled size and the components per pixel (1, 3 or 4).
typedef struct cjpeg_output {
    unsigned int width;
    unsigned int height;
    int components;
} cjpeg_output;

static inline cjpeg_reader *cjpeg_reader_of(j_common_ptr cinfo) {
    return (cjpeg_reader *)cinfo->client_data;
}

// Must not return (libjpeg's contract for error_exit).
static inline void cjpeg_error_exit(j_common_ptr cinfo) {
    cjpeg_reader *r = cjpeg_reader_of(cinfo);
    (*cinfo->err->format_message)(cinfo, r->error);
    longjmp(r->jump, 1);
}

// Warnings (msg_level -1) keep the first message; a premature end of file becomes an error. Trace
// messages (msg_level >= 0) are dropped. Nothing is ever printed.
static inline void cjpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    if (msg_level >= 0) return;
    cjpeg_reader *r = cjpeg_reader_of(cinfo);
    if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
        (*cinfo->err->format_message)(cinfo, r->error);
        longjmp(r->jump, 1);
    }
    cinfo->err->num_warnings++;
    if (r->has_warning) return;
    r->has_warning = 1;
    (*cinfo->err->format_message)(cinfo, r->warning);
}

static inline void cjpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static inline void cjpeg_progress(j_common_ptr cinfo) {
    cjpeg_reader *r = cjpeg_reader_of(cinfo);
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > r->scan_limit) {
        snprintf(r->error, sizeof r->error, "the file has more than %d scans", r->scan_limit);
        longjmp(r->jump, 1);
    }
}

/// A new reader (NULL when out of memory). Free it with cjpeg_reader_destroy.
static inline cjpeg_reader *cjpeg_reader_create(void) {
    return (cjpeg_reader *)calloc(1, sizeof(cjpeg_reader));
}

/// Starts libjpeg over `size` bytes at `data` (which must outlive the reader), keeps APP1 markers (EXIF),
/// reads the header and fills `header`. `max_memory` bounds libjpeg's memory manager in bytes; `scan_limit`
/// the scans a file may have. Returns 1, or 0 with `r->error` set.
CJPEG_SETJMP_FRAME int cjpeg_reader_open(
    cjpeg_reader *r, const unsigned char *data, size_t size, long max_memory, int scan_limit, cjpeg_header *header) {
    r->cinfo.err = jpeg_std_error(&r->err);
    r->err.error_exit = cjpeg_error_exit;
    r->err.emit_message = cjpeg_emit_message;
    r->err.output_message = cjpeg_output_message;
    r->cinfo.client_data = r;
    r->scan_limit = scan_limit;
    if (setjmp(r->jump)) return 0;
    jpeg_create_decompress(&r->cinfo);
    r->created = 1;
    r->cinfo.mem->max_memory_to_use = max_memory;
    r->progress.progress_monitor = cjpeg_progress;
    r->cinfo.progress = &r->progress;
    jpeg_mem_src(&r->cinfo, data, (unsigned long)size);
    jpeg_save_markers(&r->cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&r->cinfo, TRUE);
    header->width = r->cinfo.image_width;
    header->height = r->cinfo.image_height;
    header->components = r->cinfo.num_components;
    header->color_space = (int)r->cinfo.jpeg_color_space;
    header->progressive = r->cinfo.progressive_mode ? 1 : 0;
    header->saw_adobe_marker = r->cinfo.saw_Adobe_marker ? 1 : 0;
    return 1;
}

/// The first saved APP1 marker that starts with "Exif\0\0" (its data after those six bytes), or NULL.
static inline const unsigned char *cjpeg_reader_exif(cjpeg_reader *r, size_t *length) {
    for (jpeg_saved_marker_ptr m = r->cinfo.marker_list; m != NULL; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            *length = m->data_length - 6;
            return m->data + 6;
        }
    }
    *length = 0;
    return NULL;
}

/// Starts decompression at `scale_num`/8 of the size (1...8; libjpeg scales in its inverse DCT), with the
/// islow inverse DCT and fancy upsampling (libjpeg's defaults, Pillow's too), delivering gray (1 component)
/// for a gray file, CMYK as stored (4) for a CMYK or YCCK file, and RGB (3) otherwise. Fills `output` and
/// returns 1, or 0 with `r->error` set.
CJPEG_SETJMP_FRAME int cjpeg_reader_start(cjpeg_reader *r, int scale_num, cjpeg_output *output) {
    if (setjmp(r->jump)) return 0;
    r->cinfo.scale_num = (unsigned int)scale_num;
    r->cinfo.scale_denom = 8;
    r->cinfo.dct_method = JDCT_ISLOW;
    r->cinfo.do_fancy_upsampling = TRUE;
    switch (r->cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: r->cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK: case JCS_YCCK: r->cinfo.out_color_space = JCS_CMYK; break;
    default: r->cinfo.out_color_space = JCS_RGB; break;
    }
    jpeg_start_decompress(&r->cinfo);
    output->width = r->cinfo.output_width;
    output->height = r->cinfo.output_height;
    output->components = r->cinfo.output_components;
    return 1;
}

/// Reads the next scanline into `row` (output width · components bytes). Returns 1, or 0 with `r->error` set.
CJPEG_SETJMP_FRAME int cjpeg_reader_read_row(cjpeg_reader *r, unsigned char *row) {
    if (setjmp(r->jump)) return 0;
    JSAMPROW rows[1] = { row };
    if (jpeg_read_scanlines(&r->cinfo, rows, 1) != 1) {
        snprintf(r->error, sizeof r->error, "libjpeg delivered no scanline");
        return 0;
    }
    return 1;
}

/// Reads what follows the last scanline up to EOI. Returns 1, or 0 with `r->error` set.
CJPEG_SETJMP_FRAME int cjpeg_reader_finish(cjpeg_reader *r) {
    if (setjmp(r->jump)) return 0;
    jpeg_finish_decompress(&r->cinfo);
    return 1;
}

/// Frees libjpeg's structures and the reader (safe after any failure; NULL is ignored).
static inline void cjpeg_reader_destroy(cjpeg_reader *r) {
    if (r == NULL) return;
    if (r->created) jpeg_destroy_decompress(&r->cinfo);
    free(r);
}
