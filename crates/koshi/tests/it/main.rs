//! Integration tests of the `koshi` binary: one test binary for the crate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
