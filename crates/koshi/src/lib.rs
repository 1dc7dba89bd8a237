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
pub mod cli;
pub mod delivery;
pub mod demo;
pub mod drill;
pub mod gost;
pub mod model;
pub mod pr_service;
pub mod problem;
pub mod service;

/// Every binary linking Koshi (the server, its tests and benchmarks) allocates with mimalloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
