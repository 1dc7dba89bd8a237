//! The PR service (chapter 3), first slice: intake at a police body or a ЦОН (п. 11–14, 16-1, 22),
//! the journal of App. 8, and the legal clocks started at intake.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use jiff::civil::Date;
use koshi_law::agencies::{Agency, AnswerSource};
use koshi_law::citation;
use koshi_law::requirements::{Channel, Package, SubmittedDocument};
use koshi_law::terms;
use koshi_registries::PersonQuery;
use koshi_store::repo::{self, ApplicationRow};
use koshi_store::{StoreError, Unit, instant};
use serde_json::json;

use crate::model::*;
use crate::problem::Problem;
use crate::rvp::filing::by_digest;
use crate::service::{Caller, Service, case_event, outbox_message, parse_date, remember_key};

/// Facts an applicant may declare for the App. 3 package.
/// The facts a PR filer may declare; the others follow from the ground and the documents
/// (`koshi_law::requirements::PR_DERIVED_FACTS`).
const DECLARABLE: [&str; 1] = ["foreign_language_documents"];

impl Service {
    /// Files a PR application: a talon (App. 6) or ЦОН receipt (App. 7) of acceptance with its
    /// journal number, or a recorded refusal to accept.
    pub async fn file_pr(
        &self,
        caller: &Caller,
        mut req: PrApplicationRequest,
        idempotency_key: Option<&str>,
        request_hash: &str,
    ) -> Result<(StatusCode, ApplicationCreated), Problem> {
        self.authz.allow(caller, "application.file")?;
        // A retried request with the same key answers with the case it created.
        if let Some(answer) = self.seen_before(caller, idempotency_key, request_hash).await? {
            return Ok(answer);
        }
        let channel = match (caller.role.as_str(), req.channel.as_deref()) {
            ("officer", None | Some("police_desk")) => Channel::PoliceDesk,
            ("con_operator", None | Some("con")) => Channel::Con,
            (role, ch) => {
                return Err(Problem::forbidden(format!(
                    "a PR application is filed at a police body or a ЦОН (п. 11); the {role} role cannot file through {}",
                    ch.unwrap_or("its channel")
                )));
            }
        };
        let law = self.law();
        let ground = law.requirements.pr_ground(&req.ground).ok_or_else(|| {
            let known: Vec<_> = law.requirements.pr_grounds.iter().map(|g| g.id.as_str()).collect();
            Problem::unprocessable(
                "unknown_ground",
                "/ground",
                format!("{:?} is not a ground of п. 11; known: {}", req.ground, known.join(", ")),
            )
        })?;
        if let Some(u) = &req.police_unit
            && !self.authz.is_police(u)
        {
            return Err(Problem::unprocessable(
                "unknown_police_unit",
                "/police_unit",
                format!("{u:?} is not a police body"),
            ));
        }
        let filed =
            crate::service::filing_instant(channel, req.filed_at.as_deref(), req.paper_filing.as_ref(), self.now())?;
        let filed_at = filed.at();
        let birth = parse_date(&req.applicant.birth_date, "/applicant/birth_date")?;
        if let Some(iin) = &req.applicant.iin {
            koshi_law::ident::Iin::parse(iin).map_err(|e| {
                Problem::unprocessable("invalid_iin", "/applicant/iin", format!("not a valid IIN: {e}"))
            })?;
        }
        let mut facts: BTreeSet<String> = BTreeSet::new();
        for (i, f) in req.facts.iter().enumerate() {
            if koshi_law::requirements::PR_DERIVED_FACTS.contains(&f.as_str()) {
                return Err(Problem::unprocessable(
                    "fact_not_declarable",
                    &format!("/facts/{i}"),
                    format!(
                        "{f:?} is not declared: it follows from the ground of the application and its documents (a solvency exemption from the category's document, contracted housing from the contract, a refugee's or an ethnic Kazakh's from the ground)"
                    ),
                ));
            }
            if !DECLARABLE.contains(&f.as_str()) {
                return Err(Problem::unprocessable(
                    "unknown_fact",
                    &format!("/facts/{i}"),
                    format!("{f:?} is not one of {}", DECLARABLE.join(", ")),
                ));
            }
            facts.insert(f.clone());
        }
        if req.representative.is_some() {
            facts.insert("filed_by_representative".into());
        }
        let civil = law.calendar.civil(filed_at);
        let filed_on = civil.date();
        // Dates within the bounds a life and a document allow; identity documents of known kinds.
        for (base, person) in std::iter::once(("/applicant".to_string(), &req.applicant)).chain(
            req.family
                .iter()
                .enumerate()
                .map(|(i, m)| (format!("/family/{i}"), &m.person)),
        ) {
            let b = parse_date(&person.birth_date, &format!("{base}/birth_date"))?;
            let expires = parse_date(&person.document.expires_on, &format!("{base}/document/expires_on"))?;
            let issued = person
                .document
                .issued_on
                .as_deref()
                .map(|d| parse_date(d, &format!("{base}/document/issued_on")))
                .transpose()?;
            crate::edge::check_person(&base, b, &person.document.kind, issued, expires, filed_on)?;
        }
        // Each family member's age on the day of filing; a birth date it cannot be computed from
        // (after the filing, or out of range) is refused naming the field, never guessed.
        let mut family_ages: Vec<i16> = Vec::with_capacity(req.family.len());
        for (i, m) in req.family.iter().enumerate() {
            let pointer = format!("/family/{i}/birth_date");
            let b = parse_date(&m.person.birth_date, &pointer)?;
            let age = filed_on
                .since((jiff::Unit::Year, b))
                .ok()
                .map(|s| s.get_years())
                .filter(|a| *a >= 0)
                .ok_or_else(|| {
                    Problem::unprocessable(
                        "invalid_date",
                        &pointer,
                        format!("{b} is not a birth date before the filing"),
                    )
                })?;
            family_ages.push(age);
        }
        for &age in &family_ages {
            if age < 16 {
                facts.insert("joint_with_children_under_16".into());
            } else if age < 18 {
                facts.insert("child_14_to_18_applying".into());
            }
            if (14..16).contains(&age) {
                facts.insert("child_14_to_18_applying".into());
            }
        }
        let mut documents = Vec::new();
        // Electronic copies, as for an RVP filing: decoded within the size limit, stored once by
        // their SHA-256, and named by it in the filing kept with the case.
        let mut copies = Vec::new();
        for (i, d) in req.documents.iter().enumerate() {
            if law.requirements.document(&d.kind).is_none() {
                return Err(Problem::unprocessable(
                    "unknown_document_kind",
                    &format!("/documents/{i}/kind"),
                    format!("{:?} is not a known document kind", d.kind),
                ));
            }
            if let Some(a) = &d.attachment
                && let Some(copy) = self.electronic_copy(i, a)?
            {
                copies.push(copy);
            }
            documents.push(SubmittedDocument {
                kind: d.kind.clone(),
                issued_on: d
                    .issued_on
                    .as_deref()
                    .map(|s| parse_date(s, &format!("/documents/{i}/issued_on")))
                    .transpose()?,
                expires_on: d
                    .expires_on
                    .as_deref()
                    .map(|s| parse_date(s, &format!("/documents/{i}/expires_on")))
                    .transpose()?,
                has_electronic_copy: d.attachment.is_some() || channel == Channel::PoliceDesk,
            });
        }
        self.known_copies(&req.documents).await?;
        if !documents.iter().any(|d| d.kind == "identity_document") {
            documents.push(SubmittedDocument {
                kind: "identity_document".into(),
                issued_on: None,
                expires_on: Some(parse_date(
                    &req.applicant.document.expires_on,
                    "/applicant/document/expires_on",
                )?),
                has_electronic_copy: true,
            });
        }
        // The facts that follow from the ground, the citizenship and the documents.
        let (derived, exemption) =
            law.requirements
                .pr_derived_facts(&ground.id, &req.applicant.citizenship, &documents);
        facts.extend(derived.iter().map(|f| f.to_string()));
        let exemption =
            exemption.map(|e| json!({"category": e.id, "citation": e.citation, "source_status": e.status.as_str()}));
        let version = citation::version_on(filed_on)
            .map_err(|e| Problem::unprocessable("no_rules_version", "/filed_at", e.to_string()))?;
        let person_key = crate::service::person_key(&req.applicant.citizenship, &req.applicant.document.number);

        // The law on the day of receipt.
        let mut grounds: Vec<Ground> = Vec::new();
        // п. 22: not earlier than a year after a refusal or an annulment, of this person by any
        // key the person filed with (the IIN, each passport).
        let mut iin_key = req
            .applicant
            .iin
            .as_deref()
            .map(crate::service::iin_key)
            .unwrap_or_else(|| person_key.clone());
        grounds.extend(self.reapplication_bars(&person_key, &iin_key, filed_on).await?);
        let none = BTreeSet::new();
        let pkg = Package {
            channel,
            filed_on,
            facts: &facts,
            documents: &documents,
            integrated_registries: &none,
        };
        // The counter refuses an incomplete package and expired documents only (п. 13, 16-1); a
        // passport valid too briefly is a ground to refuse the service, decided by a conclusion
        // after a hearing (п. 17; issue 14 item 9).
        let mut service_grounds: Vec<Ground> = Vec::new();
        for g in law.requirements.check_pr_package(&pkg) {
            let ground = Ground {
                code: g.code.into(),
                document: Some(g.document),
                check: None,
                citation: g.citation.to_string(),
                detail: g.detail,
            };
            if koshi_law::requirements::is_service_ground(&ground.code) {
                service_grounds.push(ground);
            } else {
                grounds.push(ground);
            }
        }
        // п. 14: via a ЦОН, ГБД ФЛ is asked for the IIN first; without one no request is formed.
        if channel == Channel::Con && grounds.is_empty() {
            let q = PersonQuery {
                document_number: req.applicant.document.number.trim().to_uppercase(),
                citizenship: req.applicant.citizenship.trim().to_uppercase(),
                birth_date: birth,
                iin: req.applicant.iin.clone(),
            };
            let answer = self.registries.gbd_fl.iin(&q).await;
            // The outage journal (п. 9-5) follows ГБД ФЛ as the ЦОН sees it.
            {
                let mut unit = Unit::new();
                let err = answer.as_ref().err().map(|e| e.to_string());
                let failing: Vec<(&str, &str, i64)> = err.iter().map(|e| ("gbd_fl@con", e.as_str(), 1)).collect();
                let answered: &[&str] = if answer.is_ok() { &["gbd_fl@con"] } else { &[] };
                self.journal_outages(&mut unit, "", &failing, answered, self.now())
                    .await?;
                if !unit.is_empty() {
                    self.store.write(unit).await?;
                }
            }
            match answer {
                Ok(a) if a.iin.is_some() => {
                    // The IIN ГБД ФЛ holds keys the person too: a bar under it applies.
                    let found = crate::service::iin_key(a.iin.as_deref().unwrap_or_default());
                    if found != iin_key {
                        iin_key = found;
                        grounds.extend(self.reapplication_bars(&person_key, &iin_key, filed_on).await?);
                    }
                }
                Ok(_) => grounds.push(Ground {
                    code: "no_iin".into(),
                    document: None,
                    check: None,
                    citation: "п. 14 абз. 2".into(),
                    detail: "ГБД ФЛ holds no IIN of the applicant: the ЦОН forms no request".into(),
                }),
                Err(e) => {
                    return Err(Problem::unavailable(format!(
                        "ГБД ФЛ cannot be asked now ({e}); the application has not been taken, try again"
                    )));
                }
            }
        }

        let accepted = grounds.is_empty();
        let now = self.now();
        let now_s = instant(now);
        let id = uuid::Uuid::now_v7().to_string();
        let accepted_on = law
            .calendar
            .working_day_on_or_after(filed_on)
            .map_err(|e| Problem::unprocessable(e.code(), "/filed_at", e.to_string()))?;
        let due_on = terms::pr_service_due(accepted_on, law.params.pr_service_term_days);
        let unit_id = self.case_unit(caller, channel, req.police_unit.as_deref())?;
        let (form, citation_text) = match (channel, accepted) {
            (Channel::Con, true) => ("App. 7", "п. 13; п. 14"),
            (Channel::Con, false) => ("App. 7", "п. 13"),
            (_, true) => ("App. 6", "п. 12"),
            (_, false) => ("App. 6", "п. 12; п. 16-1"),
        };
        let receipt = Receipt {
            type_: if accepted { "acceptance" } else { "refusal_to_accept" }.into(),
            form: form.into(),
            number: format!("T-{}", &id[id.len() - 12..]),
            issued_at: now_s.clone(),
            citation: citation_text.into(),
            grounds: grounds.clone(),
            result_ready_at: None,
            calendar_status: None,
            calendar_basis: None,
            service_grounds: if accepted { service_grounds.clone() } else { Vec::new() },
            family_cases: Vec::new(),
        };
        let status = if accepted { "registered" } else { "refused_to_accept" };
        let decision = (accepted && !service_grounds.is_empty())
            .then(|| json!({"grounds_at_intake": service_grounds}).to_string());
        by_digest(&mut req.documents, &copies);
        let row = ApplicationRow {
            id: id.clone(),
            kind: "pr".into(),
            status: status.into(),
            channel: channel.as_str().into(),
            unit: unit_id.clone(),
            filed_unit: caller.unit.clone(),
            purpose: ground.id.clone(),
            filed_at: instant(filed_at),
            accepted_on: accepted.then(|| accepted_on.to_string()),
            due_on: accepted.then(|| due_on.to_string()),
            receipt: serde_json::to_string(&receipt).map_err(|e| Problem::internal(&e))?,
            data: serde_json::to_string(&req).map_err(|e| Problem::internal(&e))?,
            decision,
            employer_iin: None,
            household: 0,
            person_key,
            permit_number: None,
            valid_from: None,
            valid_until: None,
            rules_version: version.id.into(),
            created_by: caller.actor(),
            created_at: now_s.clone(),
            updated_at: now_s.clone(),
            revision: 0,
        };
        let mut unit = Unit::new();
        unit.push_all(repo::insert_application(&row));
        for (digest, media, bytes) in copies {
            unit.push(repo::insert_attachment(&digest, &media, bytes, &now_s));
        }
        let action = if accepted {
            "pr.intake.accepted"
        } else {
            "pr.intake.refused_to_accept"
        };
        let mut detail =
            json!({"channel": channel.as_str(), "ground": ground.id, "grounds": grounds, "due_on": row.due_on});
        if accepted && !service_grounds.is_empty() {
            detail["service_grounds"] = json!(service_grounds);
        }
        if let Some(e) = &exemption {
            detail["solvency_exemption"] = e.clone();
        }
        if let Some(p) = crate::service::paper_filing_json(&filed) {
            detail["paper_filing"] = p;
        }
        unit.push(case_event(
            &id,
            &caller.actor(),
            action,
            citation_text,
            version.id,
            detail,
            &now_s,
        ));
        unit.push(self.monitoring(
            &id,
            if accepted {
                "pr.registered"
            } else {
                "pr.refused_to_accept"
            },
            &now_s,
            version.id,
        ));
        if accepted {
            // The keys the person filed with, for the п. 22 bar and the pending-PR check.
            unit.push(repo::insert_person_key(&row.person_key, &id));
            if iin_key != row.person_key {
                unit.push(repo::insert_person_key(&iin_key, &id));
            }
            // п. 14 пп. 1: the case file is registered in the journal at once (stage 1 done at
            // intake); the clocks of the next stage and of the whole term start now.
            unit.push(repo::register_in_journal(&unit_id, &id, &now_s));
            // One case file per adult (п. 14 пп. 1): adult family members applying together
            // are registered under their own numbers.
            for (i, age) in family_ages.iter().enumerate() {
                if *age >= 18 {
                    unit.push(repo::register_in_journal(&unit_id, &format!("{id}/family/{i}"), &now_s));
                }
            }
            let stage2_due = terms::pr_stage_due(terms::PrStage::SendToUms, accepted_on, due_on);
            let mut clocks = vec![("pr.stage.send_to_ums", stage2_due), ("pr.service_term", due_on)];
            if channel == Channel::Con {
                // п. 15 абз. 1: the result reaches the ЦОН a day before the term ends.
                clocks.push(("pr.con_delivery", terms::con_delivery_due(due_on)));
            }
            for (kind, due) in clocks {
                self.start_clock(
                    &mut unit,
                    kind,
                    &id,
                    due,
                    json!({"due_on": due.to_string()}),
                    version.id,
                );
            }
        }
        if let Some(op) = remember_key(caller, idempotency_key, request_hash, &id, &now_s) {
            unit.push(op);
        }
        // Two instances may race for one journal number: the loser's unit rolls back; retry.
        let mut tries = 0;
        loop {
            match self.store.write(unit.clone()).await {
                Ok(()) => break,
                Err(StoreError::Conflict(m)) if tries < 5 && m.contains("journal") => tries += 1,
                // A concurrent request with the same key won: answer with its case.
                Err(StoreError::Conflict(_)) if idempotency_key.is_some() => {
                    return self.lost_race(caller, idempotency_key, request_hash).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let mut receipt = receipt;
        let mut case_files = Vec::new();
        if accepted {
            if let Some(n) = self.store.journal_number(&id).await? {
                receipt.number = format!("{unit_id}/{n}");
                case_files.push(receipt.number.clone());
            }
            for i in 0..req.family.len() {
                if let Some(n) = self.store.journal_number(&format!("{id}/family/{i}")).await? {
                    case_files.push(format!("{unit_id}/{n}"));
                }
            }
        }
        Ok((
            StatusCode::CREATED,
            ApplicationCreated {
                id,
                status: status.into(),
                receipt,
                calendar_status: crate::lawdata::calendar_status_of(
                    &self.law(),
                    row.accepted_on.as_deref(),
                    row.due_on.as_deref(),
                )
                .map(|s| s.code().to_string()),
                accepted_on: row.accepted_on,
                due_on: row.due_on,
                rules_version: version.id.into(),
                case_files,
            },
        ))
    }
}

/// A PR case's status change, guarded by the revision it was read at.
fn status_change(app: &ApplicationRow, status: &str, decision: Option<String>, at: &str) -> koshi_store::Op {
    repo::change_status(repo::StatusChange {
        id: app.id.clone(),
        expected_revision: app.revision,
        status: status.to_string(),
        decision,
        permit_number: None,
        valid_from: None,
        valid_until: None,
        updated_at: at.to_string(),
    })
}

impl Service {
    /// App. 3; Law on Migration art. 49 пп. 4: the money confirmed must cover 1,320 MCI and, unless
    /// housing is contracted, 15 m² per family member — except for the exempt categories.
    fn check_solvency(&self, app: &ApplicationRow) -> Result<serde_json::Value, Problem> {
        let req: PrApplicationRequest = serde_json::from_str(&app.data).map_err(|e| Problem::internal(&e))?;
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
            return Err(Problem::conflict(
                "solvency_not_established",
                "the funds confirmed by the bank are not on the case (App. 3)",
            ));
        }
        let s = koshi_law::pr::solvency(&self.law().params, &input)
            .map_err(|e| Problem::conflict("solvency_not_established", format!("{e} (App. 3)")))?;
        if !s.sufficient {
            return Err(Problem::conflict(
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

    async fn pr_case(&self, caller: &Caller, id: &str, action: &str) -> Result<ApplicationRow, Problem> {
        self.authz.allow(caller, action)?;
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| Problem::not_found("application"))?;
        crate::rvp::views::party_may_see(caller, &app)?;
        self.authz.allow_case(caller, action, &app.unit, &app.filed_unit)?;
        if app.kind != "pr" {
            return Err(Problem::conflict("not_a_pr_case", "this is not a PR case"));
        }
        Ok(app)
    }

    /// п. 14 пп. 2–3: the case goes to УМС ДП for approval and the bank, police, КПСиСУ and
    /// national-security (via «Беркут») requests go out, each with its answer deadline; the
    /// messages leave through the outbox (at least once).
    pub async fn send_pr_requests(&self, caller: &Caller, id: &str) -> Result<serde_json::Value, Problem> {
        let app = self.pr_case(caller, id, "application.pr_requests").await?;
        if app.status != "registered" {
            return Err(Problem::conflict(
                "requests_already_sent",
                format!("the case is {}, not registered", app.status),
            ));
        }
        let now = self.now();
        let now_s = instant(now);
        let today = self.law().calendar.civil(now).date();
        let service_due = stored_date(app.due_on.as_deref(), "service term")?;
        let mut unit = Unit::new();
        unit.push(status_change(&app, "awaiting_answers", None, &now_s));
        Service::stop_clock(&mut unit, "pr.stage.send_to_ums", &app.id);
        let mut sent = Vec::new();
        for agency in Agency::ALL {
            let (cite, due) = (agency.citation(), agency.answer_due(today, service_due));
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
                &format!("pr.answer_due.{agency}"),
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
    ) -> Result<serde_json::Value, Problem> {
        let Some(agency) = Agency::parse(&a.agency) else {
            return Err(Problem::unprocessable(
                "unknown_agency",
                "/agency",
                format!("{:?} is not an agency of п. 14", a.agency),
            ));
        };
        if a.outcome != "positive" && a.outcome != "negative" {
            return Err(Problem::unprocessable(
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
                return Err(Problem::conflict(
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
                .map_err(|e| Problem::unprocessable(e.code(), "/paper_act", e.to_string()))?;
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
            Service::stop_clock(&mut unit, &format!("pr.answer_due.{}", a.agency), &app.id);
            let status = if last { "conclusion_due" } else { "awaiting_answers" };
            unit.push(status_change(&app, status, None, &now_s));
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
                let service_due = stored_date(app.due_on.as_deref(), "service term")?;
                let due = terms::pr_stage_due(terms::PrStage::Conclusion, today, service_due);
                conclusion_by = Some(due.to_string());
                self.start_clock(
                    &mut unit,
                    "pr.stage.conclusion",
                    &app.id,
                    due,
                    json!({"due_on": due.to_string()}),
                    crate::service::known_version(&app.rules_version)?,
                );
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
        Err(Problem::conflict("conflict", "the case changed concurrently; retry"))
    }
}

impl Service {
    /// Where an answer recorded by `caller` comes from (issue 14 item 2): an agency's own
    /// identity answers for that agency; an officer of the УМС ДП reaching the case answers for
    /// the УМС ДП; the case officer only enters a paper act, for the agencies that allow it.
    fn answer_source(
        &self,
        caller: &Caller,
        app: &ApplicationRow,
        agency: Agency,
        paper: Option<&crate::model::PaperActInput>,
    ) -> Result<AnswerSource, Problem> {
        let forbidden = |why: String| Err(Problem::new(axum::http::StatusCode::FORBIDDEN, "not_the_agency", why));
        let kind = self.authz.unit(&caller.unit).map(|u| u.kind.as_str()).unwrap_or("");
        match (caller.role.as_str(), kind) {
            ("agency", _) => match self.authz.unit(&caller.unit).and_then(|u| u.agency.as_deref()) {
                Some(a) if a == agency.code() && paper.is_none() => Ok(AnswerSource::TheAgency),
                Some(a) if a == agency.code() => Err(Problem::unprocessable(
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
                    Some(r) if self.authz.serves(&r, &app.unit) => Err(Problem::unprocessable(
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
                    return Err(Problem::new(
                        axum::http::StatusCode::FORBIDDEN,
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
                    return Err(Problem::unprocessable(
                        "paper_act_required",
                        "/paper_act",
                        "an officer enters an agency's answer only from its paper act: give its number, date and your attestation",
                    ));
                };
                let date = p.date.parse::<Date>().map_err(|e| {
                    Problem::unprocessable("invalid_date", "/paper_act/date", format!("not a date: {e}"))
                })?;
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
fn source_json(s: &AnswerSource) -> serde_json::Value {
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

impl Service {
    /// п. 14 пп. 4: the conclusion to issue or to refuse (App. 9), once every agency answered. A
    /// permit cannot be issued over a negative answer (no PR without the national-security
    /// bodies' approval, Law on Migration art. 49); a refusal first goes through a hearing (п. 17).
    pub async fn draft_conclusion(
        &self,
        caller: &Caller,
        id: &str,
        c: ConclusionRequest,
    ) -> Result<serde_json::Value, Problem> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        // Grounds to refuse the service found at intake (issue 14 item 9): no permit is concluded
        // over them, and the refusal need not wait for the agencies' answers.
        let at_intake: Vec<serde_json::Value> = match app.decision.as_deref() {
            None => Vec::new(),
            Some(d) => match serde_json::from_str::<serde_json::Value>(d) {
                Ok(v) if v.get("grounds_at_intake").is_none() => Vec::new(),
                Ok(v) => v["grounds_at_intake"]
                    .as_array()
                    .cloned()
                    .ok_or_else(|| unreadable("grounds found at intake"))?,
                Err(_) => return Err(unreadable("decision")),
            },
        };
        let early = !at_intake.is_empty() && matches!(app.status.as_str(), "registered" | "awaiting_answers");
        if app.status != "conclusion_due" && !early {
            return Err(Problem::conflict(
                "not_awaiting_conclusion",
                format!("the case is {}, not awaiting a conclusion", app.status),
            ));
        }
        if !at_intake.is_empty() && c.outcome == "issue" {
            return Err(Problem::conflict(
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
        let (status, conclusion) = match c.outcome.as_str() {
            "issue" => {
                self.check_solvency(&app)?;
                if !negative.is_empty() {
                    return Err(Problem::conflict(
                        "negative_answer",
                        format!(
                            "a permit cannot be issued over negative answers from {} (Law on Migration art. 49)",
                            negative.join(", ")
                        ),
                    ));
                }
                (
                    "conclusion_drafted",
                    json!({"outcome": "issue", "form": "App. 9", "citation": "п. 14 пп. 4", "drafted_by": caller.actor(), "drafted_at": now_s, "comment": c.comment}),
                )
            }
            "refuse" => {
                if c.grounds.is_empty() && at_intake.is_empty() {
                    return Err(Problem::unprocessable(
                        "grounds_required",
                        "/grounds",
                        "a refusal names its grounds (п. 17)",
                    ));
                }
                let grounds: Vec<_> = at_intake
                    .iter()
                    .map(|g| json!({"ground": g["code"], "detail": g["detail"], "citation": g["citation"]}))
                    .chain(c.grounds.iter().map(|g| json!({"ground": g.check, "detail": g.detail})))
                    .collect();
                (
                    "hearing_required",
                    json!({"outcome": "refuse", "form": "App. 9", "citation": "п. 14 пп. 4; п. 17", "grounds": grounds, "drafted_by": caller.actor(), "drafted_at": now_s, "comment": c.comment}),
                )
            }
            other => {
                return Err(Problem::unprocessable(
                    "unknown_outcome",
                    "/outcome",
                    format!("{other:?} is not issue or refuse"),
                ));
            }
        };
        let mut unit = Unit::new();
        let mut record = json!({"conclusion": conclusion});
        if !at_intake.is_empty() {
            record["grounds_at_intake"] = json!(at_intake);
        }
        unit.push(status_change(&app, status, Some(record.to_string()), &now_s));
        Service::stop_clock(&mut unit, "pr.stage.conclusion", &app.id);
        if early {
            // The stages before the conclusion end with it: their clocks stop.
            Service::stop_clock(&mut unit, "pr.stage.send_to_ums", &app.id);
            for agency in Agency::ALL {
                Service::stop_clock(&mut unit, &format!("pr.answer_due.{}", agency.code()), &app.id);
            }
        }
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.conclusion.drafted",
            "п. 14 пп. 4; App. 9",
            crate::service::known_version(&app.rules_version)?,
            conclusion.to_string(),
            &now_s,
        ));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": status, "conclusion": conclusion}))
    }

    /// п. 15 абз. 2: the conclusion is approved by an authorised post of the right unit; then the
    /// permit is issued (or refused) and the notification (App. 10) goes out within 3 days (п. 14
    /// пп. 5) — via a ЦОН at least a day before the term ends (п. 15 абз. 1).
    pub async fn approve_conclusion(&self, caller: &Caller, id: &str) -> Result<serde_json::Value, Problem> {
        let app = self.pr_case(caller, id, "application.pr_approve").await?;
        self.authz
            .may_approve(caller.post.as_deref(), &caller.unit, &app.unit)?;
        if app.status == "annulment_drafted" {
            return self.approve_annulment(caller, app).await;
        }
        if app.status != "conclusion_drafted" {
            return Err(Problem::conflict(
                "not_awaiting_approval",
                format!("the case is {}, not awaiting approval", app.status),
            ));
        }
        let mut decision: serde_json::Value = stored_decision(&app)?;
        let outcome = match decision["conclusion"]["outcome"].as_str() {
            Some(o @ ("issue" | "refuse")) => o.to_string(),
            _ => return Err(unreadable("conclusion (its outcome)")),
        };
        let now = self.now();
        let now_s = instant(now);
        let today = self.law().calendar.civil(now).date();
        if outcome == "refuse" {
            // п. 17: no refusal without a hearing, and the act not before 3 working days after the notice.
            let Some(not_before) = decision["hearing"]["act_not_before"]
                .as_str()
                .and_then(|d| d.parse::<Date>().ok())
            else {
                return Err(Problem::conflict(
                    "hearing_required",
                    "a refusal is approved only after a hearing (п. 17)",
                ));
            };
            if today < not_before {
                return Err(Problem::conflict(
                    "act_too_early",
                    format!("the act may be taken from {not_before}: 3 working days after the hearing notice (п. 17)"),
                ));
            }
        }
        let (status, number) = if outcome == "issue" {
            let n = self
                .store
                .journal_number(&app.id)
                .await?
                .ok_or_else(|| unreadable("journal entry (App. 8)"))?;
            ("issued", Some(format!("KZ-PR-{}-{}-{n:06}", today.year(), app.unit)))
        } else {
            ("refused", None)
        };
        decision["approval"] = json!({"approved_by": caller.actor(), "post": caller.post, "approved_at": now_s, "citation": "п. 15 абз. 2"});
        decision["concluded_on"] = json!(today.to_string());
        decision["outcome"] = json!(status);
        if let Some(n) = &number {
            decision["permit_number"] = json!(n);
        }
        let service_due = stored_date(app.due_on.as_deref(), "service term")?;
        let notify_by = terms::pr_stage_due(terms::PrStage::Notification, today, service_due);
        let notify_by = if app.channel == "con" {
            notify_by.min(terms::con_delivery_due(service_due))
        } else {
            notify_by
        };
        decision["notification_by"] = json!(notify_by.to_string());
        let mut unit = Unit::new();
        unit.push(repo::change_status(repo::StatusChange {
            id: app.id.clone(),
            expected_revision: app.revision,
            status: status.into(),
            decision: Some(decision.to_string()),
            permit_number: number.clone(),
            valid_from: number.as_ref().map(|_| today.to_string()),
            valid_until: None,
            updated_at: now_s.clone(),
        }));
        Service::stop_clock(&mut unit, "pr.service_term", &app.id);
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
            "pr.notification",
            &app.id,
            notify_by,
            json!({"notify_by": notify_by.to_string()}),
            crate::service::known_version(&app.rules_version)?,
        );
        unit.push(outbox_message(&app.id, topic, json!({"application_id": app.id, "document": "notification", "form": "App. 10", "outcome": status, "permit_number": number, "grounds": decision["conclusion"]["grounds"], "second_copy": "personal file", "citation": "п. 14 пп. 5; п. 17"}).to_string(), &now_s));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": status, "decision": decision}))
    }
}

impl Service {
    /// п. 17: the notice of a hearing on the preliminary decision to refuse. The hearing is held
    /// within 2 working days of the notice; the act comes no earlier than 3 working days after it.
    pub async fn notify_hearing(
        &self,
        caller: &Caller,
        id: &str,
        h: HearingNoticeRequest,
    ) -> Result<serde_json::Value, Problem> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        // Before a refusal (п. 17) or an annulment (п. 18): the right to be heard.
        let (next, key, act) = match app.status.as_str() {
            "hearing_required" => ("hearing_notified", "hearing", "conclusion"),
            "annulment_hearing_required" => ("annulment_hearing_notified", "annulment_hearing", "annulment"),
            other => {
                return Err(Problem::conflict(
                    "no_hearing_due",
                    format!("the case is {other}; a hearing precedes a refusal or an annulment only"),
                ));
            }
        };
        let hearing_on = parse_date(&h.hearing_on, "/hearing_on")?;
        let now = self.now();
        let now_s = instant(now);
        let cal = &self.law().calendar;
        let notice_on = cal.civil(now).date();
        let calerr = |e: koshi_law::CalendarError| Problem::unprocessable(e.code(), "/hearing_on", e.to_string());
        if let Err(v) = terms::check_hearing_date(cal, notice_on, hearing_on).map_err(calerr)? {
            let detail = match v {
                terms::HearingViolation::HearingTooLate { latest } => {
                    format!(
                        "the hearing must be held within 2 working days of the notice of {notice_on}: by {latest} (п. 17)"
                    )
                }
                _ => format!("the hearing cannot be before the notice of {notice_on} (п. 17)"),
            };
            return Err(Problem::unprocessable(v.code(), "/hearing_on", detail));
        }
        let act_not_before = terms::earliest_act_after_notice(cal, notice_on).map_err(calerr)?;
        let mut decision: serde_json::Value = stored_decision(&app)?;
        decision[key] = json!({"notice_on": notice_on.to_string(), "hearing_on": hearing_on.to_string(), "act_not_before": act_not_before.to_string(), "citation": "п. 17"});
        let mut unit = Unit::new();
        unit.push(status_change(&app, next, Some(decision.to_string()), &now_s));
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.hearing.notified",
            terms::HEARING.as_str(),
            crate::service::known_version(&app.rules_version)?,
            decision[key].to_string(),
            &now_s,
        ));
        // The notice reaches the applicant through the case's channel, and at the contact the
        // applicant gave, when one was given.
        let contact = serde_json::from_str::<PrApplicationRequest>(&app.data)
            .ok()
            .and_then(|r| r.contact);
        unit.push(outbox_message(&app.id, crate::service::result_topic(&app.channel), json!({"application_id": app.id, "document": "hearing_notice", "on": act, "hearing_on": hearing_on.to_string(), "grounds": decision[act]["grounds"], "contact": contact, "citation": "п. 17", "calendar_status": self.law().calendar.status_between(notice_on, hearing_on).code()}).to_string(), &now_s));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": next, "hearing": decision[key]}))
    }

    /// п. 17: the applicant's written position may arrive before the hearing; it goes on the case
    /// with the day it was received, for the hearing to weigh.
    pub async fn record_written_position(
        &self,
        caller: &Caller,
        id: &str,
        w: WrittenPositionRequest,
    ) -> Result<serde_json::Value, Problem> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        let key = match app.status.as_str() {
            "hearing_notified" => "hearing",
            "annulment_hearing_notified" => "annulment_hearing",
            other => {
                return Err(Problem::conflict(
                    "no_hearing_scheduled",
                    format!("the case is {other}: a written position is received while a hearing is scheduled"),
                ));
            }
        };
        if w.position.trim().is_empty() {
            return Err(Problem::unprocessable(
                "missing_field",
                "/position",
                "the position is stated",
            ));
        }
        let now = self.now();
        let now_s = instant(now);
        let today = self.law().calendar.civil(now).date();
        let mut decision = stored_decision(&app)?;
        let entry = json!({"received_on": today.to_string(), "received_by": caller.actor(), "position": w.position});
        match decision[key]["written_positions"].as_array_mut() {
            Some(list) => list.push(entry),
            None => decision[key]["written_positions"] = json!([entry]),
        }
        let mut unit = Unit::new();
        unit.push(status_change(&app, &app.status, Some(decision.to_string()), &now_s));
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
        Ok(json!({"id": app.id, "status": app.status, "hearing": decision[key]}))
    }

    /// п. 17: the hearing held, the applicant's position recorded; its result decides further
    /// consideration (back to the conclusion) or the refusal conclusion goes to approval.
    pub async fn hold_hearing(
        &self,
        caller: &Caller,
        id: &str,
        h: HearingRequest,
    ) -> Result<serde_json::Value, Problem> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        let annulment = match app.status.as_str() {
            "hearing_notified" => false,
            "annulment_hearing_notified" => true,
            other => {
                return Err(Problem::conflict(
                    "no_hearing_scheduled",
                    format!("the case is {other}, no hearing is scheduled"),
                ));
            }
        };
        let key = if annulment { "annulment_hearing" } else { "hearing" };
        if h.position.trim().is_empty() {
            return Err(Problem::unprocessable(
                "missing_field",
                "/position",
                "the applicant's position is recorded (or that they did not come)",
            ));
        }
        let status = match (annulment, h.result.as_str()) {
            (false, "continue") => "conclusion_due",
            (false, "refuse") => "conclusion_drafted",
            // The holder's position persuades: the permit stands; or the annulment goes to approval.
            (true, "keep") => "issued",
            (true, "annul") => "annulment_drafted",
            (_, other) => {
                return Err(Problem::unprocessable(
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
        let mut decision: serde_json::Value = stored_decision(&app)?;
        let notice_on = stored_date(decision[key]["notice_on"].as_str(), "hearing notice date")?;
        let latest = terms::hearing_by(&self.law().calendar, notice_on)
            .map_err(|e| Problem::unprocessable(e.code(), "/", e.to_string()))?;
        // п. 17: the hearing is held on the day its notice announced, not before (the applicant's
        // written position may arrive earlier, as a document on the case).
        let announced = stored_date(decision[key]["hearing_on"].as_str(), "announced hearing date")?;
        if today < announced {
            return Err(Problem::conflict(
                "hearing_not_yet",
                format!("the hearing was announced for {announced}; it cannot be recorded before that day (п. 17)"),
            ));
        }
        if today > latest {
            return Err(Problem::unprocessable(
                "hearing_too_late",
                "/",
                format!(
                    "the hearing had to be held by {latest}, 2 working days after the notice (п. 17); notify again"
                ),
            ));
        }
        decision[key]["held_on"] = json!(today.to_string());
        decision[key]["position"] = json!(h.position);
        decision[key]["result"] = json!(h.result);
        if status == "conclusion_due" {
            decision["conclusion"] = serde_json::Value::Null;
        }
        if status == "issued" {
            // The annulment is dropped; its drafting and hearing stay in the audit trail.
            decision["annulment_dropped"] = decision["annulment"].take();
        }
        let mut unit = Unit::new();
        unit.push(status_change(&app, status, Some(decision.to_string()), &now_s));
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
        Ok(json!({"id": app.id, "status": status, "hearing": decision[key]}))
    }
}

impl Service {
    /// п. 18: the conclusion of annulment (App. 11) of an issued permit, on the grounds of art. 49.
    pub async fn draft_annulment(
        &self,
        caller: &Caller,
        id: &str,
        a: AnnulmentRequest,
    ) -> Result<serde_json::Value, Problem> {
        let app = self.pr_case(caller, id, "application.pr_conclusion").await?;
        if app.status != "issued" {
            return Err(Problem::conflict(
                "not_annullable",
                format!("the case is {}; only an issued permit is annulled", app.status),
            ));
        }
        if a.grounds.is_empty() || a.grounds.iter().any(|g| g.detail.trim().is_empty()) {
            return Err(Problem::unprocessable(
                "grounds_required",
                "/grounds",
                "an annulment states its grounds (Law on Migration art. 49)",
            ));
        }
        let now_s = instant(self.now());
        let mut decision: serde_json::Value = stored_decision(&app)?;
        let grounds: Vec<_> = a
            .grounds
            .iter()
            .map(|g| json!({"ground": g.check, "detail": g.detail}))
            .collect();
        decision["annulment"] = json!({"form": "App. 11", "grounds": grounds, "drafted_by": caller.actor(), "drafted_at": now_s, "citation": "п. 18"});
        let mut unit = Unit::new();
        // п. 17, 18: the holder is heard before the adverse act, as before a refusal.
        unit.push(status_change(
            &app,
            "annulment_hearing_required",
            Some(decision.to_string()),
            &now_s,
        ));
        unit.push(case_event(
            &app.id,
            &caller.actor(),
            "pr.annulment.drafted",
            "п. 18; App. 11",
            crate::service::known_version(&app.rules_version)?,
            decision["annulment"].to_string(),
            &now_s,
        ));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": "annulment_hearing_required", "annulment": decision["annulment"]}))
    }

    /// п. 15, 19–21: the approved annulment; the notice (App. 12); departure within 30 calendar
    /// days of the approval; an RVP for the time needed to leave.
    async fn approve_annulment(&self, caller: &Caller, app: ApplicationRow) -> Result<serde_json::Value, Problem> {
        let now = self.now();
        let now_s = instant(now);
        // п. 17, 18: no annulment without the holder heard, nor before 3 working days after the notice.
        {
            let decision = stored_decision(&app)?;
            let Some(not_before) = decision["annulment_hearing"]["act_not_before"]
                .as_str()
                .and_then(|d| d.parse::<Date>().ok())
            else {
                return Err(Problem::conflict(
                    "hearing_required",
                    "an annulment is approved only after the holder was heard (п. 17, 18)",
                ));
            };
            if self.law().calendar.civil(now).date() < not_before {
                return Err(Problem::conflict(
                    "act_too_early",
                    format!("the act may be taken from {not_before}: 3 working days after the hearing notice (п. 17)"),
                ));
            }
        }
        let today = self.law().calendar.civil(now).date();
        let exit = koshi_law::rvp::exit_rvp(&self.law().calendar, today)
            .map_err(|e| Problem::conflict(e.code(), e.to_string()))?;
        let exit_number = format!(
            "KZ-RVP-EXIT-{}-{}",
            today.year(),
            &app.id.replace('-', "")[20..].to_uppercase()
        );
        let mut decision: serde_json::Value = stored_decision(&app)?;
        decision["annulment"]["approved_by"] = json!(caller.actor());
        decision["annulment"]["approved_at"] = json!(now_s);
        decision["annulment"]["leave_by"] = json!(exit.valid_until.to_string());
        // The exit date is computed on the working calendar: the document says how settled it is.
        let exit_calendar = self.law().calendar.status_between(today, exit.valid_until);
        decision["annulment"]["exit_rvp"] = json!({"number": exit_number, "valid_from": exit.valid_from.to_string(), "valid_until": exit.valid_until.to_string(), "citation": "п. 21", "calendar_status": exit_calendar.code()});
        decision["outcome"] = json!("annulled");
        decision["concluded_on"] = json!(today.to_string());
        let mut unit = Unit::new();
        unit.push(repo::change_status(repo::StatusChange {
            id: app.id.clone(),
            expected_revision: app.revision,
            status: "annulled".into(),
            decision: Some(decision.to_string()),
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
            decision["annulment"].to_string(),
            &now_s,
        ));
        unit.push(self.monitoring(&app.id, "pr.annulled", &now_s, &app.rules_version));
        let leave_by = exit.valid_until;
        self.start_clock(
            &mut unit,
            "pr.exit_deadline",
            &app.id,
            leave_by,
            json!({"leave_by": leave_by.to_string()}),
            crate::service::known_version(&app.rules_version)?,
        );
        unit.push(outbox_message(&app.id, "delivery.desk_print", json!({"application_id": app.id, "document": "annulment_notice", "form": "App. 12", "grounds": decision["annulment"]["grounds"], "leave_by": leave_by.to_string(), "exit_rvp": decision["annulment"]["exit_rvp"], "citation": "п. 19–21"}).to_string(), &now_s));
        self.store.write(unit).await?;
        Ok(json!({"id": app.id, "status": "annulled", "decision": decision}))
    }

    /// п. 17-1: on a change of residence the new police body requests the case file; registration
    /// at the new address is done the same day. The case moves to the caller's unit and enters its
    /// journal.
    pub async fn transfer_case(
        &self,
        caller: &Caller,
        id: &str,
        t: TransferRequest,
    ) -> Result<serde_json::Value, Problem> {
        self.authz.allow(caller, "application.pr_transfer")?;
        let app = self
            .store
            .application(id)
            .await?
            .ok_or_else(|| Problem::not_found("application"))?;
        if app.kind != "pr" || app.status != "issued" {
            return Err(Problem::conflict(
                "not_transferable",
                "only the case of a permanent resident (an issued PR permit) moves",
            ));
        }
        if !self.authz.is_police(&caller.unit) {
            return Err(Problem::forbidden("the case file is requested by a police body"));
        }
        if caller.unit == app.unit {
            return Err(Problem::conflict(
                "same_unit",
                "the case is already kept by this police body",
            ));
        }
        if t.new_address.trim().is_empty() {
            return Err(Problem::unprocessable(
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

impl Service {
    /// п. 22: the refusals and annulments that bar a new PR application of the person filed on
    /// `filed_on`. A prior decision that cannot be read stops the filing for a person.
    async fn reapplication_bars(
        &self,
        passport_key: &str,
        iin_key: &str,
        filed_on: Date,
    ) -> Result<Vec<Ground>, Problem> {
        let law = self.law();
        let mut grounds = Vec::new();
        for decision in self.store.pr_bars(passport_key, iin_key).await? {
            // The year runs from the day the conclusion was drawn up («вынесения»), not from its
            // approval (п. 20 «утверждения»): the drafting instant of the annulment or of the
            // refusal conclusion. A prior decision that cannot be read stops the filing for a
            // person: it is never read as "no bar".
            let unreadable = || {
                Problem::conflict(
                    "prior_decision_unreadable",
                    "a refused or annulled PR case of this person cannot be read: the п. 22 bar cannot be checked; an officer must look at it",
                )
            };
            let decision = decision.ok_or_else(unreadable)?;
            let v: serde_json::Value = serde_json::from_str(&decision).map_err(|_| unreadable())?;
            let drafted = if v["outcome"] == "annulled" {
                &v["annulment"]["drafted_at"]
            } else {
                &v["conclusion"]["drafted_at"]
            };
            let drawn_on = drafted
                .as_str()
                .and_then(|s| koshi_store::parse_instant(s).ok())
                .map(|t| law.calendar.civil(t).date())
                .ok_or_else(unreadable)?;
            {
                let on = drawn_on;
                let earliest = terms::reapplication_earliest(on);
                if filed_on < earliest {
                    grounds.push(Ground {
                        code: "reapplication_barred".into(),
                        document: None,
                        check: None,
                        citation: terms::REAPPLICATION.to_string(),
                        detail: format!("a refusal or annulment of {on} bars a new application until {earliest}"),
                    });
                }
            }
        }
        Ok(grounds)
    }
}

/// A stored part of a case that a step cannot do without and cannot read: the step is refused
/// for a person to look (409), nothing is written, and nothing is rebuilt from a default.
fn unreadable(what: &str) -> Problem {
    Problem::conflict(
        "stored_record_unreadable",
        format!("the case's stored {what} cannot be read; an officer must look at the case before this step"),
    )
}

/// The case's decision record, which every step after the conclusion builds on.
fn stored_decision(app: &ApplicationRow) -> Result<serde_json::Value, Problem> {
    let d = app.decision.as_deref().ok_or_else(|| unreadable("decision"))?;
    match serde_json::from_str::<serde_json::Value>(d) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(unreadable("decision")),
    }
}

fn stored_date(v: Option<&str>, what: &str) -> Result<Date, Problem> {
    v.and_then(|d| d.parse().ok()).ok_or_else(|| unreadable(what))
}

fn stored_instant(v: &str, what: &str) -> Result<jiff::Timestamp, Problem> {
    v.parse().map_err(|_| unreadable(what))
}
