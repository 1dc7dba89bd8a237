//! The RVP service (chapter 2), by what it does; `crate::service` holds the service itself.

pub mod background;
pub mod checks;
pub mod decision;
pub mod family;
pub mod filing;
pub mod forming;
pub mod intake;
pub mod payloads;
pub mod views;
