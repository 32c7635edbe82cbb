// zlib's init functions are macros over versioned functions; Swift needs real functions.
#ifndef ECRPUSH_CZLIB_SHIM_H
#define ECRPUSH_CZLIB_SHIM_H
#include <zlib.h>

/// deflateInit2 for a gzip stream (windowBits 15 + 16) at `level`, memLevel 8, default strategy.
static inline int ecr_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}
/// inflateInit2 accepting gzip (and zlib) headers.
static inline int ecr_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 32);
}
#endif
