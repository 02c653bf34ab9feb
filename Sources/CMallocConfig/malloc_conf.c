// jemalloc's options for the tool (see Package.swift, where the tool links jemalloc): jemalloc
// reads this symbol once, at its first allocation, and MALLOC_CONF in the environment still
// overrides it.
//
// narenas:1 — one arena for every thread, where jemalloc's default is four per core. Reading
// threads allocate each event's strings and the engine's thread frees them; with an arena per
// thread, each arena kept its own freed pages, and a scan of a vendor fanning out to 2,000
// customers peaked at 145 MiB where one arena peaks at 130 MiB (215 against 224 MiB with
// --state), at 1.02x the time (8 alternating runs; other shapes 0.99x-1.01x). Each thread
// keeps its own cache of small blocks (tcache), so the one arena's lock is rarely taken.
const char *malloc_conf = "narenas:1";
