//! The PR service (chapter 3), first slice: intake at a police body or a ЦОН (п. 11–14, 16-1, 22),
//! the journal of App. 8, and the legal clocks started at intake.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use jiff::civil::Date;
use koshi_law::citation;
use koshi_law::requirements::{Channel, Package, SubmittedDocument};
use koshi_law::terms;
use koshi_registries::PersonQuery;
use koshi_store::repo::{self, ApplicationRow, EventRow};
use koshi_store::{StoreError, Unit, instant, timers};
use serde_json::json;

use crate::model::*;
use crate::problem::Problem;
use crate::service::{Caller, Service};

/// Facts an applicant may declare for the App. 3 package.
const DECLARABLE: [&str; 5] = [
    "refugee_or_asylum",
    "ethnic_kazakh_from_prc",
    "solvency_exempt",
    "housing_contracted",
    "foreign_language_documents",
];

fn date(s: &str, pointer: &str) -> Result<Date, Problem> {
    s.parse::<Date>()
        .ok()
        .filter(|_| s.len() == 10)
        .ok_or_else(|| Problem::unprocessable("invalid_date", pointer, format!("{s:?} is not a date YYYY-MM-DD")))
}

impl Service {
    /// Files a PR application: a talon (App. 6) or ЦОН receipt (App. 7) of acceptance with its
    /// journal number, or a recorded refusal to accept.
    pub async fn file_pr(
        &self,
        caller: &Caller,
        req: PrApplicationRequest,
    ) -> Result<(StatusCode, ApplicationCreated), Problem> {
        self.authz.allow(caller, "application.file")?;
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
        let law = &self.law;
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
        let filed_at = match &req.filed_at {
            Some(s) => s.parse::<jiff::Timestamp>().map_err(|e| {
                Problem::unprocessable(
                    "invalid_instant",
                    "/filed_at",
                    format!("{s:?} is not an RFC 3339 instant: {e}"),
                )
            })?,
            None => self.now(),
        };
        let birth = date(&req.applicant.birth_date, "/applicant/birth_date")?;
        if let Some(iin) = &req.applicant.iin {
            koshi_law::ident::Iin::parse(iin).map_err(|e| {
                Problem::unprocessable("invalid_iin", "/applicant/iin", format!("not a valid IIN: {e}"))
            })?;
        }
        let mut facts: BTreeSet<String> = BTreeSet::new();
        for (i, f) in req.facts.iter().enumerate() {
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
        for (i, m) in req.family.iter().enumerate() {
            let b = date(&m.person.birth_date, &format!("/family/{i}/birth_date"))?;
            let age = filed_on
                .since((jiff::Unit::Year, b))
                .map(|s| s.get_years())
                .unwrap_or(99);
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
        for (i, d) in req.documents.iter().enumerate() {
            if law.requirements.document(&d.kind).is_none() {
                return Err(Problem::unprocessable(
                    "unknown_document_kind",
                    &format!("/documents/{i}/kind"),
                    format!("{:?} is not a known document kind", d.kind),
                ));
            }
            documents.push(SubmittedDocument {
                kind: d.kind.clone(),
                issued_on: d
                    .issued_on
                    .as_deref()
                    .map(|s| date(s, &format!("/documents/{i}/issued_on")))
                    .transpose()?,
                expires_on: d
                    .expires_on
                    .as_deref()
                    .map(|s| date(s, &format!("/documents/{i}/expires_on")))
                    .transpose()?,
                has_electronic_copy: d.attachment.is_some() || channel == Channel::PoliceDesk,
            });
        }
        if !documents.iter().any(|d| d.kind == "identity_document") {
            documents.push(SubmittedDocument {
                kind: "identity_document".into(),
                issued_on: None,
                expires_on: Some(date(
                    &req.applicant.document.expires_on,
                    "/applicant/document/expires_on",
                )?),
                has_electronic_copy: true,
            });
        }
        let version = citation::version_on(filed_on)
            .map_err(|e| Problem::unprocessable("no_rules_version", "/filed_at", e.to_string()))?;
        let person_key = crate::service::person_key(&req.applicant.citizenship, &req.applicant.document.number);

        // The law on the day of receipt.
        let mut grounds: Vec<Ground> = Vec::new();
        // п. 22: not earlier than a year after a refusal or an annulment.
        for decision in self.store.pr_bars(&person_key).await? {
            let v: serde_json::Value = serde_json::from_str(&decision).unwrap_or_default();
            if let Some(on) = v["concluded_on"].as_str().and_then(|s| s.parse::<Date>().ok()) {
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
        let none = BTreeSet::new();
        let pkg = Package {
            channel,
            filed_on,
            facts: &facts,
            documents: &documents,
            integrated_registries: &none,
        };
        for g in law.requirements.check_pr_package(&pkg) {
            grounds.push(Ground {
                code: g.code.into(),
                document: Some(g.document),
                check: None,
                citation: g.citation.to_string(),
                detail: g.detail,
            });
        }
        // п. 14: via a ЦОН, ГБД ФЛ is asked for the IIN first; without one no request is formed.
        if channel == Channel::Con && grounds.is_empty() {
            let q = PersonQuery {
                document_number: req.applicant.document.number.trim().to_uppercase(),
                citizenship: req.applicant.citizenship.trim().to_uppercase(),
                birth_date: birth,
                iin: req.applicant.iin.clone(),
            };
            match self.registries.gbd_fl.iin(&q).await {
                Ok(a) if a.iin.is_some() => {}
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
        let unit_id = req.police_unit.clone().unwrap_or_else(|| caller.unit.clone());
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
        };
        let status = if accepted { "registered" } else { "refused_to_accept" };
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
            decision: None,
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
        unit.push(repo::insert_application(&row));
        unit.push(repo::insert_event(&EventRow {
            id: uuid::Uuid::now_v7().to_string(),
            application_id: Some(id.clone()),
            at: now_s.clone(),
            actor: caller.actor(),
            action: if accepted {
                "pr.intake.accepted"
            } else {
                "pr.intake.refused_to_accept"
            }
            .into(),
            citation: citation_text.into(),
            rules_version: version.id.into(),
            detail: json!({"channel": channel.as_str(), "ground": ground.id, "grounds": grounds, "due_on": row.due_on})
                .to_string(),
        }));
        if accepted {
            // п. 14 пп. 1: the case file is registered in the journal at once (stage 1 done at
            // intake); the clocks of the next stage and of the whole term start now.
            unit.push(repo::register_in_journal(&unit_id, &id, &now_s));
            let stage2_due = terms::pr_stage_due(terms::PrStage::SendToUms, accepted_on, due_on);
            for (kind, due) in [("pr.stage.send_to_ums", stage2_due), ("pr.service_term", due_on)] {
                let at = due.at(18, 30, 0, 0);
                let due_at = law
                    .calendar
                    .time_zone()
                    .to_zoned_datetime(at)
                    .map(|z| instant(z.timestamp()))
                    .unwrap_or_else(|_| now_s.clone());
                unit.push(timers::schedule(
                    &uuid::Uuid::now_v7().to_string(),
                    kind,
                    &id,
                    &due_at,
                    &json!({"due_on": due.to_string()}).to_string(),
                ));
            }
        }
        // Two instances may race for one journal number: the loser's unit rolls back; retry.
        let mut tries = 0;
        loop {
            match self.store.write(unit.clone()).await {
                Ok(()) => break,
                Err(StoreError::Conflict(m)) if tries < 5 && m.contains("journal") => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
        let mut receipt = receipt;
        if accepted && let Some(n) = self.store.journal_number(&id).await? {
            receipt.number = format!("{unit_id}/{n}");
        }
        Ok((
            StatusCode::CREATED,
            ApplicationCreated {
                id,
                status: status.into(),
                receipt,
                accepted_on: row.accepted_on,
                due_on: row.due_on,
                rules_version: version.id.into(),
            },
        ))
    }
}
