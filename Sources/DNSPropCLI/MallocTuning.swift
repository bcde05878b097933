import CDNSPropShims

/// glibc's allocator, set before the first thread starts.
///
/// A check allocates most of its memory on Dispatch's worker threads (verdicts, the JSON
/// report). glibc gives such threads arenas of their own, each a 64 MiB reservation made
/// writable by `mprotect` as it fills, a few pages at a time: building a 9,000-result report
/// made thousands of those calls (perf: `sysmalloc` → `mprotect` was most of the report's
/// build time). With `M_TOP_PAD` at 64 MiB an arena's heap is made writable whole when the
/// arena is made, and the main arena grows by `brk` in steps of that size. This is address
/// space: pages count in memory only once they are touched (peak RSS of a 3,000 × 3 check:
/// +4 MB). One arena for every thread (`M_ARENA_MAX` 1) did the same for growth but made the
/// threads that judge and serialise in parallel queue for its lock.
enum MallocTuning {
    static func apply() {
        _ = CDNSPropShims_tune_malloc(64 << 20)
    }
}
