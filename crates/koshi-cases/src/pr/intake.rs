//! PR intake (п. 12–14, 16-1, 22): the talon or the ЦОН receipt, the journal, the bars.

use std::collections::BTreeSet;

use jiff::civil::Date;
use koshi_law::citation;
use koshi_law::requirements::{Channel, Package, SubmittedDocument};
use koshi_law::terms;
use koshi_registries::PersonQuery;
use koshi_store::repo::{self, ApplicationRow};
use koshi_store::{StoreError, Unit, instant};
use serde_json::json;

use crate::CaseError;
use crate::model::*;
use crate::rvp::filing::by_digest;
use crate::service::{Caller, Service, case_event, remember_key};

impl Service {
    /// Files a PR application: a talon (App. 6) or ЦОН receipt (App. 7) of acceptance with its
    /// journal number, or a recorded refusal to accept.
    pub async fn file_pr(
        &self,
        caller: &Caller,
        req: PrApplicationRequest,
        idempotency_key: Option<&str>,
        request_hash: &str,
    ) -> Result<ApplicationCreated, CaseError> {
        match self
            .pr_intake(caller, req, idempotency_key, request_hash, false)
            .await?
        {
            PrIntake::Filed(created) => Ok(*created),
            PrIntake::Checked(_) => Err(CaseError::internal(&"a filing was only checked")),
        }
    }

    /// The desk's check before the documents are taken (issue 17): what the counter would find
    /// in this PR filing now — the grounds of a refusal to accept (п. 13, 16-1, 22) and those to
    /// refuse the service by a conclusion after a hearing (п. 17), none when the package is
    /// whole. Nothing is written and no registry is asked; the filing is validated as a filing is.
    pub async fn precheck_pr(&self, caller: &Caller, req: PrApplicationRequest) -> Result<Vec<Ground>, CaseError> {
        match self.pr_intake(caller, req, None, "", true).await? {
            PrIntake::Checked(grounds) => Ok(grounds),
            PrIntake::Filed(_) => Err(CaseError::internal(&"a check filed the application")),
        }
    }

    async fn pr_intake(
        &self,
        caller: &Caller,
        mut req: PrApplicationRequest,
        idempotency_key: Option<&str>,
        request_hash: &str,
        check_only: bool,
    ) -> Result<PrIntake, CaseError> {
        self.authz.allow(caller, "application.file")?;
        crate::stored::refuse_schema(req.schema)?;
        // A retried request with the same key answers with the case it created.
        if !check_only && let Some(answer) = self.seen_before(caller, idempotency_key, request_hash).await? {
            return Ok(PrIntake::Filed(Box::new(answer)));
        }
        let channel = match (caller.role.as_str(), req.channel.as_deref()) {
            ("officer", None | Some("police_desk")) => Channel::PoliceDesk,
            ("con_operator", None | Some("con")) => Channel::Con,
            (role, ch) => {
                return Err(CaseError::forbidden(format!(
                    "a PR application is filed at a police body or a ЦОН (п. 11); the {role} role cannot file through {}",
                    ch.unwrap_or("its channel")
                )));
            }
        };
        let law = self.law();
        let ground = law.requirements.pr_ground(&req.ground).ok_or_else(|| {
            let known: Vec<_> = law.requirements.pr_grounds.iter().map(|g| g.id.as_str()).collect();
            CaseError::unprocessable(
                "unknown_ground",
                "/ground",
                format!("{:?} is not a ground of п. 11; known: {}", req.ground, known.join(", ")),
            )
        })?;
        if let Some(u) = &req.police_unit
            && !self.authz.is_police(u)
        {
            return Err(CaseError::unprocessable(
                "unknown_police_unit",
                "/police_unit",
                format!("{u:?} is not a police body"),
            ));
        }
        let filed =
            crate::service::filing_instant(channel, req.filed_at.as_deref(), req.paper_filing.as_ref(), self.now())?;
        let filed_at = filed.at();
        let birth = req.applicant.birth_date.date();
        if let Some(iin) = &req.applicant.iin {
            koshi_law::ident::Iin::parse(iin).map_err(|e| {
                CaseError::unprocessable("invalid_iin", "/applicant/iin", format!("not a valid IIN: {e}"))
            })?;
        }
        let mut facts: BTreeSet<String> = BTreeSet::new();
        for (i, f) in req.facts.iter().enumerate() {
            if koshi_law::requirements::PR_DERIVED_FACTS.contains(&f.as_str()) {
                return Err(CaseError::unprocessable(
                    "fact_not_declarable",
                    &format!("/facts/{i}"),
                    format!(
                        "{f:?} is not declared: it follows from the ground of the application and its documents (a solvency exemption from the category's document, contracted housing from the contract, a refugee's or an ethnic Kazakh's from the ground)"
                    ),
                ));
            }
            if !DECLARABLE.contains(&f.as_str()) {
                return Err(CaseError::unprocessable(
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
            crate::parse::check_person(
                &base,
                person.birth_date.date(),
                &person.document.kind,
                person.document.issued_on.map(Day::date),
                person.document.expires_on.date(),
                filed_on,
            )?;
        }
        // Each family member's age on the day of filing; a birth date it cannot be computed from
        // (after the filing, or out of range) is refused naming the field, never guessed.
        let mut family_ages: Vec<i16> = Vec::with_capacity(req.family.len());
        for (i, m) in req.family.iter().enumerate() {
            let pointer = format!("/family/{i}/birth_date");
            let b = m.person.birth_date.date();
            let age = filed_on
                .since((jiff::Unit::Year, b))
                .ok()
                .map(|s| s.get_years())
                .filter(|a| *a >= 0)
                .ok_or_else(|| {
                    CaseError::unprocessable(
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
                return Err(CaseError::unprocessable(
                    "unknown_document_kind",
                    &format!("/documents/{i}/kind"),
                    format!("{:?} is not a known document kind", d.kind),
                ));
            }
            crate::parse::check_document_dates(i, d.issued_on.map(Day::date), d.expires_on.map(Day::date), filed_on)?;
            if let Some(a) = &d.attachment
                && let Some(copy) = self.electronic_copy(i, a)?
            {
                copies.push(copy);
            }
            documents.push(SubmittedDocument {
                kind: d.kind.clone(),
                issued_on: d.issued_on.map(Day::date),
                expires_on: d.expires_on.map(Day::date),
                has_electronic_copy: d.attachment.is_some() || channel == Channel::PoliceDesk,
            });
        }
        self.known_copies(&req.documents).await?;
        if !documents.iter().any(|d| d.kind == "identity_document") {
            documents.push(SubmittedDocument {
                kind: "identity_document".into(),
                issued_on: None,
                expires_on: Some(req.applicant.document.expires_on.date()),
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
            .map_err(|e| CaseError::unprocessable("no_rules_version", "/filed_at", e.to_string()))?;
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
        if check_only {
            grounds.extend(service_grounds);
            return Ok(PrIntake::Checked(grounds));
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
                        // The same bar found by two keys is one ground.
                        for g in self.reapplication_bars(&person_key, &iin_key, filed_on).await? {
                            if !grounds.iter().any(|x| x.code == g.code && x.detail == g.detail) {
                                grounds.push(g);
                            }
                        }
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
                    return Err(CaseError::unavailable(format!(
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
            .map_err(|e| CaseError::unprocessable(e.code(), "/filed_at", e.to_string()))?;
        let due_on = terms::pr_service_due(accepted_on, law.params.pr_service_term_days);
        let unit_id = self.case_unit(caller, channel, req.police_unit.as_deref(), None)?;
        let (form, citation_text) = match (channel, accepted) {
            (Channel::Con, true) => ("App. 7", "п. 13; п. 14"),
            (Channel::Con, false) => ("App. 7", "п. 13"),
            (_, true) => ("App. 6", "п. 12"),
            (_, false) => ("App. 6", "п. 12; п. 16-1"),
        };
        let receipt_number = crate::documents::case_document_number("T", &id);
        let (receipt_doc, receipt_op) = self.document_op(
            crate::documents::NewDocument {
                application_id: Some(&id),
                unit: if channel == Channel::Con {
                    &caller.unit
                } else {
                    &unit_id
                },
                act: if accepted {
                    "intake.accepted"
                } else {
                    "intake.refused_to_accept"
                },
                form: if accepted { "receipt" } else { "refusal_to_accept" },
                number: receipt_number.clone(),
                facts: None,
            },
            now,
        )?;
        let mut receipt = Receipt {
            type_: if accepted { "acceptance" } else { "refusal_to_accept" }.into(),
            form: form.into(),
            number: receipt_number,
            issued_at: now_s.clone(),
            citation: citation_text.into(),
            grounds: grounds.clone(),
            result_ready_at: None,
            calendar_status: None,
            calendar_basis: None,
            service_grounds: if accepted { service_grounds.clone() } else { Vec::new() },
            family_cases: Vec::new(),
            document: Some(receipt_doc),
        };
        let status = if accepted { "registered" } else { "refused_to_accept" };
        let decision = (accepted && !service_grounds.is_empty()).then(|| {
            crate::pr_record::PrRecord {
                grounds_at_intake: Some(service_grounds.clone()),
                ..Default::default()
            }
            .to_json()
        });
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
            receipt: crate::documents::stored_receipt(&mut receipt)?,
            data: crate::stored::pr_data(&req)?,
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
        unit.push(receipt_op);
        unit.push_all(repo::insert_application(&row));
        unit.push_all(crate::stored::party_ops(&row)?);
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
            use koshi_law::clocks::LegalClock;
            let mut clocks = vec![(LegalClock::SendToUms, stage2_due), (LegalClock::ServiceTerm, due_on)];
            if channel == Channel::Con {
                // п. 15 абз. 1: the result reaches the ЦОН a day before the term ends.
                clocks.push((LegalClock::ConDelivery, terms::con_delivery_due(due_on)));
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
                    return self
                        .lost_race(caller, idempotency_key, request_hash)
                        .await
                        .map(|c| PrIntake::Filed(Box::new(c)));
                }
                Err(e) => return Err(e.into()),
            }
        }
        crate::metrics::get().filing(
            "pr",
            channel.as_str(),
            if accepted { "accepted" } else { "refused_to_accept" },
        );
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
        Ok(PrIntake::Filed(Box::new(ApplicationCreated {
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
        })))
    }

    /// п. 22: the refusals and annulments that bar a new PR application of the person filed on
    /// `filed_on`. A prior decision that cannot be read stops the filing for a person.
    pub(crate) async fn reapplication_bars(
        &self,
        passport_key: &str,
        iin_key: &str,
        filed_on: Date,
    ) -> Result<Vec<Ground>, CaseError> {
        let law = self.law();
        let mut grounds = Vec::new();
        for decision in self.store.pr_bars(passport_key, iin_key).await? {
            // The year runs from the day the conclusion was drawn up («вынесения»), not from its
            // approval (п. 20 «утверждения»): the drafting instant of the annulment or of the
            // refusal conclusion. A prior decision that cannot be read stops the filing for a
            // person: it is never read as "no bar".
            let unreadable = || {
                CaseError::conflict(
                    "prior_decision_unreadable",
                    "a refused or annulled PR case of this person cannot be read: the п. 22 bar cannot be checked; an officer must look at it",
                )
            };
            let decision = decision.ok_or_else(unreadable)?;
            let v = crate::pr_record::PrRecord::parse(&decision).map_err(|_| unreadable())?;
            let drafted = if v.outcome.as_deref() == Some("annulled") {
                v.annulment.as_ref().map(|a| a.drafted_at.as_str())
            } else {
                v.conclusion.as_ref().map(|c| c.drafted_at.as_str())
            };
            let drawn_on = drafted
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

/// Facts an applicant may declare for the App. 3 package.
/// What a PR intake did: only checked the filing (the grounds the counter would find), or filed it.
enum PrIntake {
    Checked(Vec<Ground>),
    Filed(Box<ApplicationCreated>),
}

/// The facts a PR filer may declare; the others follow from the ground and the documents
/// (`koshi_law::requirements::PR_DERIVED_FACTS`).
pub(crate) const DECLARABLE: [&str; 1] = ["foreign_language_documents"];
