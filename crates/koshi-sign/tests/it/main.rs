//! Integration tests of koshi-sign against a PKI generated in the test run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod fuzz;
mod gost;
mod pki;
mod verify;
