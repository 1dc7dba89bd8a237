//! Integration tests of the `koshi` crate: one test binary. HTTP-level tests run the same body
//! on SQLite and, when KOSHI_TEST_DATABASE_URL is set, on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod continuity;
mod decisions;
mod deliveries;
mod docs;
mod documents;
mod drills;
mod edge;
mod family;
mod fuzz;
mod hardening;
mod harness;
mod instances;
mod logscan;
mod nats;
mod ops;
mod outage_acts;
mod pg_tls;
#[allow(dead_code)]
#[path = "../../../koshi-sign/tests/it/pki.rs"]
mod pki;
mod pr;
mod pr_agencies;
mod pr_decisions;
mod pr_more;
mod queue;
mod registry_http;
mod rvp;
mod rvp_more;
mod security;
mod sessions;
mod signatures;
mod ui;
mod ui_admin;
mod ui_approvals;
mod ui_bulk;
mod ui_cabinet;
mod ui_casework;
mod ui_handover;
mod ui_intake;
mod ui_sla;
