//! The hearing before an adverse act (п. 17, 18): notice, written position, record.

use koshi_law::agencies::Agency;
use koshi_law::clocks::LegalClock;
use koshi_law::terms;
use koshi_store::{Unit, instant};
use serde_json::json;

use crate::CaseError;
use crate::model::*;
use crate::service::{Caller, Service, case_event, outbox_message};

use crate::pr_record::{Hearing, PrRecord, WrittenPosition};
use crate::pr_service::*;

impl Service {
    /// п. 17: the notice of a hearing on the preliminary decision to refuse. The hearing is held
    /// within 2 working days of the notice; the act comes no earlier than 3 working days after it.
    pub async fn notify_hearing(
        &self,
        caller: &Caller,
        id: &str,
        h: HearingNoticeRequest,
    ) -> Result<serde_json::Value, CaseError> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        // Before a refusal (п. 17) or an annulment (п. 18): the right to be heard.
        let (next, annulment, act) = match app.status.as_str() {
            "hearing_required" => ("hearing_notified", false, "conclusion"),
            "annulment_hearing_required" => ("annulment_hearing_notified", true, "annulment"),
            other => {
                return Err(CaseError::conflict(
                    "no_hearing_due",
                    format!("the case is {other}; a hearing precedes a refusal or an annulment only"),
                ));
            }
        };
        let hearing_on = h.hearing_on.date();
        let now = self.now();
        let now_s = instant(now);
        let cal = &self.law().calendar;
        let notice_on = cal.civil(now).date();
        let calerr = |e: koshi_law::CalendarError| CaseError::unprocessable(e.code(), "/hearing_on", e.to_string());
        if let Err(v) = terms::check_hearing_date(cal, notice_on, hearing_on).map_err(calerr)? {
            let detail = match v {
                terms::HearingViolation::HearingTooLate { latest } => {
                    format!(
                        "the hearing must be held within 2 working days of the notice of {notice_on}: by {latest} (п. 17)"
                    )
                }
                _ => format!("the hearing cannot be before the notice of {notice_on} (п. 17)"),
            };
            return Err(CaseError::unprocessable(v.code(), "/hearing_on", detail));
        }
        let act_not_before = terms::earliest_act_after_notice(cal, notice_on).map_err(calerr)?;
        let mut record = PrRecord::required(&app)?;
        let hearing = Hearing {
            notice_on,
            hearing_on,
            act_not_before,
            citation: "п. 17".into(),
            written_positions: Vec::new(),
            held_on: None,
            position: None,
            result: None,
            kept: Default::default(),
        };
        *record.hearing_mut(annulment) = Some(hearing.clone());
        let grounds = if annulment {
            record.annulment.as_ref().map(|a| a.grounds.clone())
        } else {
            record.conclusion.as_ref().map(|c| c.grounds.clone())
        };
        let mut unit = Unit::new();
        unit.push(status_change(&app, next, Some(record.to_json()), &now_s)?);
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.hearing.notified",
            terms::HEARING.as_str(),
            crate::service::known_version(&app.rules_version)?,
            json!(hearing).to_string(),
            &now_s,
        ));
        // The notice reaches the applicant through the case's channel, and at the contact the
        // applicant gave, when one was given.
        let contact = applicant_contact(&app)?;
        unit.push(outbox_message(&app.id, crate::service::result_topic(&app.channel), json!({"application_id": app.id, "document": "hearing_notice", "on": act, "hearing_on": hearing_on.to_string(), "grounds": grounds, "contact": contact, "citation": "п. 17", "calendar_status": self.law().calendar.status_between(notice_on, hearing_on).code()}).to_string(), &now_s));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": next, "hearing": hearing}))
    }

    /// п. 17: the applicant's written position may arrive before the hearing; it goes on the case
    /// with the day it was received, for the hearing to weigh.
    pub async fn record_written_position(
        &self,
        caller: &Caller,
        id: &str,
        w: WrittenPositionRequest,
    ) -> Result<serde_json::Value, CaseError> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        let annulment = match app.status.as_str() {
            "hearing_notified" => false,
            "annulment_hearing_notified" => true,
            other => {
                return Err(CaseError::conflict(
                    "no_hearing_scheduled",
                    format!("the case is {other}: a written position is received while a hearing is scheduled"),
                ));
            }
        };
        if w.position.trim().is_empty() {
            return Err(CaseError::unprocessable(
                "missing_field",
                "/position",
                "the position is stated",
            ));
        }
        let now = self.now();
        let now_s = instant(now);
        let today = self.law().calendar.civil(now).date();
        let mut record = PrRecord::required(&app)?;
        let hearing = record
            .hearing_mut(annulment)
            .as_mut()
            .ok_or_else(|| unreadable("hearing notice"))?;
        hearing.written_positions.push(WrittenPosition {
            received_on: today,
            received_by: caller.actor(),
            position: w.position,
            kept: Default::default(),
        });
        let hearing = hearing.clone();
        let mut unit = Unit::new();
        unit.push(status_change(&app, &app.status, Some(record.to_json()), &now_s)?);
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.hearing.written_position",
            terms::HEARING.as_str(),
            crate::service::known_version(&app.rules_version)?,
            json!({"received_on": today.to_string()}).to_string(),
            &now_s,
        ));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": app.status, "hearing": hearing}))
    }

    /// п. 17: the hearing held, the applicant's position recorded; its result decides further
    /// consideration (back to the conclusion) or the refusal conclusion goes to approval.
    pub async fn hold_hearing(
        &self,
        caller: &Caller,
        id: &str,
        h: HearingRequest,
    ) -> Result<serde_json::Value, CaseError> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        let annulment = match app.status.as_str() {
            "hearing_notified" => false,
            "annulment_hearing_notified" => true,
            other => {
                return Err(CaseError::conflict(
                    "no_hearing_scheduled",
                    format!("the case is {other}, no hearing is scheduled"),
                ));
            }
        };
        if h.position.trim().is_empty() {
            return Err(CaseError::unprocessable(
                "missing_field",
                "/position",
                "the applicant's position is recorded (or that they did not come)",
            ));
        }
        // Further consideration goes back to the stage the case had not finished: a refusal drawn
        // early on a ground found at intake left the agencies unasked or unanswered.
        let requests = self.store.agency_requests(&app.id).await?;
        let further = if requests.is_empty() {
            "registered"
        } else if requests.iter().any(|r| r.state == "waiting") {
            "awaiting_answers"
        } else {
            "conclusion_due"
        };
        let status = match (annulment, h.result.as_str()) {
            (false, "continue") => further,
            (false, "refuse") => "conclusion_drafted",
            // The holder's position persuades: the permit stands; or the annulment goes to approval.
            (true, "keep") => "issued",
            (true, "annul") => "annulment_drafted",
            (_, other) => {
                return Err(CaseError::unprocessable(
                    "unknown_result",
                    "/result",
                    if annulment {
                        format!("{other:?} is not keep or annul")
                    } else {
                        format!("{other:?} is not continue or refuse")
                    },
                ));
            }
        };
        let now = self.now();
        let now_s = instant(now);
        let today = self.law().calendar.civil(now).date();
        let mut record = PrRecord::required(&app)?;
        let scheduled = record
            .hearing_mut(annulment)
            .clone()
            .ok_or_else(|| unreadable("hearing notice"))?;
        let notice_on = scheduled.notice_on;
        let latest = terms::hearing_by(&self.law().calendar, notice_on)
            .map_err(|e| CaseError::unprocessable(e.code(), "/", e.to_string()))?;
        // п. 17: the hearing is held on the day its notice announced, not before (the applicant's
        // written position may arrive earlier, as a document on the case).
        let announced = scheduled.hearing_on;
        if today < announced {
            return Err(CaseError::conflict(
                "hearing_not_yet",
                format!("the hearing was announced for {announced}; it cannot be recorded before that day (п. 17)"),
            ));
        }
        if today > latest {
            return Err(CaseError::unprocessable(
                "hearing_too_late",
                "/",
                format!(
                    "the hearing had to be held by {latest}, 2 working days after the notice (п. 17); notify again"
                ),
            ));
        }
        let held = Hearing {
            held_on: Some(today),
            position: Some(h.position.clone()),
            result: Some(h.result.clone()),
            ..scheduled
        };
        *record.hearing_mut(annulment) = Some(held.clone());
        let mut unit = Unit::new();
        if !annulment && h.result == "continue" {
            record.conclusion = None;
            // The hearing set aside the ground found at intake; it stays on the record.
            if let Some(g) = record.grounds_at_intake.take() {
                record.grounds_at_intake_set_aside = Some(g);
            }
            // The clocks of the stage the case goes back to run again.
            let version = crate::service::known_version(&app.rules_version)?;
            let service_due = stored_date(app.due_on.as_deref(), "service term")?;
            if status == "registered" {
                let due = terms::pr_stage_due(terms::PrStage::SendToUms, today, service_due);
                self.start_clock(
                    &mut unit,
                    LegalClock::SendToUms,
                    &app.id,
                    due,
                    json!({"due_on": due.to_string()}),
                    version,
                );
            }
            // The answers still due run their terms again from the hearing, within the service term.
            for r in requests.iter().filter(|r| r.state == "waiting") {
                if let Some(agency) = Agency::parse(&r.agency) {
                    let due = agency.answer_due(today, service_due);
                    self.start_clock(
                        &mut unit,
                        LegalClock::AnswerDue(agency),
                        &app.id,
                        due,
                        json!({"agency": r.agency, "due_on": due.to_string()}),
                        version,
                    );
                }
            }
        }
        if status == "issued" {
            // The annulment is dropped; its drafting and hearing stay in the audit trail.
            record.annulment_dropped = record.annulment.take();
        }
        unit.push(status_change(&app, status, Some(record.to_json()), &now_s)?);
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.hearing.held",
            terms::HEARING.as_str(),
            crate::service::known_version(&app.rules_version)?,
            json!({"result": h.result}).to_string(),
            &now_s,
        ));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": status, "hearing": held}))
    }
}
