// zlib's init functions are macros over versioned functions; Swift needs real functions.
#ifndef ECRPUSH_CZLIB_SHIM_H
#define ECRPUSH_CZLIB_SHIM_H
#include <zlib.h>

/// inflateInit2 accepting gzip (and zlib) headers.
static inline int ecr_inflate_init_gzip(z_streamp stream) {
    return inflateInit2(stream, 15 + 32);
}
#endif
