//! A case's filing as stored (`application_filings.data`), read in one place: the filing was
//! parsed and checked at the edge when it was received, and is read back by every later step
//! (the checks, forming, decisions, documents, PR conclusions). A stored filing that does not read
//! stops the step for a person (`stored_record_unreadable`, 409) — never an internal error
//! answered as if Koshi had failed, and never a default.

use crate::CaseError;
use crate::model::{ApplicationRequest, PrApplicationRequest};

/// An RVP case's filing.
pub(crate) fn rvp_filing(data: &str) -> Result<ApplicationRequest, CaseError> {
    serde_json::from_str(data).map_err(|_| CaseError::unreadable("filing"))
}

/// A PR case's filing.
pub(crate) fn pr_filing(data: &str) -> Result<PrApplicationRequest, CaseError> {
    serde_json::from_str(data).map_err(|_| CaseError::unreadable("filing"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_filing_that_does_not_read_stops_the_step() {
        for bad in ["", "{}", "{\"kind\": \"rvp\"}", "[1, 2]"] {
            assert_eq!(super::rvp_filing(bad).unwrap_err().code, "stored_record_unreadable");
            assert_eq!(super::pr_filing(bad).unwrap_err().code, "stored_record_unreadable");
        }
    }
}
