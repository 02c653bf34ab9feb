#ifndef ROLEWATCH_CISAL_SHIM_H
#define ROLEWATCH_CISAL_SHIM_H
// Intel's ISA-L (Debian's libisal-dev): its gzip inflate runs about twice as fast as zlib's, and
// inflating is the largest part of reading a trail.
#include <isa-l/igzip_lib.h>
#endif
