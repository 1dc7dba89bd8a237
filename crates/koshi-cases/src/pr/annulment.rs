//! Annulment (п. 18–21) and the transfer of a permanent resident's file (п. 17-1).

use koshi_store::repo::{self, ApplicationRow};
use koshi_store::{StoreError, Unit, instant};
use serde_json::json;

use crate::CaseError;
use crate::model::*;
use crate::service::{Caller, Service, case_event, outbox_message};

use crate::pr_record::{Annulment, ExitRvp, PrRecord, RecordedGround};
use crate::pr_service::*;

impl Service {
    /// п. 18: the conclusion of annulment (App. 11) of an issued permit, on the grounds of art. 49.
    pub async fn draft_annulment(
        &self,
        caller: &Caller,
        id: &str,
        a: AnnulmentRequest,
    ) -> Result<serde_json::Value, CaseError> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        if app.status != "issued" {
            return Err(CaseError::conflict(
                "not_annullable",
                format!("the case is {}; only an issued permit is annulled", app.status),
            ));
        }
        if a.grounds.is_empty() || a.grounds.iter().any(|g| g.detail.trim().is_empty()) {
            return Err(CaseError::unprocessable(
                "grounds_required",
                "/grounds",
                "an annulment states its grounds (Law on Migration art. 49)",
            ));
        }
        let now_s = instant(self.now());
        let mut record = PrRecord::required(&app)?;
        let annulment = Annulment {
            form: "App. 11".into(),
            grounds: a
                .grounds
                .iter()
                .map(|g| RecordedGround::new(&g.check, &g.detail, None))
                .collect(),
            drafted_by: caller.actor(),
            drafted_at: now_s.clone(),
            citation: "п. 18".into(),
            approved_by: None,
            approved_at: None,
            leave_by: None,
            exit_rvp: None,
            kept: Default::default(),
        };
        record.annulment = Some(annulment.clone());
        let mut unit = Unit::new();
        // п. 17, 18: the holder is heard before the adverse act, as before a refusal.
        unit.push(status_change(
            &app,
            "annulment_hearing_required",
            Some(record.to_json()),
            &now_s,
        )?);
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.annulment.drafted",
            "п. 18; App. 11",
            crate::service::known_version(&app.rules_version)?,
            json!(annulment).to_string(),
            &now_s,
        ));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": "annulment_hearing_required", "annulment": annulment}))
    }

    /// п. 15, 19–21: the approved annulment; the notice (App. 12); departure within 30 calendar
    /// days of the approval; an RVP for the time needed to leave.
    pub(crate) async fn approve_annulment(
        &self,
        caller: &Caller,
        app: ApplicationRow,
    ) -> Result<serde_json::Value, CaseError> {
        let now = self.now();
        let now_s = instant(now);
        // п. 17, 18: no annulment without the holder heard, nor before 3 working days after the notice.
        let mut record = PrRecord::required(&app)?;
        let not_before = record.annulment_hearing.as_ref().map(|h| h.act_not_before);
        koshi_law::pr::adverse_act_allowed(not_before, self.law().calendar.civil(now).date())
            .map_err(|e| CaseError::conflict(e.code(), e.to_string()))?;
        let today = self.law().calendar.civil(now).date();
        let exit = koshi_law::rvp::exit_rvp(&self.law().calendar, today)
            .map_err(|e| CaseError::conflict(e.code(), e.to_string()))?;
        let exit_number = format!(
            "KZ-RVP-EXIT-{}-{}",
            today.year(),
            &app.id.replace('-', "")[20..].to_uppercase()
        );
        // The exit date is computed on the working calendar: the document says how settled it is.
        let exit_calendar = self.law().calendar.status_between(today, exit.valid_until);
        let annulment = record
            .annulment
            .as_mut()
            .ok_or_else(|| unreadable("conclusion of annulment"))?;
        annulment.approved_by = Some(caller.actor());
        annulment.approved_at = Some(now_s.clone());
        annulment.leave_by = Some(exit.valid_until);
        annulment.exit_rvp = Some(ExitRvp {
            number: exit_number,
            valid_from: exit.valid_from,
            valid_until: exit.valid_until,
            citation: "п. 21".into(),
            calendar_status: exit_calendar.code().into(),
            kept: Default::default(),
        });
        let annulment = annulment.clone();
        record.outcome = Some("annulled".into());
        record.concluded_on = Some(today);
        let mut unit = Unit::new();
        crate::service::guard_transition(koshi_law::status::Service::Pr, &app.status, "annulled")?;
        unit.push(repo::change_status(repo::StatusChange {
            id: app.id.clone(),
            expected_revision: app.revision,
            status: "annulled".into(),
            decision: Some(record.to_json()),
            permit_number: None,
            valid_from: None,
            valid_until: Some(today.to_string()),
            updated_at: now_s.clone(),
        }));
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.annulment.approved",
            "п. 15 абз. 2; п. 19; п. 20; п. 21",
            crate::service::known_version(&app.rules_version)?,
            json!(annulment).to_string(),
            &now_s,
        ));
        unit.push(self.monitoring(&app.id, "pr.annulled", &now_s, &app.rules_version));
        let leave_by = exit.valid_until;
        self.start_clock(
            &mut unit,
            koshi_law::clocks::LegalClock::ExitDeadline,
            &app.id,
            leave_by,
            json!({"leave_by": leave_by.to_string()}),
            crate::service::known_version(&app.rules_version)?,
        );
        // п. 19: the notice is sent to the holder, through the case's channel and to the contact
        // the holder gave, as every notice of the case.
        let contact = applicant_contact(&app)?;
        let files = self.annulment_documents(&mut unit, &app, &record, caller, now).await?;
        unit.push(outbox_message(&app.id, crate::service::result_topic(&app.channel), json!({"application_id": app.id, "document": "annulment_notice", "files": files, "form": "App. 12", "grounds": annulment.grounds, "leave_by": leave_by.to_string(), "exit_rvp": annulment.exit_rvp, "contact": contact, "citation": "п. 19–21"}).to_string(), &now_s));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": "annulled", "decision": record}))
    }

    /// п. 17-1: on a change of residence the new police body requests the case file; registration
    /// at the new address is done the same day. The case moves to the caller's unit and enters its
    /// journal.
    pub async fn transfer_case(
        &self,
        caller: &Caller,
        id: &str,
        t: TransferRequest,
    ) -> Result<serde_json::Value, CaseError> {
        self.authz.allow(caller, "application.pr_transfer")?;
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        if app.kind != "pr" || app.status != "issued" {
            return Err(CaseError::conflict(
                "not_transferable",
                "only the case of a permanent resident (an issued PR permit) moves",
            ));
        }
        if !self.authz.is_police(&caller.unit) {
            return Err(CaseError::forbidden("the case file is requested by a police body"));
        }
        if caller.unit == app.unit {
            return Err(CaseError::conflict(
                "same_unit",
                "the case is already kept by this police body",
            ));
        }
        if t.new_address.trim().is_empty() {
            return Err(CaseError::unprocessable(
                "missing_field",
                "/new_address",
                "the new address is registered the same day",
            ));
        }
        let now = self.now();
        let now_s = instant(now);
        let today = self.law().calendar.civil(now).date();
        // The new body enters the case in its journal (App. 8) the day it takes it over.
        let journal_key = format!("{}/transfer/{}", app.id, uuid::Uuid::now_v7());
        let mut unit = Unit::new();
        unit.push(repo::move_case(&app.id, app.revision, &caller.unit, &now_s));
        unit.push(repo::register_in_journal(&caller.unit, &journal_key, &now_s));
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.transferred",
            "п. 17-1",
            crate::service::known_version(&app.rules_version)?,
            json!({"from": app.unit, "to": caller.unit, "registered_on": today.to_string(), "journal_entry": journal_key}).to_string(),
            &now_s,
        ));
        // Two cases taken over at once may race for one journal number: the loser retries.
        let mut tries = 0;
        loop {
            match self.store.write(unit.clone()).await {
                Ok(()) => break,
                Err(StoreError::Conflict(m)) if tries < 5 && m.contains("journal") => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
        let number = self
            .store
            .journal_number(&journal_key)
            .await?
            .map(|n| format!("{}/{n}", caller.unit));
        Ok(
            json!({"id": app.id, "unit": caller.unit, "from": app.unit, "registered_on": today.to_string(), "case_file": number, "citation": "п. 17-1"}),
        )
    }
}
