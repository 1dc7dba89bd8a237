//! # koshi: the binary's crate
//!
//! Glue between the outside world (CLI, HTTP) and the crates that do the work: the law
//! (`koshi-law`), the store (`koshi-store`) and the registries (`koshi-registries`). Only this
//! crate knows JSON and HTTP.

pub mod accounts;
pub mod api;
pub mod app;
pub mod authz;
pub mod calendar_cmd;
pub mod caller;
pub mod cli;
pub mod clocks;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod document_keys;
pub mod documents;
pub mod drill;
pub mod drill_crash;
pub mod edge;
pub mod gost;
pub mod lawdata;
pub mod metrics;
pub mod model;
pub mod outage_acts;
pub mod portal;
pub mod pr;
pub mod pr_service;
pub mod problem;
pub mod queue;
pub mod rvp;
pub mod server;
pub mod service;
pub mod session;
pub mod ui;
pub mod verify_cmd;

/// Every binary linking Koshi (the server, its tests and benchmarks) allocates with mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Worker threads for Koshi's async runtime: `configured` when given, otherwise one fewer than
/// the cores this process may use, and never fewer than one.
///
/// The store's writer is a thread of its own (SQLite's writer thread, or the small runtime
/// PostgreSQL's writer runs on), and under load it keeps one core busy. A worker for every core
/// made the workers and the writer take turns on that core, and their tasks hop between workers
/// (freeing memory on a thread other than the one that allocated it): on the 2-core machine the
/// throughput bench measured 70–77 µs of CPU a case with one worker against 76–84 µs with two,
/// and more cases a second on both databases. `koshi serve --worker-threads N` (or
/// `KOSHI_WORKER_THREADS`) sets it.
pub fn worker_threads(configured: Option<usize>) -> usize {
    configured
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, std::num::NonZeroUsize::get)
                .saturating_sub(1)
        })
        .max(1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_core_is_left_to_the_writer_unless_configured() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        assert_eq!(super::worker_threads(None), (cores - 1).max(1));
        assert_eq!(super::worker_threads(Some(3)), 3);
        assert_eq!(super::worker_threads(Some(0)), 1);
    }
}
