//! The conclusion (App. 9, п. 14 пп. 4) and its approval (п. 15), solvency (App. 3).

use jiff::civil::Date;
use koshi_law::agencies::Agency;
use koshi_law::requirements::SubmittedDocument;
use koshi_law::terms;
use koshi_store::repo::{self, ApplicationRow};
use koshi_store::{Unit, instant};
use serde_json::json;

use crate::CaseError;
use crate::model::*;
use crate::service::{Caller, Service, case_event, outbox_message};

use crate::pr_record::{Approval, Conclusion, Outcome, PrRecord, RecordedGround, ReturnedDraft};
use crate::pr_service::*;

impl Service {
    /// App. 3; Law on Migration art. 49 пп. 4: the money confirmed must cover 1,320 MCI and, unless
    /// housing is contracted, 15 m² per family member — except for the exempt categories.
    pub(crate) fn check_solvency(&self, app: &ApplicationRow) -> Result<serde_json::Value, CaseError> {
        let req = crate::stored::pr_filing(&app.data)?;
        // The exemption and contracted housing follow from the ground and the documents kept with
        // the case (a flag a filer once declared counts for nothing).
        let documents: Vec<SubmittedDocument> = req
            .documents
            .iter()
            .map(|d| SubmittedDocument {
                kind: d.kind.clone(),
                issued_on: None,
                expires_on: None,
                has_electronic_copy: true,
            })
            .collect();
        let law = self.law();
        let (derived, exemption) =
            law.requirements
                .pr_derived_facts(&app.purpose, &req.applicant.citizenship, &documents);
        let exempt = exemption.is_some();
        let on = stored_date(app.accepted_on.as_deref(), "acceptance day")?;
        let input = koshi_law::pr::SolvencyInput {
            on,
            family_members: 1 + u32::try_from(req.family.len()).unwrap_or(u32::MAX),
            housing_contracted: derived.contains(&"housing_contracted"),
            exempt,
            price_per_square_metre_tiyn: req.solvency.as_ref().and_then(|s| s.price_per_square_metre_tiyn),
            funds_tiyn: req.solvency.as_ref().map_or(0, |s| s.funds_tiyn),
        };
        if !exempt && req.solvency.is_none() {
            return Err(CaseError::conflict(
                "solvency_not_established",
                "the funds confirmed by the bank are not on the case (App. 3)",
            ));
        }
        let s = koshi_law::pr::solvency(&self.law().params, &input)
            .map_err(|e| CaseError::conflict("solvency_not_established", format!("{e} (App. 3)")))?;
        if !s.sufficient {
            return Err(CaseError::conflict(
                "insufficient_solvency",
                format!(
                    "the funds confirmed ({} ₸) are below the {} ₸ required ({}); a permit cannot be issued",
                    input.funds_tiyn / koshi_law::pr::TIYN,
                    s.required_tiyn / koshi_law::pr::TIYN,
                    s.citation
                ),
            ));
        }
        Ok(json!({"required_tiyn": s.required_tiyn, "citation": s.citation.to_string()}))
    }

    /// п. 14 пп. 4: the conclusion to issue or to refuse (App. 9), once every agency answered. A
    /// permit cannot be issued over a negative answer (no PR without the national-security
    /// bodies' approval, Law on Migration art. 49); a refusal first goes through a hearing (п. 17).
    pub async fn draft_conclusion(
        &self,
        caller: &Caller,
        id: &str,
        c: ConclusionRequest,
    ) -> Result<serde_json::Value, CaseError> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        // Grounds to refuse the service found at intake (issue 14 item 9): no permit is concluded
        // over them, and the refusal need not wait for the agencies' answers.
        let earlier = PrRecord::of(&app)?;
        let at_intake: Vec<Ground> = earlier.grounds_at_intake.clone().unwrap_or_default();
        let early = !at_intake.is_empty() && matches!(app.status.as_str(), "registered" | "awaiting_answers");
        if app.status != "conclusion_due" && !early {
            return Err(CaseError::conflict(
                "not_awaiting_conclusion",
                format!("the case is {}, not awaiting a conclusion", app.status),
            ));
        }
        if !at_intake.is_empty() && c.outcome == "issue" {
            return Err(CaseError::conflict(
                "intake_ground_stands",
                "a ground to refuse the service was found at intake (see the talon): the conclusion refuses, after a hearing (п. 17)",
            ));
        }
        let answers = self.store.agency_requests(&app.id).await?;
        // Every agency's answer is on the case and reads positive or negative; anything else
        // (missing, unanswered, an unknown outcome) is never read as "not negative".
        for agency in Agency::ALL.map(Agency::code).into_iter().filter(|_| !early) {
            match answers
                .iter()
                .find(|a| a.agency == agency)
                .and_then(|a| a.outcome.as_deref())
            {
                Some("positive" | "negative") => {}
                _ => return Err(unreadable(&format!("answer of {agency}"))),
            }
        }
        let negative: Vec<&str> = answers
            .iter()
            .filter(|a| a.outcome.as_deref() == Some("negative"))
            .map(|a| a.agency.as_str())
            .collect();
        let now_s = instant(self.now());
        let drafted = |outcome, citation: &str, grounds| Conclusion {
            outcome,
            form: "App. 9".into(),
            citation: citation.into(),
            grounds,
            drafted_by: caller.actor(),
            drafted_at: now_s.clone(),
            comment: c.comment.clone(),
            kept: Default::default(),
        };
        let (status, conclusion) = match c.outcome.as_str() {
            "issue" => {
                self.check_solvency(&app)?;
                koshi_law::pr::permit_barred_by_answers(&negative)
                    .map_err(|why| CaseError::conflict("negative_answer", why))?;
                ("conclusion_drafted", drafted(Outcome::Issue, "п. 14 пп. 4", Vec::new()))
            }
            "refuse" => {
                if c.grounds.is_empty() && at_intake.is_empty() {
                    return Err(CaseError::unprocessable(
                        "grounds_required",
                        "/grounds",
                        "a refusal names its grounds (п. 17)",
                    ));
                }
                let grounds: Vec<_> = at_intake
                    .iter()
                    .map(|g| RecordedGround::new(&g.code, &g.detail, Some(&g.citation)))
                    .chain(c.grounds.iter().map(|g| RecordedGround::new(&g.check, &g.detail, None)))
                    .collect();
                (
                    "hearing_required",
                    drafted(Outcome::Refuse, "п. 14 пп. 4; п. 17", grounds),
                )
            }
            other => {
                return Err(CaseError::unprocessable(
                    "unknown_outcome",
                    "/outcome",
                    format!("{other:?} is not issue or refuse"),
                ));
            }
        };
        let mut unit = Unit::new();
        // What earlier hearings decided stays on the record (a ground set aside, the positions
        // heard), and so do the drafts the approving post returned with their comments; a new
        // refusal needs a hearing of its own, so the earlier one is kept apart.
        let mut earlier_hearings = earlier.earlier_hearings;
        earlier_hearings.extend(earlier.hearing);
        let record = PrRecord {
            conclusion: Some(conclusion.clone()),
            grounds_at_intake: (!at_intake.is_empty()).then_some(at_intake),
            grounds_at_intake_set_aside: earlier.grounds_at_intake_set_aside,
            earlier_hearings,
            returned_drafts: earlier.returned_drafts,
            kept: earlier.kept,
            ..PrRecord::default()
        };
        unit.push(status_change(&app, status, Some(record.to_json()), &now_s)?);
        Service::stop_clock(&mut unit, koshi_law::clocks::LegalClock::Conclusion, &app.id);
        if early {
            // The stages before the conclusion end with it: their clocks stop.
            Service::stop_clock(&mut unit, koshi_law::clocks::LegalClock::SendToUms, &app.id);
            for agency in Agency::ALL {
                Service::stop_clock(&mut unit, koshi_law::clocks::LegalClock::AnswerDue(agency), &app.id);
            }
        }
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.conclusion.drafted",
            "п. 14 пп. 4; App. 9",
            crate::service::known_version(&app.rules_version)?,
            json!(conclusion).to_string(),
            &now_s,
        ));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": status, "conclusion": conclusion}))
    }

    /// п. 14 пп. 4: the conclusion's stage term from `today` (never past the service term), its
    /// clock started in `unit`; the day it ends.
    pub(crate) fn start_conclusion_clock(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        today: Date,
    ) -> Result<Date, CaseError> {
        let service_due = stored_date(app.due_on.as_deref(), "service term")?;
        let due = terms::pr_stage_due(terms::PrStage::Conclusion, today, service_due);
        self.start_clock(
            unit,
            koshi_law::clocks::LegalClock::Conclusion,
            &app.id,
            due,
            json!({"due_on": due.to_string()}),
            crate::service::known_version(&app.rules_version)?,
        );
        Ok(due)
    }

    /// п. 15 абз. 2: the post that approves conclusions may instead return a draft to the officer
    /// with a comment (a written reason is required). The case is again due a conclusion, with
    /// the conclusion stage's term counted anew from the return and never past the service term
    /// (docs/interpretations.md, "A conclusion returned by the approving post"); the draft stays
    /// on the record as returned.
    pub async fn return_conclusion(
        &self,
        caller: &Caller,
        id: &str,
        comment: &str,
    ) -> Result<serde_json::Value, CaseError> {
        let comment = comment.trim();
        if comment.is_empty() {
            return Err(CaseError::unprocessable(
                "comment_required",
                "/comment",
                "a conclusion is returned with a comment saying what to change",
            ));
        }
        let app = self.pr_case(caller, id, "application.pr_approve").await?;
        self.authz
            .may_approve(caller.post.as_deref(), &caller.unit, &app.unit)?;
        if app.status != "conclusion_drafted" {
            return Err(CaseError::conflict(
                "not_awaiting_approval",
                format!("the case is {}, not a conclusion awaiting approval", app.status),
            ));
        }
        let mut record = PrRecord::required(&app)?;
        let now = self.now();
        let now_s = instant(now);
        let today = self.law().calendar.civil(now).date();
        let drafted = record.conclusion.take();
        record.returned_drafts.push(ReturnedDraft {
            returned_by: caller.actor(),
            post: caller.post.clone(),
            returned_at: now_s.clone(),
            comment: comment.into(),
            conclusion: drafted,
            citation: "п. 15 абз. 2".into(),
            kept: Default::default(),
        });
        let mut unit = Unit::new();
        unit.push(status_change(&app, "conclusion_due", Some(record.to_json()), &now_s)?);
        let due = self.start_conclusion_clock(&mut unit, &app, today)?;
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.conclusion.returned",
            "п. 15 абз. 2",
            crate::service::known_version(&app.rules_version)?,
            json!({"comment": comment, "conclusion_by": due.to_string()}).to_string(),
            &now_s,
        ));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": "conclusion_due", "conclusion_by": due.to_string(), "comment": comment}))
    }

    /// п. 15 абз. 2: the conclusion is approved by an authorised post of the right unit; then the
    /// permit is issued (or refused) and the notification (App. 10) goes out within 3 days (п. 14
    /// пп. 5) — via a ЦОН at least a day before the term ends (п. 15 абз. 1).
    pub async fn approve_conclusion(&self, caller: &Caller, id: &str) -> Result<serde_json::Value, CaseError> {
        let app = self.pr_case(caller, id, "application.pr_approve").await?;
        self.authz
            .may_approve(caller.post.as_deref(), &caller.unit, &app.unit)?;
        if app.status == "annulment_drafted" {
            return self.approve_annulment(caller, app).await;
        }
        if app.status != "conclusion_drafted" {
            return Err(CaseError::conflict(
                "not_awaiting_approval",
                format!("the case is {}, not awaiting approval", app.status),
            ));
        }
        let mut record = PrRecord::required(&app)?;
        let outcome = record
            .conclusion
            .as_ref()
            .map(|c| c.outcome)
            .ok_or_else(|| unreadable("conclusion (its outcome)"))?;
        let now = self.now();
        let now_s = instant(now);
        let today = self.law().calendar.civil(now).date();
        if outcome == Outcome::Refuse {
            // п. 17: no refusal without a hearing, and the act not before 3 working days after the notice.
            let not_before = record.hearing.as_ref().map(|h| h.act_not_before);
            koshi_law::pr::adverse_act_allowed(not_before, today)
                .map_err(|e| CaseError::conflict(e.code(), e.to_string()))?;
        }
        let (status, number) = if outcome == Outcome::Issue {
            let n = self
                .store
                .journal_number(&app.id)
                .await?
                .ok_or_else(|| unreadable("journal entry (App. 8)"))?;
            ("issued", Some(format!("KZ-PR-{}-{}-{n:06}", today.year(), app.unit)))
        } else {
            ("refused", None)
        };
        record.approval = Some(Approval {
            approved_by: caller.actor(),
            post: caller.post.clone(),
            approved_at: now_s.clone(),
            citation: "п. 15 абз. 2".into(),
            kept: Default::default(),
        });
        record.concluded_on = Some(today);
        record.outcome = Some(status.into());
        if let Some(n) = &number {
            record.permit_number = Some(n.clone());
        }
        let service_due = stored_date(app.due_on.as_deref(), "service term")?;
        let notify_by = terms::pr_stage_due(terms::PrStage::Notification, today, service_due);
        let notify_by = if app.channel == "con" {
            notify_by.min(terms::con_delivery_due(service_due))
        } else {
            notify_by
        };
        record.notification_by = Some(notify_by);
        let mut unit = Unit::new();
        crate::service::guard_transition(koshi_law::status::Service::Pr, &app.status, status)?;
        unit.push(repo::change_status(repo::StatusChange {
            id: app.id.clone(),
            expected_revision: app.revision,
            status: status.into(),
            decision: Some(record.to_json()),
            permit_number: number.clone(),
            valid_from: number.as_ref().map(|_| today.to_string()),
            valid_until: None,
            updated_at: now_s.clone(),
        }));
        Service::stop_clock(&mut unit, koshi_law::clocks::LegalClock::ServiceTerm, &app.id);
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            format!("pr.conclusion.approved.{status}"),
            "п. 15 абз. 2",
            crate::service::known_version(&app.rules_version)?,
            json!({"permit_number": number, "notification_by": notify_by.to_string()}).to_string(),
            &now_s,
        ));
        unit.push(self.monitoring(&app.id, &format!("pr.{status}"), &now_s, &app.rules_version));
        let topic = crate::service::result_topic(&app.channel);
        // п. 14 пп. 5 (and п. 15 for a ЦОН): the clock runs until the notification is delivered.
        self.start_clock(
            &mut unit,
            koshi_law::clocks::LegalClock::Notification,
            &app.id,
            notify_by,
            json!({"notify_by": notify_by.to_string()}),
            crate::service::known_version(&app.rules_version)?,
        );
        let files = self
            .pr_decision_documents(&mut unit, &app, &record, caller, number.as_deref(), now)
            .await?;
        unit.push(outbox_message(&app.id, topic, json!({"application_id": app.id, "document": "notification", "files": files, "form": "App. 10", "outcome": status, "permit_number": number, "grounds": record.conclusion.as_ref().map(|c| &c.grounds), "second_copy": "personal file", "citation": "п. 14 пп. 5; п. 17"}).to_string(), &now_s));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": status, "decision": record}))
    }
}
