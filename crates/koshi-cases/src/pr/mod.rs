//! The PR service (chapter 3), by stage; `crate::pr_service` holds what the stages share.

pub mod agencies;
pub mod annulment;
pub mod conclusion;
pub mod hearing;
pub mod intake;
