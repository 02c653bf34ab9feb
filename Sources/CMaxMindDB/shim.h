#ifndef ROLEWATCH_CMAXMINDDB_SHIM_H
#define ROLEWATCH_CMAXMINDDB_SHIM_H
// libmaxminddb (Debian's libmaxminddb-dev): reads the MaxMind DB files of GeoLite2 and DB-IP,
// for the autonomous system of an address outside AWS (`asn_database`).
#include <maxminddb.h>

/// `MMDB_get_value` is variadic, which Swift cannot call: this takes a path of one key, or of
/// two (`second` non-NULL), such as "country", "iso_code".
static inline int rolewatch_mmdb_get_value(
    MMDB_entry_s *entry, MMDB_entry_data_s *data, const char *first, const char *second) {
    return MMDB_get_value(entry, data, first, second, NULL);
}
#endif
