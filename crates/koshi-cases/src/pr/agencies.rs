//! The requests of п. 14 пп. 2–3 and the agencies' answers, each from its source.

use koshi_law::agencies::{Agency, AnswerSource};
use koshi_store::repo::{self, ApplicationRow};
use koshi_store::{StoreError, Unit, instant};
use serde_json::json;

use crate::CaseError;
use crate::model::*;
use crate::service::{Caller, Service, case_event, outbox_message};

use crate::pr_service::*;

impl Service {
    /// п. 14 пп. 2–3: the case goes to УМС ДП for approval and the bank, police, КПСиСУ and
    /// national-security (via «Беркут») requests go out, each with its answer deadline; the
    /// messages leave through the outbox (at least once).
    /// The requests of п. 14 sent for a PR case the caller may read, and their answers.
    pub async fn agency_requests_of(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<Vec<koshi_store::repo::AgencyRequestRow>, CaseError> {
        let app = self.readable_case(caller, id).await?;
        Ok(self.store.agency_requests(&app.id).await?)
    }

    pub async fn send_pr_requests(&self, caller: &Caller, id: &str) -> Result<serde_json::Value, CaseError> {
        let app = self.pr_case(caller, id, "application.pr_requests").await?;
        if app.status != "registered" {
            return Err(CaseError::conflict(
                "requests_already_sent",
                format!("the case is {}, not registered", app.status),
            ));
        }
        let now = self.now();
        let now_s = instant(now);
        let today = self.law().calendar.civil(now).date();
        let service_due = stored_date(app.due_on.as_deref(), "service term")?;
        let mut unit = Unit::new();
        unit.push(status_change(&app, "awaiting_answers", None, &now_s)?);
        Service::stop_clock(&mut unit, koshi_law::clocks::LegalClock::SendToUms, &app.id);
        let mut sent = Vec::new();
        for agency in Agency::ALL {
            let (cite, due) = (agency.citation(), agency.answer_due(today, service_due));
            let clock_agency = agency;
            let agency = agency.code();
            unit.push(repo::insert_agency_request(&repo::AgencyRequestRow {
                application_id: app.id.clone(),
                agency: agency.into(),
                sent_at: now_s.clone(),
                due_on: due.to_string(),
                state: "waiting".into(),
                outcome: None,
                detail: None,
                answered_at: None,
                answered_by: None,
            }));
            self.start_clock(
                &mut unit,
                koshi_law::clocks::LegalClock::AnswerDue(clock_agency),
                &app.id,
                due,
                json!({"agency": agency, "due_on": due.to_string()}),
                crate::service::known_version(&app.rules_version)?,
            );
            unit.push(outbox_message(&app.id, format!("agency.{agency}"), json!({"application_id": app.id, "unit": app.unit, "request": agency, "answer_by": due.to_string(), "citation": cite}).to_string(), &now_s));
            sent.push(json!({"agency": agency, "answer_by": due.to_string(), "citation": cite}));
        }
        unit.push(self.monitoring(&app.id, "pr.requests_sent", &now_s, &app.rules_version));
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.requests.sent",
            "п. 14 пп. 2–3",
            crate::service::known_version(&app.rules_version)?,
            json!({"requests": sent}).to_string(),
            &now_s,
        ));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": "awaiting_answers", "requests": sent}))
    }

    /// An agency's answer. Refused (and nothing changed) unless the case waits for that agency.
    /// The conclusion window (п. 14 пп. 4, 10 days) opens with the last answer.
    pub async fn record_agency_answer(
        &self,
        caller: &Caller,
        id: &str,
        a: AgencyAnswerRequest,
    ) -> Result<serde_json::Value, CaseError> {
        let Some(agency) = Agency::parse(&a.agency) else {
            return Err(CaseError::unprocessable(
                "unknown_agency",
                "/agency",
                format!("{:?} is not an agency of п. 14", a.agency),
            ));
        };
        if a.outcome != "positive" && a.outcome != "negative" {
            return Err(CaseError::unprocessable(
                "unknown_outcome",
                "/outcome",
                "expected positive or negative",
            ));
        }
        for _ in 0..5 {
            let app = self.pr_case(caller, id, "application.agency_answer").await?;
            let source = self.answer_source(caller, &app, agency, a.paper_act.as_ref())?;
            let requests = self.store.agency_requests(&app.id).await?;
            let request = requests.iter().find(|r| r.agency == a.agency && r.state == "waiting");
            let Some(request) = request.filter(|_| app.status == "awaiting_answers") else {
                return Err(CaseError::conflict(
                    "not_waiting_for_answer",
                    format!(
                        "the case ({}) is not waiting for an answer from {}",
                        app.status, a.agency
                    ),
                ));
            };
            let now = self.now();
            let now_s = instant(now);
            let today = self.law().calendar.civil(now).date();
            let sent_on = self
                .law()
                .calendar
                .civil(stored_instant(&request.sent_at, "request sent")?)
                .date();
            agency
                .accepts(&source, sent_on, today)
                .map_err(|e| CaseError::unprocessable(e.code(), "/paper_act", e.to_string()))?;
            let last = requests.iter().filter(|r| r.state == "waiting").count() == 1;
            let mut unit = Unit::new();
            unit.push(repo::answer_agency(
                &app.id,
                &a.agency,
                &a.outcome,
                &a.detail,
                &now_s,
                &caller.actor(),
            ));
            Service::stop_clock(&mut unit, koshi_law::clocks::LegalClock::AnswerDue(agency), &app.id);
            let status = if last { "conclusion_due" } else { "awaiting_answers" };
            unit.push(status_change(&app, status, None, &now_s)?);
            unit.push(case_event(
                &app.id,
                &caller.actor(),
                "pr.answer.recorded",
                agency.citation(),
                crate::service::known_version(&app.rules_version)?,
                json!({"agency": a.agency, "outcome": a.outcome, "source": source_json(&source)}).to_string(),
                &now_s,
            ));
            let mut conclusion_by = None;
            if last {
                let due = self.start_conclusion_clock(&mut unit, &app, today)?;
                conclusion_by = Some(due.to_string());
                unit.push(case_event(
                    &app.id,
                    "system",
                    "pr.conclusion.window_opened",
                    "п. 14 пп. 4",
                    crate::service::known_version(&app.rules_version)?,
                    json!({"conclusion_by": due.to_string()}).to_string(),
                    &now_s,
                ));
            }
            match self.store.write(unit).await {
                Ok(()) => return Ok(json!({"id": app.id, "status": status, "conclusion_by": conclusion_by})),
                // Another answer for the case committed first: read again and retry.
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CaseError::conflict("conflict", "the case changed concurrently; retry"))
    }

    /// Where an answer recorded by `caller` comes from (issue 14 item 2): an agency's own
    /// identity answers for that agency; an officer of the УМС ДП reaching the case answers for
    /// the УМС ДП; the case officer only enters a paper act, for the agencies that allow it.
    pub(crate) fn answer_source(
        &self,
        caller: &Caller,
        app: &ApplicationRow,
        agency: Agency,
        paper: Option<&crate::model::PaperActInput>,
    ) -> Result<AnswerSource, CaseError> {
        let forbidden = |why: String| Err(CaseError::new(crate::Kind::Forbidden, "not_the_agency", why));
        let kind = self.authz.unit(&caller.unit).map(|u| u.kind.as_str()).unwrap_or("");
        match (caller.role.as_str(), kind) {
            ("agency", _) => match self.authz.unit(&caller.unit).and_then(|u| u.agency.as_deref()) {
                Some(a) if a == agency.code() && paper.is_none() => Ok(AnswerSource::TheAgency),
                Some(a) if a == agency.code() => Err(CaseError::unprocessable(
                    "paper_act_not_expected",
                    "/paper_act",
                    "an agency answers itself; a paper act is entered only by the case officer",
                )),
                _ => forbidden(format!("{} does not answer for {}", caller.unit, agency.code())),
            },
            ("officer", "ums_dp") if agency == Agency::UmsDp => {
                let region = self.authz.unit(&caller.unit).and_then(|u| u.parent.clone());
                match region {
                    Some(r) if self.authz.serves(&r, &app.unit) && paper.is_none() => Ok(AnswerSource::TheAgency),
                    Some(r) if self.authz.serves(&r, &app.unit) => Err(CaseError::unprocessable(
                        "paper_act_not_expected",
                        "/paper_act",
                        "the УМС ДП approves in the system itself, with no paper act",
                    )),
                    _ => forbidden(format!("{} is not the УМС ДП of unit {}", caller.unit, app.unit)),
                }
            }
            ("officer", _) => {
                if !self.authz.serves(&caller.unit, &app.unit) {
                    return forbidden(format!(
                        "the case belongs to unit {}, which unit {} does not serve",
                        app.unit, caller.unit
                    ));
                }
                if !agency.paper_answer_allowed() {
                    return Err(CaseError::new(
                        crate::Kind::Forbidden,
                        "answer_from_agency_only",
                        format!(
                            "the {} answer comes from the agency itself, never from the case officer ({})",
                            agency.code(),
                            if agency == Agency::NationalSecurity {
                                "Law on Migration art. 49: no PR without the national security bodies' approval, through «Беркут»"
                            } else {
                                "п. 14 пп. 2: the УМС ДП approves through ИС МП"
                            }
                        ),
                    ));
                }
                let Some(p) = paper else {
                    return Err(CaseError::unprocessable(
                        "paper_act_required",
                        "/paper_act",
                        "an officer enters an agency's answer only from its paper act: give its number, date and your attestation",
                    ));
                };
                let date = p.date.date();
                Ok(AnswerSource::OfficerPaperAct {
                    number: p.number.clone(),
                    date,
                    attestation: p.attestation.clone(),
                })
            }
            _ => forbidden(format!("the {} role does not record agency answers", caller.role)),
        }
    }
}

/// The provenance of an answer as the audit trail records it.
pub(crate) fn source_json(s: &AnswerSource) -> serde_json::Value {
    match s {
        AnswerSource::TheAgency => json!({"kind": "agency"}),
        AnswerSource::OfficerPaperAct {
            number,
            date,
            attestation,
        } => {
            json!({"kind": "officer_paper_act", "act_number": number, "act_date": date.to_string(), "attestation": attestation})
        }
    }
}
