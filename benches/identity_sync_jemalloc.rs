//! `identity_sync` with jemalloc as the global allocator (tried for the binary, not adopted:
//! BENCHMARKS.md, identity sync, "The allocator"; options in `.cargo/config.toml`): `cargo bench --bench identity_sync_jemalloc`.
//! The plain `identity_sync` bench keeps glibc's allocator, so both are measured in one session
//! (with and without `MALLOC_ARENA_MAX=2` for glibc).

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "identity_sync.rs"]
mod bench;

fn main() {
    bench::main();
}
