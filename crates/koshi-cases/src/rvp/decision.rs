//! The decision (п. 9-1, 9-3): proposals, straight-through forming, an officer's decision,
//! validity, issuance and its delivery; duplicates (п. 9-2).

use jiff::Timestamp;
use jiff::civil::Date;
use koshi_law::citation::Citation;
use koshi_law::requirements::{PartyKind, inviting_party_allowed};
use koshi_law::rvp::{self, Check, Finding, RvpDecision};
use koshi_store::repo::{self, ApplicationRow, CheckRow, StatusChange};
use koshi_store::{Unit, instant};
use serde_json::{Value, json};

use crate::CaseError;
use crate::model::*;

use crate::rvp::payloads::*;
use crate::service::*;

impl Service {
    // ------------------------------------------------------------------ decision

    /// Adds the decision to the unit: issue (straight through), or wait for an officer.
    pub(crate) fn decide_into(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        req: &ApplicationRequest,
        findings: &[(Check, Finding)],
        principal: Option<&ApplicationRow>,
        now: Timestamp,
    ) -> Result<(), CaseError> {
        let now_s = instant(now);
        let mut decision = rvp::decide(findings);
        let mut service_grounds = self.service_grounds(app, req);
        // A family member's case follows the immigrant's (issue 14 item 7).
        let mut principal_until = None;
        if let Some(p) = principal {
            match crate::rvp::family::standing(p)? {
                crate::rvp::family::Principal::Pending => return self.await_principal(unit, app, &p.id),
                crate::rvp::family::Principal::Refused(id) => {
                    service_grounds.push(crate::rvp::family::principal_refused_ground(&id))
                }
                crate::rvp::family::Principal::Issued(until) => principal_until = Some(until),
            }
        }
        if !service_grounds.is_empty() {
            decision = match decision {
                RvpDecision::Refuse { grounds } => RvpDecision::Refuse { grounds },
                _ => RvpDecision::Refuse { grounds: Vec::new() },
            };
        }
        let proposal = match &decision {
            RvpDecision::Issue { citation } => match self.validity(app, req, now, None, principal_until) {
                Ok(v) if self.config.straight_through => {
                    let citation = citation.to_string();
                    match self.form_or_prepare(unit, app, &v, &citation, now)? {
                        None => return Ok(()),
                        Some(prepared) => prepared,
                    }
                }
                Ok(v) => {
                    json!({"outcome": "issued", "citation": citation.to_string(), "valid_from": v.valid_from.to_string(), "valid_until": v.valid_until.to_string(), "bounds": bounds_json(&v)})
                }
                Err(reason) => {
                    json!({"outcome": "officer", "reasons": [{"check": null, "code": "validity_needs_officer", "detail": reason}]})
                }
            },
            RvpDecision::Refuse { grounds } => json!({
                "outcome": "refused",
                "form": "App. 2-1",
                "citation": "п. 9-3",
                "grounds": grounds.iter().map(|(c, code, detail, cite)| json!({"check": c.as_str(), "code": code, "detail": detail, "citation": cite.to_string()})).chain(service_grounds.iter().cloned()).collect::<Vec<_>>(),
            }),
            RvpDecision::Officer { reasons } => json!({
                "outcome": "officer",
                "reasons": reasons.iter().map(|(c, code, detail)| json!({"check": c.as_str(), "code": code, "detail": detail})).collect::<Vec<_>>(),
            }),
        };
        // The case waits for a person now: its working day is a clock (п. 9).
        self.start_rvp_term(unit, app)?;
        let outcome = proposal["outcome"].as_str().unwrap_or("officer").to_string();
        let new_status = if outcome == "officer" {
            status::AWAITING_OFFICER
        } else {
            status::AWAITING_CONFIRMATION
        };
        crate::service::guard_transition(koshi_law::status::Service::Rvp, &app.status, new_status)?;
        unit.push(repo::change_status(StatusChange {
            id: app.id.clone(),
            expected_revision: app.revision,
            status: new_status.into(),
            decision: Some(json!({"proposed": proposal}).to_string()),
            permit_number: None,
            valid_from: None,
            valid_until: None,
            updated_at: now_s.clone(),
        }));
        unit.push(case_event(
            &app.id,
            "system",
            "checks.completed",
            "п. 9-1",
            crate::service::known_version(&app.rules_version)?,
            json!({"proposed": proposal}),
            &now_s,
        ));
        unit.push(self.monitoring(&app.id, "checks_completed", &now_s, &app.rules_version));
        Ok(())
    }

    /// Grounds to refuse the service that no check finds but the filing shows (issue 14 item 9;
    /// п. 9-3): an inviting party the law does not allow for the purpose (п. 4). Neither the
    /// counter (п. 6) nor an officer's issuance passes over them.
    pub(crate) fn service_grounds(&self, app: &ApplicationRow, req: &ApplicationRequest) -> Vec<Value> {
        let law = self.law();
        let party_ground = match (
            law.requirements.purpose(&app.purpose),
            PartyKind::parse(&req.inviting_party.kind),
        ) {
            (Some(purpose), Some(party)) => inviting_party_allowed(purpose, party, req.immigrant.from_visa_free_state)
                .err()
                .map(|cite| {
                    (
                        cite.to_string(),
                        format!("a {} cannot invite for {}", party.as_str(), purpose.id),
                    )
                }),
            _ => Some((
                "п. 4".to_string(),
                "the stored filing's purpose or inviting party cannot be read".to_string(),
            )),
        };
        party_ground
            .iter()
            .map(|(cite, detail)| json!({"ground": "inviting_party", "code": "inviting_party_not_allowed", "detail": detail, "citation": format!("п. 9-3; {cite}")}))
            .collect()
    }

    pub(crate) fn validity(
        &self,
        app: &ApplicationRow,
        req: &ApplicationRequest,
        now: Timestamp,
        officer_until: Option<Date>,
        principal_until: Option<Date>,
    ) -> Result<rvp::Validity, String> {
        let law = self.law();
        let purpose = law.requirements.purpose(&app.purpose).ok_or("unknown purpose")?;
        let issued_on = law.calendar.civil(now).date();
        let passport = Some(req.immigrant.document.expires_on.date());
        let basis_kinds: Vec<&str> = purpose
            .documents
            .iter()
            .filter(|d| d.role.as_deref() == Some("basis"))
            .map(|d| d.kind.as_str())
            .collect();
        let mut basis: Option<Date> = None;
        for d in req.documents.iter().filter(|d| basis_kinds.contains(&d.kind.as_str())) {
            if let Some(e) = d.expires_on.map(Day::date) {
                basis = Some(basis.map_or(e, |b| b.min(e)));
            }
        }
        let requested = match officer_until {
            Some(d) => Some(d),
            None => req.requested_until.map(Day::date),
        };
        let mut v = rvp::validity(purpose, issued_on, passport, basis, requested).map_err(|e| match e {
            rvp::ValidityError::NoSettledTerm => "the law sets no term for this purpose and no basis document bounds it: an officer sets the end of validity".to_string(),
            rvp::ValidityError::Empty { until } => format!("the bounds leave no day of validity (until {until})"),
        })?;
        // A family member's RVP is valid no longer than the immigrant's it rests on.
        if let Some(until) = principal_until
            && until < v.valid_until
        {
            if until < v.valid_from {
                return Err(format!(
                    "the immigrant's RVP ended on {until}: no day of validity is left"
                ));
            }
            v.valid_until = until;
            v.bounds
                .push(("principal_permit", until, Citation::new("п. 9-1 пп. 4 (family member)")));
        }
        Ok(v)
    }

    /// Issues the RVP (App. 2): the status change with the decision, its audit event, the stage
    /// for monitoring and the document to the channel's destination. The payloads are written from
    /// typed values, keys in alphabetical order as every payload Koshi writes.
    pub(crate) fn issue_into(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        actor: &str,
        issue: Issue<'_>,
        now_s: &str,
    ) -> Result<(), CaseError> {
        let from = issue.validity.valid_from.to_string();
        let until = issue.validity.valid_until.to_string();
        let number = permit_number(&from, &app.id);
        let decision = IssuedDecision {
            bounds: bounds(issue.validity),
            citation: issue.citation,
            comment: issue.comment,
            decided_at: now_s,
            decided_by: actor,
            form: "App. 2",
            formed_by: issue.formed_by,
            outcome: "issued",
            permit_number: &number,
            set_aside: issue.set_aside,
            valid_from: &from,
            valid_until: &until,
        };
        let decision = serde_json::to_string(&decision).map_err(|e| CaseError::internal(&e))?;
        let permit = PermitFacts {
            permit_number: &number,
            valid_from: &from,
            valid_until: &until,
        };
        let detail = serde_json::to_string(&permit).map_err(|e| CaseError::internal(&e))?;
        let now: jiff::Timestamp = now_s.parse().map_err(|e| CaseError::internal(&e))?;
        let file = self.register_document(
            unit,
            crate::documents::NewDocument {
                application_id: Some(&app.id),
                unit: &app.unit,
                act: "decision.issued",
                form: "permit",
                number: number.clone(),
                facts: None,
            },
            now,
        )?;
        let document = PermitDocument {
            document: "rvp",
            file: &file,
            form: "App. 2",
            permit_number: &number,
            valid_from: &from,
            valid_until: &until,
        };
        let delivery = self.delivery(app, &document, now_s)?;
        crate::service::guard_transition(koshi_law::status::Service::Rvp, &app.status, status::ISSUED)?;
        unit.push(repo::change_status(StatusChange {
            id: app.id.clone(),
            expected_revision: app.revision,
            status: status::ISSUED.into(),
            decision: Some(decision),
            permit_number: Some(number),
            valid_from: Some(from),
            valid_until: Some(until),
            updated_at: now_s.into(),
        }));
        unit.push(case_event(
            &app.id,
            actor,
            "decision.issued",
            "п. 9-1 абз. 8; App. 2",
            crate::service::known_version(&app.rules_version)?,
            detail,
            now_s,
        ));
        unit.push(self.monitoring(&app.id, "issued", now_s, &app.rules_version));
        unit.push(delivery);
        Service::wake_family(unit, app, now_s);
        Ok(())
    }

    /// The result for the channel's destination (desk print, ИИС ЦОН, portal cabinet), queued in
    /// the outbox.
    pub(crate) fn delivery<D: serde::Serialize>(
        &self,
        app: &ApplicationRow,
        doc: &D,
        now_s: &str,
    ) -> Result<koshi_store::Op, CaseError> {
        // The channel the filing came by decides (never a destination the filer named).
        let topic = result_topic(&app.channel);
        /// Keys in alphabetical order, as every payload Koshi writes.
        #[derive(serde::Serialize)]
        struct Delivery<'a, D> {
            application_id: &'a str,
            citation: &'a str,
            result: &'a D,
            unit: &'a str,
        }
        let payload = serde_json::to_string(&Delivery {
            application_id: &app.id,
            citation: "п. 9-1 абз. 8–11",
            result: doc,
            unit: &app.unit,
        })
        .map_err(|e| CaseError::internal(&e))?;
        Ok(outbox_message(&app.id, topic, payload, now_s))
    }

    /// The officer's decision (confirm the proposal, issue, or refuse).
    pub async fn decide(&self, caller: &Caller, id: &str, d: DecisionRequest) -> Result<Value, CaseError> {
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        self.authz
            .allow_case(caller, "application.decide", &app.unit, &app.filed_unit)?;
        if app.status != status::AWAITING_CONFIRMATION && app.status != status::AWAITING_OFFICER {
            return Err(CaseError::conflict(
                "not_awaiting_decision",
                format!("the application is {}, not awaiting a decision", app.status),
            ));
        }
        let req = crate::stored::rvp_filing(&app.data)?;
        // A proposal that cannot be read is never read as "nothing proposed".
        let current: Value = match app.decision.as_deref() {
            None => Value::Null,
            Some(s) => serde_json::from_str(s).map_err(|_| {
                CaseError::conflict(
                    "stored_record_unreadable",
                    "the case's stored proposal cannot be read; it must be looked at before a decision",
                )
            })?,
        };
        let proposed = current["proposed"].clone();
        let checks = self.checks_of(&app).await?;
        let found_grounds: Vec<&CheckRow> = checks.iter().filter(|c| c.state == "ground").collect();
        let now = self.now();
        let now_s = instant(now);
        let mut unit = Unit::new();
        let action = match d.action.as_str() {
            "confirm" => match proposed["outcome"].as_str() {
                Some("issued") => "issue_proposed",
                Some("refused") => "refuse_proposed",
                _ => {
                    return Err(CaseError::conflict(
                        "nothing_to_confirm",
                        "no automatic decision was proposed; issue or refuse",
                    ));
                }
            },
            "issue" => "issue",
            "refuse" => "refuse",
            other => {
                return Err(CaseError::unprocessable(
                    "unknown_action",
                    "/action",
                    format!("{other:?} is not confirm, issue or refuse"),
                ));
            }
        };
        let actor = caller.actor();
        // Nobody decides an application before the day it counts as accepted (п. 8): the act
        // would be valid from before its acceptance.
        let accepted_on = crate::rvp::forming::accepted_on(&app)?;
        if self.law().calendar.civil(now).date() < accepted_on {
            return Err(CaseError::conflict(
                "before_acceptance_day",
                format!("the application counts as accepted on {accepted_on} (п. 8): it is decided from that day"),
            ));
        }
        match action {
            "issue_proposed" | "issue" => {
                let service_grounds = self.service_grounds(&app, &req);
                if !service_grounds.is_empty() {
                    return Err(CaseError::conflict(
                        "grounds_found",
                        format!(
                            "the filing itself is a ground to refuse the service: {}",
                            service_grounds
                                .iter()
                                .filter_map(|g| g["detail"].as_str())
                                .collect::<Vec<_>>()
                                .join("; ")
                        ),
                    ));
                }
                let set_aside = set_aside_grounds(&found_grounds, &d.set_aside)?;
                for (check, reason) in &set_aside {
                    unit.push(case_event(
                        &app.id,
                        &actor,
                        "decision.finding_set_aside",
                        "п. 9-1; п. 9-3",
                        crate::service::known_version(&app.rules_version)?,
                        json!({"check": check.as_str(), "citation": check.citation().to_string(), "reason": reason}),
                        &now_s,
                    ));
                }
                let principal_until = match self.principal_of(&req).await? {
                    None => None,
                    Some(p) => match crate::rvp::family::standing(&p)? {
                        crate::rvp::family::Principal::Issued(until) => Some(until),
                        _ => {
                            return Err(CaseError::conflict(
                                "principal_not_issued",
                                format!(
                                    "the immigrant's case {} is {}: a family member's RVP is issued only with the immigrant's",
                                    p.id, p.status
                                ),
                            ));
                        }
                    },
                };
                let officer_until = d.valid_until.map(Day::date);
                let v = self
                    .validity(&app, &req, now, officer_until, principal_until)
                    .map_err(|r| CaseError::unprocessable("validity_required", "/valid_until", r))?;
                if let Some(u) = officer_until
                    && u > v.valid_until
                {
                    return Err(CaseError::unprocessable(
                        "validity_beyond_bounds",
                        "/valid_until",
                        format!("the law bounds validity at {}", v.valid_until),
                    ));
                }
                let mut issue = Issue::new("п. 9-1 абз. 8; App. 2", &v, Some(d.comment.as_deref()));
                issue.set_aside = set_aside
                    .iter()
                    .map(|(c, r)| SetAside {
                        check: c.as_str(),
                        reason: r,
                    })
                    .collect();
                self.issue_into(&mut unit, &app, &actor, issue, &now_s)?;
            }
            _ => {
                let grounds: Vec<Value> = if action == "refuse_proposed" {
                    // п. 9-3: a refusal names its grounds; a proposal without them is not one.
                    match proposed["grounds"].as_array() {
                        Some(g) if !g.is_empty() => g.clone(),
                        _ => {
                            return Err(CaseError::conflict(
                                "stored_record_unreadable",
                                "the proposed refusal names no grounds that can be read; refuse with grounds instead",
                            ));
                        }
                    }
                } else {
                    if d.grounds.is_empty() {
                        return Err(CaseError::unprocessable(
                            "grounds_required",
                            "/grounds",
                            "a motivated refusal names its grounds (п. 9-3)",
                        ));
                    }
                    let law = self.law();
                    let mut out = Vec::new();
                    for (i, g) in d.grounds.iter().enumerate() {
                        if g.detail.trim().is_empty() {
                            return Err(CaseError::unprocessable(
                                "missing_field",
                                &format!("/grounds/{i}/detail"),
                                "a ground states its facts",
                            ));
                        }
                        // One of the seven checks, or another ground of law from the requirements.
                        if let Some(c) = Check::parse(&g.check) {
                            out.push(json!({"check": c.as_str(), "code": "officer_finding", "detail": g.detail, "citation": format!("п. 9-3; {}", c.citation())}));
                        } else if let Some(lg) = law.requirements.rvp_refusal_grounds.iter().find(|x| x.id == g.check) {
                            out.push(json!({"ground": lg.id, "code": "officer_finding", "detail": g.detail, "citation": format!("п. 9-3; {}", lg.citation), "source_status": lg.status.as_str()}));
                        } else {
                            let known: Vec<&str> = Check::ALL
                                .iter()
                                .map(|c| c.as_str())
                                .chain(law.requirements.rvp_refusal_grounds.iter().map(|x| x.id.as_str()))
                                .collect();
                            return Err(CaseError::unprocessable(
                                "unknown_check",
                                &format!("/grounds/{i}/check"),
                                format!(
                                    "{:?} is neither a check of п. 9-1 nor a ground of law; one of: {}",
                                    g.check,
                                    known.join(", ")
                                ),
                            ));
                        }
                    }
                    out
                };
                let decision = json!({"outcome": "refused", "form": "App. 2-1", "citation": "п. 9-3", "grounds": grounds, "decided_at": now_s, "decided_by": actor, "comment": d.comment});
                crate::service::guard_transition(koshi_law::status::Service::Rvp, &app.status, status::REFUSED)?;
                unit.push(repo::change_status(StatusChange {
                    id: app.id.clone(),
                    expected_revision: app.revision,
                    status: status::REFUSED.into(),
                    decision: Some(decision.to_string()),
                    permit_number: None,
                    valid_from: None,
                    valid_until: None,
                    updated_at: now_s.clone(),
                }));
                unit.push(case_event(
                    &app.id,
                    &actor,
                    "decision.refused",
                    "п. 9-3; App. 2-1",
                    crate::service::known_version(&app.rules_version)?,
                    json!({"grounds": grounds}),
                    &now_s,
                ));
                unit.push(self.monitoring(&app.id, "refused", &now_s, &app.rules_version));
                Service::wake_family(&mut unit, &app, &now_s);
                let file = self.register_document(
                    &mut unit,
                    crate::documents::NewDocument {
                        application_id: Some(&app.id),
                        unit: &app.unit,
                        act: "decision.refused",
                        form: "motivated_refusal",
                        number: crate::documents::case_document_number("N", &app.id),
                        facts: None,
                    },
                    now_s.parse().map_err(|e| CaseError::internal(&e))?,
                )?;
                unit.push(self.delivery(
                    &app,
                    &json!({"document": "refusal_notice", "file": file, "form": "App. 2-1", "grounds": grounds}),
                    &now_s,
                )?);
            }
        }
        self.store.write(unit).await?;
        self.view_decision(id).await
    }

    pub(crate) async fn view_decision(&self, id: &str) -> Result<Value, CaseError> {
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        Ok(
            json!({"id": app.id, "status": app.status, "decision": app.decision.as_deref().and_then(|s| serde_json::from_str::<Value>(s).ok())}),
        )
    }

    /// п. 9-2: a duplicate of a lost or damaged permit, after a check in ИС МП.
    pub async fn duplicate(
        &self,
        caller: &Caller,
        id: &str,
        d: DuplicateRequest,
    ) -> Result<DuplicateIssued, CaseError> {
        if d.reason != "lost" && d.reason != "damaged" {
            return Err(CaseError::unprocessable(
                "unknown_reason",
                "/reason",
                "expected lost or damaged",
            ));
        }
        if d.statement.trim().is_empty() {
            return Err(CaseError::unprocessable(
                "missing_field",
                "/statement",
                "the statement to the head of the police body is required",
            ));
        }
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        self.authz
            .allow_case(caller, "application.duplicate", &app.unit, &app.filed_unit)?;
        let (Some(number), Some(from), Some(until)) = (&app.permit_number, &app.valid_from, &app.valid_until) else {
            return Err(CaseError::conflict(
                "no_permit",
                "no permit was issued on this application",
            ));
        };
        if app.status != status::ISSUED {
            return Err(CaseError::conflict(
                "no_permit",
                format!("the application is {}", app.status),
            ));
        }
        let today = self.today().to_string();
        if until.as_str() < today.as_str() {
            return Err(CaseError::conflict(
                "permit_expired",
                format!("the permit expired on {until}"),
            ));
        }
        let n = self
            .store
            .events(id)
            .await?
            .iter()
            .filter(|e| e.action == "duplicate.issued")
            .count()
            + 1;
        let duplicate_number = format!("{number}-D{n}");
        let now_s = instant(self.now());
        let mut unit = Unit::new();
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "duplicate.issued",
            "п. 9-2",
            crate::service::known_version(&app.rules_version)?,
            json!({"duplicate_number": duplicate_number, "reason": d.reason}),
            &now_s,
        ));
        let file = self.register_document(
            &mut unit,
            crate::documents::NewDocument {
                application_id: Some(&app.id),
                unit: &app.unit,
                act: "duplicate.issued",
                form: "permit",
                number: duplicate_number.clone(),
                facts: None,
            },
            now_s.parse().map_err(|e| CaseError::internal(&e))?,
        )?;
        unit.push(self.delivery(&app, &json!({"document": "rvp_duplicate", "duplicate_number": duplicate_number, "file": file, "form": "App. 2", "permit_number": number, "valid_from": from, "valid_until": until}), &now_s)?);
        unit.push(self.monitoring(&app.id, "duplicate_issued", &now_s, &app.rules_version));
        self.store.write(unit).await?;
        Ok(DuplicateIssued {
            application_id: app.id.clone(),
            permit_number: number.clone(),
            duplicate_number,
            valid_from: from.clone(),
            valid_until: until.clone(),
            citation: "п. 9-2".into(),
        })
    }
}

/// The ground findings an officer issues over: each must be named with a reason, and be of a
/// check whose finding may be set aside (`Check::finding_may_be_set_aside`).
pub(crate) fn set_aside_grounds<'a>(
    found: &[&CheckRow],
    given: &'a [SetAsideInput],
) -> Result<Vec<(Check, &'a str)>, CaseError> {
    let mut out = Vec::new();
    for (i, s) in given.iter().enumerate() {
        let pointer = format!("/set_aside/{i}");
        let Some(check) = Check::parse(&s.check) else {
            return Err(CaseError::unprocessable(
                "unknown_check",
                &format!("{pointer}/check"),
                format!("{:?} is not a check of п. 9-1", s.check),
            ));
        };
        if !found.iter().any(|c| c.check_name == check.as_str()) {
            return Err(CaseError::unprocessable(
                "nothing_to_set_aside",
                &format!("{pointer}/check"),
                format!("the {} check found no ground", check.as_str()),
            ));
        }
        if !check.finding_may_be_set_aside() {
            return Err(CaseError::unprocessable(
                "finding_cannot_be_set_aside",
                &format!("{pointer}/check"),
                format!(
                    "a finding of the {} check is a ground of law ({}); it cannot be set aside",
                    check.as_str(),
                    check.citation()
                ),
            ));
        }
        if s.reason.trim().chars().count() < 10 {
            return Err(CaseError::unprocessable(
                "reason_required",
                &format!("{pointer}/reason"),
                "say why the finding is no ground in this case (at least 10 characters)",
            ));
        }
        out.push((check, s.reason.as_str()));
    }
    let open: Vec<&str> = found
        .iter()
        .map(|c| &*c.check_name)
        .filter(|name| !out.iter().any(|(c, _)| c.as_str() == *name))
        .collect();
    if !open.is_empty() {
        return Err(CaseError::conflict(
            "grounds_found",
            format!(
                "the checks found grounds for refusal ({}): the RVP cannot be issued unless an officer sets each aside with a reason where the law allows it",
                open.join(", ")
            ),
        ));
    }
    Ok(out)
}
