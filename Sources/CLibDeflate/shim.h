#ifndef ECRPUSH_CLIBDEFLATE_SHIM_H
#define ECRPUSH_CLIBDEFLATE_SHIM_H

// libdeflate: whole-buffer DEFLATE/gzip, three to four times faster than zlib at the same level and ratio.
#include <libdeflate.h>

#endif
