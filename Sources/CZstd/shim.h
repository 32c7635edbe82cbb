#ifndef ECRPUSH_CZSTD_SHIM_H
#define ECRPUSH_CZSTD_SHIM_H

// Zstandard, for `--compression zstd` layers (OCI `tar+zstd`): faster to compress and to pull than gzip.
#include <zstd.h>

#endif
