//! The process's memory allocator: jemalloc, with the options in `.cargo/config.toml`
//! (`JEMALLOC_SYS_WITH_MALLOC_CONF`, built in; `_RJEM_MALLOC_CONF` in the environment
//! overrides them at run time).
//!
//! WHY (#11): under glibc's malloc, allocation was half of an initial sync's CPU. A profile
//! of the 100,000-user sync put 48 % of its samples in `_int_malloc`, `_int_free`,
//! `malloc_consolidate` and the arena lock's futex wake-ups: the simulator's threads, the
//! sync's reader, its writer and the list build's helper thread share two arenas
//! (`MALLOC_ARENA_MAX=2`, which we needed to keep glibc's per-thread arenas from holding
//! hundreds of MB). jemalloc's per-thread caches take those allocations without a lock, and
//! the same sync ran in 6.1–6.7 s instead of 10.5 s, with a lower peak (BENCHMARKS.md,
//! "The allocator, again").
//!
//! The options trade a little CPU for memory an appliance on a small VM keeps: freed pages
//! go back to the kernel at once (`dirty_decay_ms:0`, `muzzy_decay_ms:0`) by a background
//! thread; one arena (`narenas:1`: this process does a few things at a time, not hundreds)
//! and thread caches for objects up to 8 KiB only (`tcache_max:8192`), so a burst of web
//! requests does not leave each worker thread holding its own pool of large buffers. The
//! trade, measured (BENCHMARKS.md, identity sync, the quiet re-run of 5 December): with a 1 s
//! decay instead, list pages cost ~15 % less per request, but the 100,000-user initial sync
//! peaks at 147 MiB instead of 133–139 MiB, over the 150 MB a small VM is promised; we keep
//! the memory bound.
//!
//! WHY 8 KiB and not 1 KiB (#11, BENCHMARKS.md "The thread caches take redb's pages"): redb
//! holds each cached or dirty page as its own 4,112-byte allocation (jemalloc's 5 KiB class,
//! [`CACHED_PAGE_BYTES`]). Above `tcache_max` every such allocation and free goes to the
//! arena, and with the decay at 0 a slab that empties is handed back to the kernel at once,
//! to be faulted in again by the next transaction's pages: the sync's writer paid for its
//! page churn in `madvise`, page faults and TLB shoot-downs (on the other core too). Cached
//! per thread, those pages are reused: in eight alternating pairs the initial sync used 9.5
//! CPU-s against 10.0 and read 1.58 × its floor against 1.63 ×, with the same peak. What it
//! costs: each thread that writes keeps a few such pages per size class, ~5 MiB more after a
//! sync, 13–18 MiB more with 16 sync workers (1,000-tenant cycle: 175 MiB peak against 157).
//!
//! Built without the `jemalloc` feature (`--no-default-features`), the process uses glibc's
//! malloc: how the benches measure one against the other.

#[cfg(feature = "jemalloc")]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// The allocator this build uses, for the benches' headers and the start-up log.
pub const NAME: &str = if cfg!(feature = "jemalloc") {
    "jemalloc"
} else {
    "glibc malloc"
};

/// Bytes the allocator takes for one page in redb's cache: redb keeps each 4 KiB page as an
/// `Arc<[u8]>`, 4,096 bytes after 16 of reference counts. jemalloc serves 4,112 bytes from
/// its 5,120-byte size class (its classes between 4 and 8 KiB are 1 KiB apart); glibc's malloc
/// adds an 8-byte header.
///
/// WHY (#11): redb counts its cache in page bytes, so under jemalloc a 64 MiB cache held
/// 80 MiB of memory (measured: 64 → 32 MiB of cache took 42 MiB off the 100,000-user
/// initial sync's peak). The store sizes the cache by this, so `store.cache_mb` is the
/// memory the cache may take, whichever the allocator (`store::handle::cache_bytes`).
pub const CACHED_PAGE_BYTES: usize = if cfg!(feature = "jemalloc") {
    5_120
} else {
    4_104
};
