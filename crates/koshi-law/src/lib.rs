//! # koshi-law: the Rules of Order No. 992 as pure code
//!
//! Architecture invariant: this crate does no I/O, spawns nothing and never reads the clock.
//! Dates, the working calendar and rule parameters are arguments; every outcome carries the
//! citation it rests on and the version of the Rules in force on its date.

pub mod agencies;
pub mod calendar;
pub mod citation;
pub mod clocks;
pub mod ident;
pub mod params;
pub mod pr;
pub mod provenance;
pub mod requirements;
pub mod rules;
pub mod rvp;
pub mod status;
pub mod terms;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_rules;

use jiff::civil::Date;

pub use calendar::{CalendarError, CalendarFileError, DayStatus, Deadline, WorkingCalendar};
pub use citation::{Citation, RulesVersion};

/// An outcome with the paragraph it rests on and the version of the Rules it was taken under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ruling<T> {
    pub outcome: T,
    pub citation: Citation,
    pub version: &'static RulesVersion,
}

/// Everything the law needs besides the facts of a case: the calendar, the requirements and the
/// parameters, loaded once from the shipped data or from replacement files.
#[derive(Debug, Clone)]
pub struct Law {
    pub calendar: WorkingCalendar,
    pub requirements: requirements::Requirements,
    pub params: params::Parameters,
}

/// Why the law could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error("calendar {0}")]
    Calendar(#[from] CalendarFileError),
    #[error("requirements {0}")]
    Requirements(#[from] requirements::RequirementsFileError),
    #[error("parameters {0}")]
    Parameters(#[from] params::ParametersFileError),
}

impl Law {
    pub fn builtin() -> Result<Law, LoadError> {
        Ok(Law {
            calendar: WorkingCalendar::builtin()?,
            requirements: requirements::Requirements::builtin()?,
            params: params::Parameters::builtin()?,
        })
    }

    /// Wraps an outcome with its citation and the version in force on `on`.
    pub fn rule<T>(&self, on: Date, citation: Citation, outcome: T) -> Result<Ruling<T>, citation::NoVersion> {
        Ok(Ruling {
            outcome,
            citation,
            version: citation::version_on(on)?,
        })
    }
}
