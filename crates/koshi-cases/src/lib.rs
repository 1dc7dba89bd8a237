//! Koshi's case core (issue 14 item 1): the use cases of the Rules of Order No. 992 — RVP
//! (chapter 2) and PR (chapter 3) from intake to documents, notifications, duplicates, transfers
//! and annulment — with no HTTP, no OpenAPI and no wire types. Only the edge (the `koshi`
//! binary) knows HTTP: it maps a [`CaseError`]'s kind to a status code in one place
//! (`koshi::problem`) and documents [`model`]'s shapes in OpenAPI (`koshi::dto`).
//!
//! - [`service`]: the service context ([`service::Service`]: law, store, registries, clock,
//!   deliveries, configuration, authorisation) and what every use case shares;
//! - [`rvp`], [`pr`], [`pr_service`]: the use cases of each chapter; [`pr_record`]: the typed
//!   record of a PR case (conclusion, hearings, approval, annulment);
//! - [`documents`]: the acts' documents, their signatures and the public check;
//! - [`clocks`]: the legal terms as durable timers; [`delivery`]: the outbox and its receivers;
//! - [`caller`], [`authz`], [`accounts`], [`portal`]: who acts, and what each may do;
//! - [`parse`]: the bounds everything sent is held to; [`stored`]: a case's filing read back;
//!   [`error`]: the typed error;
//! - [`queue`], [`lawdata`], [`outage_acts`], [`metrics`], [`gost`], [`document_keys`].

pub mod accounts;
pub mod authz;
pub mod caller;
pub mod clocks;
pub mod delivery;
pub mod document_keys;
pub mod documents;
pub mod error;
pub mod gost;
pub mod lawdata;
pub mod metrics;
pub mod model;
pub mod outage_acts;
pub mod parse;
pub mod portal;
pub mod pr;
pub mod pr_record;
pub mod pr_service;
pub mod queue;
pub mod rvp;
pub mod service;
pub mod staff;
pub mod stored;

pub use error::{CaseError, FieldError, Kind};
