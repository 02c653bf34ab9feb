// A small C interface to RE2 (Debian's libre2-dev), so that Swift can match user patterns with a
// linear-time guarantee: RE2 never backtracks, whatever the pattern and the text.
#ifndef ROLEWATCH_CRE2_H
#define ROLEWATCH_CRE2_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rw_re2 rw_re2;

/// Compiles `pattern` (RE2 syntax, UTF-8, `length` bytes). Returns NULL when it does not compile,
/// with the reason in `error` (at most `error_size` bytes, NUL-terminated).
rw_re2 *rw_re2_new(const char *pattern, size_t length, char *error, size_t error_size);

/// Whether the pattern matches anywhere in `text` (`length` bytes, UTF-8).
int rw_re2_partial_match(const rw_re2 *re, const char *text, size_t length);

void rw_re2_delete(rw_re2 *re);

#ifdef __cplusplus
}
#endif

#endif
