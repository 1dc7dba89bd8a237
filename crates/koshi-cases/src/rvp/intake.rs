//! Intake (п. 6–8): the receipt of acceptance or refusal to accept, recorded either way; the
//! case rows, clocks and family cases; idempotent replays.

use std::collections::BTreeSet;

use koshi_law::calendar::YearStatus;
use koshi_law::citation::{self, Citation};
use koshi_law::requirements::{Channel, Package};
use koshi_law::rvp::{self};
use koshi_law::terms;
use koshi_store::repo::{self, ApplicationRow};
use koshi_store::{Unit, instant};

use crate::CaseError;
use crate::model::*;

use crate::rvp::filing::by_digest;
use crate::rvp::payloads::IntakeDetail;
use crate::service::*;

impl Service {
    /// Files an application: a receipt of acceptance or of refusal to accept, recorded either way.
    pub async fn file(
        &self,
        caller: &Caller,
        req: ApplicationRequest,
        idempotency_key: Option<&str>,
        signed: &SignedBody<'_>,
    ) -> Result<ApplicationCreated, CaseError> {
        let (created, handoff) = self.file_inner(caller, req, idempotency_key, signed).await?;
        if let Some(h) = handoff
            && self.config.process_on_intake
        {
            self.spawn_processing(h);
        }
        Ok(created)
    }

    /// Files and processes in the caller's task (no background task): for back-office batch
    /// entry and the benchmark. Returns once the checks have run (or are waiting for a registry).
    pub async fn file_and_process(
        &self,
        caller: &Caller,
        req: ApplicationRequest,
    ) -> Result<ApplicationCreated, CaseError> {
        let (created, handoff) = self.file_inner(caller, req, None, &SignedBody::default()).await?;
        if let Some(h) = handoff {
            self.process_with(&created.id.clone(), Some(h)).await?;
        }
        Ok(created)
    }

    pub(crate) async fn file_inner(
        &self,
        caller: &Caller,
        req: ApplicationRequest,
        idempotency_key: Option<&str>,
        signed: &SignedBody<'_>,
    ) -> Result<(ApplicationCreated, Option<Handoff>), CaseError> {
        let request_hash = signed.hash.as_str();
        if let Some(c) = self.seen_before(caller, idempotency_key, request_hash).await? {
            return Ok((c, None));
        }
        let f = self.validate(caller, &req)?;
        let signer = if f.channel == Channel::Portal {
            Some(self.verify_signature(caller, &req, signed).await?)
        } else {
            None
        };
        self.known_copies(&req.documents).await?;
        let law = self.law();
        let cal = &law.calendar;
        let civil = cal.civil(f.filed_at);
        let deadline = cal
            .deadline(civil, terms::RVP_TERM_WORKING_DAYS)
            .map_err(|e| CaseError::unprocessable(e.code(), "/filed_at", e.to_string()))?;
        let version = citation::version_on(deadline.accepted_on)
            .map_err(|e| CaseError::unprocessable("no_rules_version", "/filed_at", e.to_string()))?;
        let purpose = law
            .requirements
            .purpose(&f.purpose_id)
            .ok_or_else(|| CaseError::not_found("purpose"))?;
        let filed_on = civil.date();

        let (grounds, late_citation, act_used) = self.counter_grounds(&req, &f, purpose, filed_on).await?;

        let now = self.now();
        let now_s = instant(now);
        let id = new_id();
        let accepted = grounds.is_empty();
        let receipt_number = crate::documents::case_document_number("R", &id);
        let (receipt_doc, receipt_op) = self.document_op(
            crate::documents::NewDocument {
                application_id: Some(&id),
                unit: &f.unit,
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
            form: if accepted { "App. 1-2" } else { "App. 1-3" }.into(),
            number: receipt_number,
            issued_at: now_s.clone(),
            citation: if accepted {
                "п. 6 абз. 2; п. 7".into()
            } else {
                "п. 6 абз. 3; п. 7 абз. 3".into()
            },
            grounds: grounds.clone(),
            result_ready_at: (accepted && f.channel == Channel::Portal)
                .then(|| format!("{}T{}", deadline.due_on, cal.hours().work_end.strftime("%H:%M"))),
            calendar_status: (accepted && deadline.calendar_status != YearStatus::Official)
                .then(|| deadline.calendar_status.code().to_string()),
            calendar_basis: (accepted && deadline.calendar_status != YearStatus::Official)
                .then(|| cal.basis(deadline.due_on.year())),
            service_grounds: Vec::new(),
            family_cases: if accepted {
                req.family.iter().map(|_| new_id()).collect()
            } else {
                Vec::new()
            },
            document: Some(receipt_doc),
        };
        let status = if accepted {
            status::CHECKING
        } else {
            status::REFUSED_TO_ACCEPT
        };
        // The filing as received, but for its electronic copies: those are stored once, by their
        // SHA-256 (`attachments`), and the filing names them by it instead of holding them again.
        let mut req = req;
        by_digest(&mut req.documents, &f.attachments);
        let actor = caller.actor();
        let data = crate::stored::rvp_data(&req)?;
        let row = ApplicationRow {
            id: id.clone(),
            kind: "rvp".into(),
            status: status.into(),
            channel: f.channel.as_str().into(),
            unit: f.unit.clone(),
            filed_unit: caller.unit.clone(),
            purpose: purpose.id.clone(),
            filed_at: instant(f.filed_at),
            accepted_on: accepted.then(|| deadline.accepted_on.to_string()),
            due_on: accepted.then(|| deadline.due_on.to_string()),
            receipt: crate::documents::stored_receipt(&mut receipt)?,
            data,
            decision: None,
            employer_iin: if purpose.household {
                f.employer_iin.clone()
            } else {
                None
            },
            household: i64::from(purpose.household),
            person_key: person_key(&req.immigrant.citizenship, &req.immigrant.document.number),
            permit_number: None,
            valid_from: None,
            valid_until: None,
            rules_version: version.id.into(),
            created_by: actor.clone(),
            created_at: now_s.clone(),
            updated_at: now_s.clone(),
            revision: 0,
        };
        let mut unit = Unit::new();
        unit.push_all(repo::insert_application(&row));
        unit.push_all(crate::stored::party_ops(&row)?);
        unit.push(receipt_op);
        for (digest, media, bytes) in f.attachments {
            unit.push(repo::insert_attachment(&digest, &media, bytes, &now_s));
        }
        let (action, citation) = if accepted {
            ("intake.accepted", Citation::new("п. 6 абз. 2; п. 7; п. 8"))
        } else {
            ("intake.refused_to_accept", Citation::new("п. 6 абз. 3; п. 7 абз. 3"))
        };
        let detail = serde_json::to_string(&IntakeDetail {
            accepted_on: row.accepted_on.as_deref(),
            channel: f.channel.as_str(),
            due_on: row.due_on.as_deref(),
            grounds: serde_json::to_value(&grounds).map_err(|e| CaseError::internal(&e))?,
            late_exception: late_citation.map(|c| c.to_string()),
            paper_filing: paper_filing_json(&f.filed),
            purpose: &purpose.id,
            signature: signer.as_ref(),
        })
        .map_err(|e| CaseError::internal(&e))?;
        unit.push(case_event(
            &id,
            &actor,
            action,
            citation.as_str(),
            version.id,
            detail,
            &now_s,
        ));
        unit.push(self.monitoring(
            &id,
            if accepted { "accepted" } else { "refused_to_accept" },
            &now_s,
            version.id,
        ));
        // The act of failure serves this filing only (taken in the same unit, or the unit fails).
        if accepted && let Some(act) = &act_used {
            unit.push(repo::use_outage_act(act, &id));
        }
        // Each family member arriving together: a case of its own (issue 14 item 7).
        if accepted && !receipt.family_cases.is_empty() {
            self.member_cases(&mut unit, &row, &req, &receipt.family_cases, version.id)?;
        }
        // п. 5 абз. 4: each minor family member's age-16 term, a clock from now on.
        if accepted {
            for (i, birth) in f.family_births.iter().enumerate() {
                if terms::add_years(*birth, 16) > filed_on {
                    self.start_age16(&mut unit, &id, i, *birth, version.id);
                }
            }
        }
        // The checks are recorded when they first run (`checks_of` shows them waiting until then).
        if let Some(op) = remember_key(caller, idempotency_key, request_hash, &id, &now_s) {
            unit.push(op);
        }
        match self.store.write(unit).await {
            Ok(()) => {}
            Err(koshi_store::StoreError::Conflict(_)) if idempotency_key.is_some() => {
                let c = self.lost_race(caller, idempotency_key, request_hash).await?;
                return Ok((c, None));
            }
            Err(e) => return Err(e.into()),
        }
        tracing::debug!(application = %id, status, channel = f.channel.as_str(), "application filed");
        crate::metrics::get().filing(
            "rvp",
            f.channel.as_str(),
            if accepted { "accepted" } else { "refused_to_accept" },
        );
        let created = ApplicationCreated {
            id,
            status: status.into(),
            receipt,
            accepted_on: row.accepted_on.clone(),
            due_on: row.due_on.clone(),
            rules_version: version.id.into(),
            calendar_status: accepted.then(|| deadline.calendar_status.code().to_string()),
            case_files: Vec::new(),
        };
        let handoff = accepted.then(|| Box::new((row, req)));
        Ok((created, handoff))
    }

    /// What the counter finds on the day of receipt (п. 6, 7, 8; п. 9-1 end): the package's
    /// missing and expired documents, a family member's expired document, a late filing without
    /// its exception. None: the documents are accepted. Also the late-filing exception's
    /// citation and the act of failure it uses.
    pub(crate) async fn counter_grounds(
        &self,
        req: &ApplicationRequest,
        f: &Filing,
        purpose: &koshi_law::requirements::Purpose,
        filed_on: jiff::civil::Date,
    ) -> Result<(Vec<Ground>, Option<Citation>, Option<String>), CaseError> {
        // The law, on the day of receipt (п. 6, п. 7, п. 8): the counter refuses only an
        // incomplete package, an expired document and a late filing. A wrong inviting party is a
        // ground to refuse the service itself (п. 9-3), decided after the checks.
        let law = self.law();
        let cal = &law.calendar;
        let mut grounds: Vec<Ground> = Vec::new();
        let integrated = if f.channel.rules().registry_data_replaces_documents {
            self.config.integrated_registries.clone()
        } else {
            BTreeSet::new()
        };
        let pkg = Package {
            channel: f.channel,
            filed_on,
            facts: &f.facts,
            documents: &f.documents,
            integrated_registries: &integrated,
        };
        for g in law.requirements.check_rvp_package(purpose, &pkg) {
            grounds.push(Ground {
                code: g.code.into(),
                document: Some(g.document),
                check: None,
                citation: g.citation.to_string(),
                detail: g.detail,
            });
        }
        for (i, fm) in req.family.iter().enumerate() {
            let exp = fm.person.document.expires_on.date();
            if exp < filed_on {
                grounds.push(Ground {
                    code: "expired_document".into(),
                    document: Some(format!("family/{i}/identity_document")),
                    check: None,
                    citation: "п. 6".into(),
                    detail: format!("the identity document of family member {} expired on {exp}", i + 1),
                });
            }
        }
        // Late applications (п. 9-1 end), including the age-16 term (п. 5 абз. 4).
        let mut stay_until = req.immigrant.stay_until.map(Day::date);
        if req.immigrant.turned_16_in_kazakhstan {
            let a = terms::age16(cal, f.immigrant_birth)
                .map_err(|e| CaseError::unprocessable(e.code(), "/immigrant/birth_date", e.to_string()))?;
            if filed_on >= a.sixteenth_birthday {
                stay_until = Some(stay_until.map_or(a.apply_by, |s| s.min(a.apply_by)));
            }
        }
        let mut late_citation = None;
        let mut late = f.late.clone();
        let mut act_used = None;
        if let Some(until) = stay_until
            && filed_on > until
            && let Some(act_id) = &f.outage_act
        {
            let passport = person_key(&req.immigrant.citizenship, &req.immigrant.document.number);
            match self.outage_act_for(act_id, req, &passport, until).await? {
                Ok(exception) => {
                    late = Some(exception);
                    act_used = Some(act_id.clone());
                }
                Err(g) => grounds.push(g),
            }
        }
        if let Some(until) = stay_until {
            match rvp::late_application(until, filed_on, late.as_ref()) {
                Ok(c) => late_citation = c,
                Err((code, detail, cite)) => grounds.push(Ground {
                    code: code.into(),
                    document: None,
                    check: None,
                    citation: cite.to_string(),
                    detail,
                }),
            }
        }
        Ok((grounds, late_citation, act_used))
    }

    /// п. 5 абз. 3: at a ЦОН the person's IIN comes from ГБД ФЛ, not from a paper. The query is a
    /// read of personal data before any case exists, recorded as such in the audit trail (who
    /// asked, when; the answer found or not — never the number itself). A registry that does not
    /// answer says so: the operator does not guess the IIN.
    pub async fn iin_from_gbd_fl(
        &self,
        caller: &Caller,
        q: &koshi_registries::PersonQuery,
    ) -> Result<Option<String>, CaseError> {
        self.authz.allow(caller, "application.file")?;
        if caller.role != "con_operator" {
            return Err(CaseError::forbidden(
                "the ГБД ФЛ query at intake is a ЦОН's (п. 5 абз. 3)",
            ));
        }
        let answer = tokio::time::timeout(self.config.registry_timeout, self.registries.gbd_fl.iin(q))
            .await
            .map_err(|_| CaseError::unavailable("ГБД ФЛ did not answer in time; try again"))?
            .map_err(|_| CaseError::unavailable("ГБД ФЛ did not answer; try again"))?;
        let now_s = instant(self.now());
        let version = citation::version_on(self.law().calendar.civil(self.now()).date())
            .map_err(|e| CaseError::unprocessable("no_rules_version", "/", e.to_string()))?;
        self.store
            .write(Unit::new().with(repo::insert_event(repo::NewEvent {
                id: new_id(),
                application_id: None,
                at: now_s,
                actor: caller.actor(),
                action: "personal_data.query".into(),
                citation: std::borrow::Cow::Borrowed("п. 5 абз. 3"),
                rules_version: std::borrow::Cow::Borrowed(version.id),
                detail: serde_json::json!({"registry": "gbd_fl", "found": answer.iin.is_some()}).to_string(),
            })))
            .await?;
        Ok(answer.iin)
    }

    /// The desk's check before the documents are taken (issue 17): what the counter would find
    /// in this filing now — the grounds of a refusal to accept, none when the package is whole.
    /// Nothing is written; the filing is validated as a filing is.
    pub async fn precheck_rvp(&self, caller: &Caller, req: &ApplicationRequest) -> Result<Vec<Ground>, CaseError> {
        self.authz.allow(caller, "application.file")?;
        let f = self.validate(caller, req)?;
        self.known_copies(&req.documents).await?;
        let law = self.law();
        let purpose = law
            .requirements
            .purpose(&f.purpose_id)
            .ok_or_else(|| CaseError::not_found("purpose"))?;
        let filed_on = law.calendar.civil(f.filed_at).date();
        Ok(self.counter_grounds(req, &f, purpose, filed_on).await?.0)
    }

    /// The answer already given to this caller's Idempotency-Key, if the key was seen before.
    pub(crate) async fn seen_before(
        &self,
        caller: &Caller,
        key: Option<&str>,
        request_hash: &str,
    ) -> Result<Option<ApplicationCreated>, CaseError> {
        let Some(key) = key else { return Ok(None) };
        if key.is_empty() || key.len() > 200 {
            return Err(CaseError::bad_request(
                "invalid_idempotency_key",
                "Idempotency-Key must be 1–200 characters",
            ));
        }
        match self.store.idempotency(&caller.idempotency_subject(), key).await? {
            Some(existing) => Ok(Some(self.replay(&existing, request_hash).await?)),
            None => Ok(None),
        }
    }

    /// After a conflicting write: a concurrent request with the same key won; answer with its case.
    pub(crate) async fn lost_race(
        &self,
        caller: &Caller,
        key: Option<&str>,
        request_hash: &str,
    ) -> Result<ApplicationCreated, CaseError> {
        match self.seen_before(caller, key, request_hash).await? {
            Some(answer) => Ok(answer),
            None => Err(CaseError::conflict(
                "conflict",
                "the request conflicted with another; retry",
            )),
        }
    }

    /// A PR talon is numbered by the journal (App. 8), whose number is assigned at commit.
    pub(crate) async fn journal_receipt_number(
        &self,
        row: &ApplicationRow,
        receipt: &mut Receipt,
    ) -> Result<(), CaseError> {
        if row.kind == "pr"
            && let Some((unit, n)) = self.store.journal_entry(&row.id).await?
        {
            receipt.number = format!("{unit}/{n}");
        }
        Ok(())
    }

    pub(crate) async fn replay(
        &self,
        existing: &repo::IdempotencyRow,
        request_hash: &str,
    ) -> Result<ApplicationCreated, CaseError> {
        if existing.request_hash != request_hash {
            return Err(CaseError::unprocessable(
                "idempotency_key_reused",
                "/",
                "this Idempotency-Key was used with a different request body",
            ));
        }
        let row = self
            .store
            .application(&existing.application_id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        let mut receipt = self.receipt_of(&row.receipt)?;
        self.journal_receipt_number(&row, &mut receipt).await?;
        Ok(ApplicationCreated {
            id: row.id,
            status: row.status,
            receipt,
            calendar_status: crate::lawdata::calendar_status_of(
                &self.law(),
                row.accepted_on.as_deref(),
                row.due_on.as_deref(),
            )
            .map(|s| s.code().to_string()),
            accepted_on: row.accepted_on,
            due_on: row.due_on,
            rules_version: row.rules_version,
            case_files: Vec::new(),
        })
    }
}
