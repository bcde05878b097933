import CDNSPropShims

/// glibc's allocator, set before the first thread starts.
///
/// A check allocates most of its memory on Dispatch's worker threads (verdicts, the JSON
/// report), and glibc gives such threads their own arenas, which grow by `mprotect` a few
/// pages at a time: building a 9,000-result report made thousands of those calls (perf:
/// `sysmalloc` → `mprotect` was most of the report's time). One arena (the main one, grown
/// by `brk`) with 16 MiB of top padding grows in large steps instead. Threads still take
/// small blocks from their own caches (tcache) without the arena's lock. The padding is
/// address space: pages count in memory only once they are touched.
enum MallocTuning {
    static func apply() {
        _ = CDNSPropShims_tune_malloc(16 << 20)
    }
}
