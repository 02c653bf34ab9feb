// CMallocConfig has no interface: it defines jemalloc's `malloc_conf` for the tool's process
// (malloc_conf.c). The tool depends on it only so that it is linked in.
