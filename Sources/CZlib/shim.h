#ifndef ROLEWATCH_CZLIB_SHIM_H
#define ROLEWATCH_CZLIB_SHIM_H
#include <zlib.h>

/// `inflateInit2` is a macro in zlib.h, which Swift cannot import; this wraps it.
/// windowBits 15 + 32 accepts both gzip and zlib headers (automatic detection).
static inline int rolewatch_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

/// `deflateInit2` is a macro too; windowBits 15 + 16 writes a gzip header and trailer.
static inline int rolewatch_deflateInit2(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
#endif
