#include <png.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// A row-by-row PNG reader over a buffer in memory, on libpng's full reading API.
//
// libpng reports errors by longjmp-ing to the last setjmp. Every function below that calls into libpng
// sets its own setjmp first and returns 0 when libpng raised an error, so a longjmp only ever unwinds
// libpng's frames and this file's (the read, error and allocation callbacks are C functions here too):
// it never crosses a Swift frame. Swift calls these functions one at a time, each returning normally.
// After a 0, the message is in `error` and the only valid call is cpng_reader_destroy. They are
// noinline (CPNG_SETJMP_FRAME) so that their setjmp always has a C frame of its own: LLVM already refuses
// to inline a function that calls setjmp, and the attribute says so where it matters. (In the release
// binary, objdump shows _setjmp called from these four functions only.)
//
// Memory: every allocation libpng and zlib make goes through cpng_malloc/cpng_free, which count the
// bytes held (`allocated`) and the most held at once (`peak_allocated`), so a caller can show that a
// decode's memory does not grow with the image.

#define CPNG_SETJMP_FRAME static inline __attribute__((noinline))

typedef struct cpng_reader {
    png_structp png;
    png_infop info;
    const unsigned char *data;
    size_t size;
    size_t offset;
    size_t allocated;
    size_t peak_allocated;
    int has_warning;
    char error[200];
    char warning[200];
} cpng_reader;

/// What the file's header declares, filled in by cpng_reader_start_rgba8.
typedef struct cpng_header {
    unsigned int width;
    unsigned int height;
    int bit_depth;
    int color_type;
    int interlaced;
} cpng_header;

// A 16-byte header in front of each block keeps its size and the block aligned for any type.
static inline png_voidp cpng_malloc(png_structp png, png_alloc_size_t size) {
    cpng_reader *r = (cpng_reader *)png_get_mem_ptr(png);
    if (size > (png_alloc_size_t)-1 - 16) return NULL;
    unsigned char *block = (unsigned char *)malloc(size + 16);
    if (block == NULL) return NULL;
    memcpy(block, &size, sizeof size);
    r->allocated += size;
    if (r->allocated > r->peak_allocated) r->peak_allocated = r->allocated;
    return block + 16;
}

static inline void cpng_free(png_structp png, png_voidp pointer) {
    if (pointer == NULL) return;
    cpng_reader *r = (cpng_reader *)png_get_mem_ptr(png);
    unsigned char *block = (unsigned char *)pointer - 16;
    png_alloc_size_t size;
    memcpy(&size, block, sizeof size);
    r->allocated -= size;
    free(block);
}

static inline void cpng_copy_message(char *to, size_t capacity, png_const_charp message) {
    size_t n = message == NULL ? 0 : strlen(message);
    if (n >= capacity) n = capacity - 1;
    if (n > 0) memcpy(to, message, n);
    to[n] = 0;
}

// Must not return: libpng would then print the message to stderr and abort.
static inline void cpng_error(png_structp png, png_const_charp message) {
    cpng_reader *r = (cpng_reader *)png_get_error_ptr(png);
    cpng_copy_message(r->error, sizeof r->error, message);
    png_longjmp(png, 1);
}

// Keeps the first warning (an ancillary chunk skipped, extra data...); decoding goes on.
static inline void cpng_warning(png_structp png, png_const_charp message) {
    cpng_reader *r = (cpng_reader *)png_get_error_ptr(png);
    if (r->has_warning) return;
    r->has_warning = 1;
    cpng_copy_message(r->warning, sizeof r->warning, message);
}

static inline void cpng_read_data(png_structp png, png_bytep out, size_t length) {
    cpng_reader *r = (cpng_reader *)png_get_io_ptr(png);
    if (length > r->size - r->offset) png_error(png, "file ends before the image data does");
    memcpy(out, r->data + r->offset, length);
    r->offset += length;
}

/// Creates the reader over `size` bytes at `data` (which must outlive it) and reads the header chunks
/// up to the image data. Returns 1, or 0 with `r->error` set (then call cpng_reader_destroy).
CPNG_SETJMP_FRAME int cpng_reader_open(cpng_reader *r, const unsigned char *data, size_t size) {
    memset(r, 0, sizeof *r);
    r->data = data;
    r->size = size;
    r->png = png_create_read_struct_2(
        PNG_LIBPNG_VER_STRING, r, cpng_error, cpng_warning, r, cpng_malloc, cpng_free);
    if (r->png == NULL) {
        cpng_copy_message(r->error, sizeof r->error, "libpng could not start (out of memory?)");
        return 0;
    }
    if (setjmp(png_jmpbuf(r->png))) return 0;
    r->info = png_create_info_struct(r->png);
    if (r->info == NULL) png_error(r->png, "out of memory");
    png_set_read_fn(r->png, r, cpng_read_data);
    png_read_info(r->png, r->info);
    return 1;
}

/// Asks libpng for 8-bit RGBA rows, not premultiplied, samples as stored (no gamma or colour-space
/// conversion): palette indices looked up, gray copied to R, G and B, 1/2/4-bit gray scaled to 8 bits
/// (v · 255 / (2^depth − 1)), tRNS turned into alpha 0 and every other alpha 255, 16-bit samples scaled
/// to round(v / 257) (png_set_scale_16). Interlace handling stays off: each Adam7 pass is delivered as
/// its own rows, each row holding only that pass's pixels. Fills `header` and returns 1, or 0.
CPNG_SETJMP_FRAME int cpng_reader_start_rgba8(cpng_reader *r, cpng_header *header) {
    if (setjmp(png_jmpbuf(r->png))) return 0;
    png_uint_32 width, height;
    int depth, color, interlace;
    png_get_IHDR(r->png, r->info, &width, &height, &depth, &color, &interlace, NULL, NULL);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(r->png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(r->png);
    int has_trns = png_get_valid(r->png, r->info, PNG_INFO_tRNS) != 0;
    if (has_trns) png_set_tRNS_to_alpha(r->png);
    if (depth == 16) png_set_scale_16(r->png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(r->png);
    if ((color & PNG_COLOR_MASK_ALPHA) == 0 && !has_trns) png_set_add_alpha(r->png, 0xFF, PNG_FILLER_AFTER);
    png_read_update_info(r->png, r->info);
    if (png_get_channels(r->png, r->info) != 4 || png_get_bit_depth(r->png, r->info) != 8) {
        png_error(r->png, "libpng did not deliver 8-bit RGBA rows");
    }
    header->width = width;
    header->height = height;
    header->bit_depth = depth;
    header->color_type = color;
    header->interlaced = interlace != PNG_INTERLACE_NONE;
    return 1;
}

/// Reads the next row into `row` (width · 4 bytes; for an Adam7 pass, that pass's pixels from the
/// start of the buffer). Rows come pass by pass, top to bottom, passes with no pixel skipped.
/// Returns 1, or 0 with `r->error` set.
CPNG_SETJMP_FRAME int cpng_reader_read_row(cpng_reader *r, unsigned char *row) {
    if (setjmp(png_jmpbuf(r->png))) return 0;
    png_read_row(r->png, row, NULL);
    return 1;
}

/// Reads what follows the image data up to IEND (checking its chunks). Returns 1, or 0.
CPNG_SETJMP_FRAME int cpng_reader_finish(cpng_reader *r) {
    if (setjmp(png_jmpbuf(r->png))) return 0;
    png_read_end(r->png, NULL);
    return 1;
}

/// Frees libpng's structures (safe after any failure, and on a reader that never opened).
static inline void cpng_reader_destroy(cpng_reader *r) {
    if (r->png != NULL) png_destroy_read_struct(&r->png, r->info != NULL ? &r->info : NULL, NULL);
    r->png = NULL;
    r->info = NULL;
}
