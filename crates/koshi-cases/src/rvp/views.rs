//! Reading a case: who may, what is recorded of the read, and what the view shows.

use jiff::civil::Date;
use koshi_law::rvp::Check;
use koshi_store::repo::ApplicationRow;
use koshi_store::{Unit, instant};
use serde_json::{Value, json};

use crate::CaseError;
use crate::model::*;

use crate::service::*;

impl Service {
    // ------------------------------------------------------------------ views

    /// The case for a caller allowed to read it; the read of personal data enters the audit trail.
    pub async fn view_for(&self, caller: &Caller, id: &str) -> Result<ApplicationView, CaseError> {
        self.authz.allow(caller, "application.read")?;
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        party_may_see(caller, &app)?;
        self.may_read_case(caller, &app)?;
        let now_s = instant(self.now());
        let record = self.store.write(Unit::new().with(case_event(
            &app.id,
            &caller.actor(),
            "personal_data.read",
            "Law on Personal Data and Their Protection (access record)",
            crate::service::known_version(&app.rules_version)?,
            json!({"fields": "case file"}),
            &now_s,
        )));
        // The view is put together while the record of the read commits; it is shown only once
        // the record is durable, and not at all if the record fails.
        let (recorded, view) = tokio::join!(record, self.view_of(app));
        recorded?;
        view
    }

    /// Who read a case's personal data (the auditor's access log), newest first: a page of
    /// `limit` (1–500) before the cursor `before` (a previous page's `next`), and the next cursor.
    pub async fn access_log(
        &self,
        caller: &Caller,
        id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> Result<(Vec<koshi_store::repo::EventRow>, Option<String>), CaseError> {
        self.authz.allow(caller, "access_log.read")?;
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        self.authz
            .allow_case(caller, "access_log.read", &app.unit, &app.filed_unit)?;
        let before = match before {
            None => None,
            Some(c) => Some(c.split_once('|').ok_or_else(|| {
                CaseError::unprocessable(
                    "invalid_cursor",
                    "/before",
                    "the cursor is the `next` of a previous page",
                )
            })?),
        };
        let limit = limit.clamp(1, 500);
        let mut rows = self.store.access_log(id, before, limit + 1).await?;
        let next = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().map(|e| format!("{}|{}", e.at, e.id))
        } else {
            None
        };
        Ok((rows, next))
    }

    /// A case the caller may read (role, unit and party), for what is printed of it.
    pub(crate) async fn readable_case(
        &self,
        caller: &Caller,
        application_id: &str,
    ) -> Result<ApplicationRow, CaseError> {
        self.authz.allow(caller, "application.read")?;
        let app = self
            .store
            .application(application_id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        party_may_see(caller, &app)?;
        self.may_read_case(caller, &app)?;
        Ok(app)
    }

    /// Whether the caller reads this case: its units' cases (or, for a ЦОН, its filings), and a
    /// PR case that the caller's post approves (п. 15 абз. 2) — a УМС head approves the whole
    /// department's conclusions, beyond their own unit's queue, and must read what they approve.
    pub(crate) fn may_read_case(&self, caller: &Caller, app: &ApplicationRow) -> Result<(), CaseError> {
        match self
            .authz
            .allow_case(caller, "application.read", &app.unit, &app.filed_unit)
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let approves = app.kind == "pr"
                    && self.authz.allow(caller, "application.pr_approve").is_ok()
                    && self
                        .authz
                        .may_approve(caller.post.as_deref(), &caller.unit, &app.unit)
                        .is_ok();
                if approves { Ok(()) } else { Err(e) }
            }
        }
    }

    async fn view_of(&self, app: ApplicationRow) -> Result<ApplicationView, CaseError> {
        let checks = self.checks_of(&app).await?;
        let events = self.store.events(&app.id).await?;
        let mut receipt = self.receipt_of(&app.receipt)?;
        self.journal_receipt_number(&app, &mut receipt).await?;
        let now = self.law().calendar.civil(self.now());
        let open = matches!(
            app.status.as_str(),
            status::CHECKING | status::AWAITING_CONFIRMATION | status::AWAITING_OFFICER
        );
        let overdue = open
            && app
                .due_on
                .as_deref()
                .and_then(|d| d.parse::<Date>().ok())
                .is_some_and(|due| {
                    now.date() > due || (now.date() == due && now.time() >= self.law().calendar.hours().work_end)
                });
        Ok(ApplicationView {
            id: app.id,
            kind: app.kind,
            status: app.status,
            channel: app.channel,
            unit: app.unit,
            purpose: app.purpose,
            filed_at: app.filed_at,
            calendar_status: crate::lawdata::calendar_status_of(
                &self.law(),
                app.accepted_on.as_deref(),
                app.due_on.as_deref(),
            )
            .map(|s| s.code().to_string()),
            accepted_on: app.accepted_on,
            due_on: app.due_on,
            overdue,
            rules_version: app.rules_version,
            receipt,
            checks: checks
                .into_iter()
                .map(|c| CheckView {
                    citation: Check::parse(&c.check_name)
                        .map(|x| x.citation().to_string())
                        .unwrap_or_default(),
                    check: c.check_name.into_owned(),
                    state: c.state.into_owned(),
                    finding: c.finding.map(|f| stored_json(&f)),
                    source: c.source.into_owned(),
                    checked_at: c.checked_at,
                    attempts: c.attempts,
                    next_attempt_at: c.next_attempt_at,
                    last_error: c.last_error,
                })
                .collect(),
            decision: app.decision.map(|d| stored_json(&d)),
            events: events
                .into_iter()
                .map(|e| EventView {
                    at: e.at,
                    actor: e.actor,
                    action: e.action,
                    citation: e.citation,
                    rules_version: e.rules_version,
                    detail: stored_json(&e.detail),
                })
                .collect(),
        })
    }
}

/// A portal caller sees only the cases of the inviting party its ЭЦП proved (issue 14 item 4):
/// an RVP request whose inviting party it is. Another party's case is
/// answered as unknown, so that its existence is not revealed; a stored filing that cannot be read
/// is refused, never shown.
pub(crate) fn party_may_see(caller: &Caller, app: &ApplicationRow) -> Result<(), CaseError> {
    party_may_see_filing(caller, &app.kind, &app.channel, &app.data)
}

/// [`party_may_see`] on a case's kind, channel and stored filing: the party is one of the case's
/// parties ([`crate::stored::parties`]).
pub(crate) fn party_may_see_filing(caller: &Caller, kind: &str, channel: &str, filing: &str) -> Result<(), CaseError> {
    if caller.role != "portal" {
        return Ok(());
    }
    let Some(party) = caller.party.as_deref() else {
        return Err(CaseError::not_found("application"));
    };
    // Only the inviting party reads the case; a PR applicant receives its notices alone.
    if crate::stored::parties(kind, channel, filing)
        .map_err(|_| CaseError::not_found("application"))?
        .iter()
        .any(|(p, relation)| p == party && *relation == crate::stored::INVITING_PARTY)
    {
        Ok(())
    } else {
        Err(CaseError::not_found("application"))
    }
}

/// A stored JSON value for a view: one that cannot be read is shown as such, never as empty.
pub(crate) fn stored_json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| json!({"unreadable": true, "error": e.to_string()}))
}
