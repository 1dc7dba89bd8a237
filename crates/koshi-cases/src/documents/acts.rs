//! The documents whose facts an act fixes (PR conclusion and notification, annulment), and the journal export.

use super::derive::*;
use super::*;
use crate::pr_record::PrRecord;

impl Service {
    /// The documents of one act of a case whose facts the act fixes, each as (facts, form, number).
    fn register_act_documents(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        act: &str,
        documents: &[(&Form, &'static str, String)],
        now: Timestamp,
    ) -> Result<Vec<DocumentRef>, CaseError> {
        documents
            .iter()
            .map(|(form, kind, number)| {
                self.register_document(
                    unit,
                    NewDocument {
                        application_id: Some(&app.id),
                        unit: &app.unit,
                        act,
                        form: kind,
                        number: number.clone(),
                        facts: Some(form),
                    },
                    now,
                )
            })
            .collect()
    }

    /// п. 15: the approved conclusion (App. 9, with its approval) and the notification of issue
    /// or refusal (App. 10), their facts fixed now (a PR case's record changes afterwards).
    pub(crate) async fn pr_decision_documents(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        record: &PrRecord,
        approver: &Caller,
        permit_number: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<DocumentRef>, CaseError> {
        let req = crate::stored::pr_filing(&app.data)?;
        let applicant = person(&req.applicant)?;
        let law = self.law();
        let today = law.calendar.civil(now).date();
        let issue = permit_number.is_some();
        let conclusion = record
            .conclusion
            .as_ref()
            .ok_or_else(|| CaseError::unreadable("conclusion"))?;
        let drafted_by = conclusion.drafted_by.as_str();
        let drafted_on = law.calendar.civil(drafted_instant(&conclusion.drafted_at)?).date();
        let answers = self
            .store
            .agency_requests(&app.id)
            .await?
            .into_iter()
            .map(|a| forms::AgencyAnswer {
                agency: agency_ru(&a.agency).to_string(),
                answer: match a.outcome.as_deref() {
                    Some("positive") => "положительный".to_string(),
                    Some("negative") => format!(
                        "отрицательный{}",
                        a.detail.map(|d| format!(": {d}")).unwrap_or_default()
                    ),
                    _ => "ответ не получен".to_string(),
                },
                on: a
                    .answered_at
                    .as_deref()
                    .and_then(|s| s.parse::<Timestamp>().ok())
                    .map(|t| law.calendar.civil(t).date()),
            })
            .collect();
        let grounds: Vec<forms::Ground> = conclusion.grounds.iter().map(pr_ground_ru).collect();
        let approval = forms::Approval {
            by: forms::Signer {
                post: approver.post.clone().unwrap_or_default(),
                name: self.signer(&approver.actor()).await?.name,
            },
            on: today,
        };
        let version = rules_version(&app.rules_version);
        let body = self.body(&app.unit);
        let hearing = record
            .hearing
            .as_ref()
            .and_then(|h| h.held_on)
            .map(|d| format!("проведено {d} (п. 17)"));
        let conclusion_form = Form::PrConclusion(forms::PrConclusion {
            issue,
            case_number: app.id.clone(),
            applicant: applicant.clone(),
            filed_on: app.accepted_on.as_deref().and_then(|d| d.parse().ok()).unwrap_or(today),
            answers,
            grounds: grounds.clone(),
            reasoning: conclusion.comment.clone().unwrap_or_default(),
            hearing,
            prepared_by: self.signer(drafted_by).await?,
            prepared_on: drafted_on,
            approval: Some(approval.clone()),
            body: body.clone(),
            rules_version: version.clone(),
        });
        let notification = Form::PrNotification(forms::PrNotification {
            issue,
            case_number: app.id.clone(),
            applicant,
            permit_number: permit_number.map(str::to_owned),
            grounds,
            decided_on: today,
            body,
            officer: approval.by.clone(),
            rules_version: version,
        });
        self.register_act_documents(
            unit,
            app,
            "pr.conclusion.approved",
            &[
                (&conclusion_form, "pr_conclusion", case_document_number("C", &app.id)),
                (&notification, "pr_notification", case_document_number("U", &app.id)),
            ],
            now,
        )
    }

    /// п. 18–21: the approved conclusion on annulment (App. 11), its notification (App. 12) and
    /// the RVP for the time needed to leave (п. 21), their facts fixed now.
    pub(crate) async fn annulment_documents(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        record: &PrRecord,
        approver: &Caller,
        now: Timestamp,
    ) -> Result<Vec<DocumentRef>, CaseError> {
        let req = crate::stored::pr_filing(&app.data)?;
        let holder = person(&req.applicant)?;
        let law = self.law();
        let today = law.calendar.civil(now).date();
        let a = record
            .annulment
            .as_ref()
            .ok_or_else(|| CaseError::unreadable("conclusion of annulment"))?;
        let permit_number = record
            .permit_number
            .as_deref()
            .or(app.permit_number.as_deref())
            .ok_or_else(|| CaseError::unreadable("permit number"))?
            .to_string();
        let grounds: Vec<forms::Ground> = a.grounds.iter().map(pr_ground_ru).collect();
        let exit = a
            .exit_rvp
            .as_ref()
            .ok_or_else(|| CaseError::unreadable("exit RVP (п. 21)"))?;
        let leave_by: Date = a.leave_by.ok_or_else(|| CaseError::unreadable("day to leave by"))?;
        let approval = forms::Approval {
            by: forms::Signer {
                post: approver.post.clone().unwrap_or_default(),
                name: self.signer(&approver.actor()).await?.name,
            },
            on: today,
        };
        let drafted_on = law.calendar.civil(drafted_instant(&a.drafted_at)?).date();
        let version = rules_version(&app.rules_version);
        let body = self.body(&app.unit);
        let facts = grounds.iter().map(|g| g.text.clone()).collect::<Vec<_>>().join("; ");
        let conclusion = Form::AnnulmentConclusion(forms::AnnulmentConclusion {
            case_number: app.id.clone(),
            holder: holder.clone(),
            permit_number: permit_number.clone(),
            grounds: grounds.clone(),
            facts,
            prepared_by: self.signer(&a.drafted_by).await?,
            prepared_on: drafted_on,
            approval: Some(approval.clone()),
            leave_by: Some(leave_by),
            body: body.clone(),
            rules_version: version.clone(),
        });
        let notification = Form::AnnulmentNotification(forms::AnnulmentNotification {
            case_number: app.id.clone(),
            holder: holder.clone(),
            permit_number,
            grounds,
            approved_on: today,
            leave_by,
            body: body.clone(),
            officer: approval.by.clone(),
            rules_version: version.clone(),
        });
        let exit_number = exit.number.clone();
        let exit_form = Form::Permit(forms::Permit {
            exit: true,
            permit_number: exit_number.clone(),
            case_number: app.id.clone(),
            holder,
            purpose: forms::Purpose {
                id: "exit".into(),
                ru: "Выезд из Республики Казахстан после аннулирования разрешения (п. 21 Правил)".into(),
            },
            party: None,
            valid_from: exit.valid_from,
            valid_until: exit.valid_until,
            decided_on: today,
            body,
            officer: approval.by,
            citation: "п. 21".into(),
            rules_version: version,
            family_of: None,
            calendar_expected: exit.calendar_status != "official",
        });
        self.register_act_documents(
            unit,
            app,
            "pr.annulment.approved",
            &[
                (&conclusion, "annulment_conclusion", case_document_number("AC", &app.id)),
                (
                    &notification,
                    "annulment_notification",
                    case_document_number("AU", &app.id),
                ),
                (&exit_form, "exit_permit", exit_number.clone()),
            ],
            now,
        )
    }

    /// App. 8: a police body's journal of PR files for a period, as a signed document (each
    /// export is registered, so the printout can be checked like any other document).
    pub async fn journal_export(
        &self,
        caller: &Caller,
        unit_code: &str,
        from: Date,
        to: Date,
        lang: Lang,
    ) -> Result<(Vec<u8>, DetachedSignature, DocumentRow), CaseError> {
        self.authz.allow(caller, "journal.read")?;
        self.authz.allow_case(caller, "journal.read", unit_code, unit_code)?;
        if self.authz.unit(unit_code).is_none() {
            return Err(CaseError::not_found("unit"));
        }
        if to < from {
            return Err(CaseError::bad_request(
                "invalid_period",
                "the period ends before it begins",
            ));
        }
        if from.until(to).map_err(|e| CaseError::internal(&e))?.get_days() > 3660 {
            return Err(CaseError::bad_request(
                "invalid_period",
                "a journal export covers at most ten years",
            ));
        }
        const MAX_ROWS: i64 = 20_000;
        let law = self.law();
        let tz = law.calendar.time_zone();
        let start = tz
            .to_timestamp(from.at(0, 0, 0, 0))
            .map_err(|e| CaseError::internal(&e))?;
        let end = tz
            .to_timestamp(to.tomorrow().map_err(|e| CaseError::internal(&e))?.at(0, 0, 0, 0))
            .map_err(|e| CaseError::internal(&e))?;
        let entries = self
            .store
            .journal_entries(unit_code, &instant(start), &instant(end), MAX_ROWS + 1)
            .await?;
        if entries.len() as i64 > MAX_ROWS {
            return Err(CaseError::bad_request(
                "period_too_large",
                format!("more than {MAX_ROWS} files in the period: export a shorter one"),
            ));
        }
        let mut rows = Vec::with_capacity(entries.len());
        for e in entries {
            let req: crate::model::PrApplicationRequest = serde_json::from_str(&e.data).map_err(|err| {
                CaseError::conflict(
                    "unreadable_case",
                    format!(
                        "the case of journal entry {} cannot be read ({err}); an officer must look at it",
                        e.number
                    ),
                )
            })?;
            let p = person(&req.applicant)?;
            rows.push(forms::JournalRow {
                serial: e.number.to_string(),
                full_name: p.full_name(),
                birth_date: p.birth_date,
                citizenship: if p.citizenship.is_empty() {
                    "ЛБГ".into()
                } else {
                    p.citizenship
                },
                filed_on: e
                    .registered_at
                    .parse::<Timestamp>()
                    .map(|t| law.calendar.civil(t).date())
                    .map_err(|err| CaseError::internal(&err))?,
                case_number: e.application_id,
                outcome: status_ru(&e.status).to_string(),
            });
        }
        let form = Form::Journal(forms::Journal {
            body: self.body(unit_code),
            from,
            to,
            rows,
        });
        let now = self.now();
        let mut unit = Unit::new();
        let r = self.register_document(
            &mut unit,
            NewDocument {
                application_id: None,
                unit: unit_code,
                act: "journal.exported",
                form: "journal",
                // Each export is a document of its own: the period, then the export's own digits.
                number: format!(
                    "J-{unit_code}-{}-{}-{}",
                    from.strftime("%Y%m%d"),
                    to.strftime("%Y%m%d"),
                    &new_id()[24..].to_uppercase()
                ),
                facts: Some(&form),
            },
            now,
        )?;
        let version = koshi_law::citation::version_on(law.calendar.civil(now).date())
            .map_err(|e| CaseError::conflict("no_rules_version", e.to_string()))?;
        // The export is a read of personal data of every file listed: recorded in the audit.
        unit.push(repo::insert_event(repo::NewEvent {
            id: new_id(),
            application_id: None,
            at: instant(now),
            actor: caller.actor(),
            action: "journal.exported".into(),
            citation: "п. 14 пп. 1; App. 8".into(),
            rules_version: version.id.into(),
            detail:
                serde_json::json!({"unit": unit_code, "from": from.to_string(), "to": to.to_string(), "document": r.id})
                    .to_string(),
        }));
        self.store.write(unit).await?;
        let doc = self
            .store
            .document(&r.id)
            .await?
            .ok_or_else(|| CaseError::internal(&"the journal export was not kept"))?;
        let (bytes, signature) = self.rendered(&doc, None, lang).await?;
        Ok((bytes, signature, doc))
    }
}

/// The instant a PR act was drafted, as stored; one that does not read stops the act's documents.
fn drafted_instant(stored: &str) -> Result<Timestamp, CaseError> {
    stored
        .parse()
        .map_err(|_| CaseError::unreadable("instant the act was drafted"))
}
