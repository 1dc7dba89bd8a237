//! What the stages of the PR service (chapter 3, `crate::pr`) share: reading a PR case for a
//! caller, its guarded status change, and the stored parts a step cannot do without.

use jiff::civil::Date;
use koshi_store::repo::{self, ApplicationRow};

use crate::CaseError;
use crate::model::ContactInput;
use crate::service::{Caller, Service};

/// A PR case's status change, guarded by the revision it was read at.
pub(crate) fn status_change(
    app: &ApplicationRow,
    status: &str,
    decision: Option<String>,
    at: &str,
) -> Result<koshi_store::Op, CaseError> {
    crate::service::guard_transition(koshi_law::status::Service::Pr, &app.status, status)?;
    Ok(repo::change_status(repo::StatusChange {
        id: app.id.clone(),
        expected_revision: app.revision,
        status: status.to_string(),
        decision,
        permit_number: None,
        valid_from: None,
        valid_until: None,
        updated_at: at.to_string(),
    }))
}

impl Service {
    pub(crate) async fn pr_case(&self, caller: &Caller, id: &str, action: &str) -> Result<ApplicationRow, CaseError> {
        self.authz.allow(caller, action)?;
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        crate::rvp::views::party_may_see(caller, &app)?;
        self.authz.allow_case(caller, action, &app.unit, &app.filed_unit)?;
        if app.kind != "pr" {
            return Err(CaseError::conflict("not_a_pr_case", "this is not a PR case"));
        }
        Ok(app)
    }
}

/// A stored part of a case that a step cannot do without and cannot read: the step is refused
/// for a person to look (409), nothing is written, and nothing is rebuilt from a default.
pub(crate) fn unreadable(what: &str) -> CaseError {
    CaseError::unreadable(what)
}

pub(crate) fn stored_date(v: Option<&str>, what: &str) -> Result<Date, CaseError> {
    v.and_then(|d| d.parse().ok()).ok_or_else(|| unreadable(what))
}

pub(crate) fn stored_instant(v: &str, what: &str) -> Result<jiff::Timestamp, CaseError> {
    v.parse().map_err(|_| unreadable(what))
}

/// The contact the PR applicant gave, for a notice; a filing that cannot be read stops the
/// notice for a person, never sends it without the contact.
pub(crate) fn applicant_contact(app: &ApplicationRow) -> Result<Option<ContactInput>, CaseError> {
    serde_json::from_str::<crate::model::PrApplicationRequest>(&app.data)
        .map(|r| r.contact)
        .map_err(|_| unreadable("filing (the applicant's contact)"))
}
