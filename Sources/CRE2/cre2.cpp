#include "cre2.h"

#include <re2/re2.h>

#include <cstring>
#include <new>

struct rw_re2 {
    RE2 re;
    rw_re2(const re2::StringPiece &pattern, const RE2::Options &options) : re(pattern, options) {}
};

extern "C" rw_re2 *rw_re2_new(const char *pattern, size_t length, char *error, size_t error_size) {
    RE2::Options options;
    options.set_log_errors(false);
    // A bound on the compiled program, so that a pattern like (a{1000}){1000} is refused.
    options.set_max_mem(8 << 20);
    rw_re2 *compiled = new (std::nothrow) rw_re2(re2::StringPiece(pattern, length), options);
    if (compiled == nullptr) {
        std::strncpy(error, "out of memory", error_size);
    } else if (!compiled->re.ok()) {
        std::strncpy(error, compiled->re.error().c_str(), error_size);
        delete compiled;
        compiled = nullptr;
    }
    if (compiled == nullptr && error_size > 0) error[error_size - 1] = '\0';
    return compiled;
}

extern "C" int rw_re2_partial_match(const rw_re2 *re, const char *text, size_t length) {
    return RE2::PartialMatch(re2::StringPiece(text, length), re->re) ? 1 : 0;
}

extern "C" void rw_re2_delete(rw_re2 *re) { delete re; }
