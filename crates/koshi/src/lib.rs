//! # koshi: the binary's crate
//!
//! Glue between the outside world (CLI, HTTP) and the crates that do the work: the law
//! (`koshi-law`), the store (`koshi-store`) and the registries (`koshi-registries`). Only this
//! crate knows JSON and HTTP.

pub use koshi_cases::accounts;
pub mod api;
pub mod app;
pub use koshi_cases::authz;
pub mod calendar_cmd;
pub use koshi_cases::caller;
pub mod cli;
pub use koshi_cases::clocks;
pub mod config;
pub use koshi_cases::delivery;
pub mod demo;
pub mod demo_pki;
pub use koshi_cases::document_keys;
pub use koshi_cases::documents;
pub mod drill;
pub mod drill_crash;
pub mod drill_outage;
pub mod dto;
pub mod edge;
pub use koshi_cases::gost;
pub use koshi_cases::lawdata;
pub use koshi_cases::metrics;
pub use koshi_cases::model;
pub use koshi_cases::outage_acts;
pub use koshi_cases::portal;
pub use koshi_cases::pr;
pub use koshi_cases::pr_service;
pub mod problem;
pub use koshi_cases::queue;
pub use koshi_cases::rvp;
pub mod server;
pub use koshi_cases::service;
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
