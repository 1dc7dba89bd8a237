//! Koshi's case core (issue 14 item 1): the use cases of the Rules of Order No. 992, with no
//! HTTP, no OpenAPI and no wire types. Only the edge (the `koshi` binary) knows HTTP: it maps a
//! [`CaseError`]'s kind to a status code in one place (`koshi::problem`).
//!
//! The use cases move here from the binary in steps that each keep the tests green; what has
//! moved so far is listed below.
//! - [`error`]: the typed error every use case answers with.

pub mod error;

pub use error::{CaseError, FieldError, Kind};
