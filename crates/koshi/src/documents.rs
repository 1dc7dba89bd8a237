//! The documents of the acts (issue 16): each act registers its document in the act's own unit
//! (a number, a verification code, the form), the PDF is rendered from the document's facts in
//! the language asked for, signed (a detached ES256 signature over its bytes) and kept
//! content-addressed; anyone checks a document at `/verify/{code}` or by its number and the
//! holder's IIN, and a permit's seal offline against the published keys.
//!
//! An act on a case's hot path (intake, issue, refusal) registers the document with no facts:
//! they are taken from the case's records of that act, which never change, the first time the
//! document is rendered or verified, and kept from then on (docs/interpretations.md, "When a
//! document is produced").

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use koshi_forms::forms::{self, Form};
use koshi_forms::seal::{DetachedSignature, KeySet};
use koshi_forms::{Lang, Stamp};
use koshi_store::repo::{self, ApplicationRow, DocumentFileRow, DocumentRow};
use koshi_store::{Unit, instant};
use serde_json::Value;

use crate::model::{
    ApplicationRequest, DocumentFileView, DocumentRef, DocumentView, InvitingPartyInput, PersonInput, Receipt,
    Verification,
};
use crate::problem::Problem;
use crate::service::{Caller, Service, new_id, sha256_hex};

/// A document to register in an act's unit.
pub(crate) struct NewDocument<'a> {
    pub(crate) application_id: Option<&'a str>,
    pub(crate) unit: &'a str,
    pub(crate) act: &'a str,
    pub(crate) form: &'static str,
    pub(crate) number: String,
    /// The facts, when the act fixes them now; none to take them from the case's records.
    pub(crate) facts: Option<&'a Form>,
}

/// A document number for a case's act: the prefix, then the case id's time digits and its
/// random ones (`R-019AD3C5B2E0-3B4AB07A1B6C`), so that a day's numbers sit together in the
/// index of numbers, as the permits' do (`rvp::payloads::permit_number`).
pub(crate) fn case_document_number(prefix: &str, application_id: &str) -> String {
    let hex: String = application_id
        .chars()
        .filter(|c| *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    format!(
        "{prefix}-{}-{}",
        hex.get(..12).unwrap_or(""),
        hex.get(20..).unwrap_or("")
    )
}

fn href(id: &str) -> String {
    format!("/api/v1/documents/{id}")
}

impl Service {
    /// Registers an act's document in the act's unit.
    pub(crate) fn register_document(
        &self,
        unit: &mut Unit,
        d: NewDocument<'_>,
        now: Timestamp,
    ) -> Result<DocumentRef, Problem> {
        let (r, op) = self.document_op(d, now)?;
        unit.push(op);
        Ok(r)
    }

    /// An act's document and the statement that registers it (for a unit built later).
    pub(crate) fn document_op(
        &self,
        d: NewDocument<'_>,
        now: Timestamp,
    ) -> Result<(DocumentRef, koshi_store::Op), Problem> {
        let id = new_id();
        let today = self.law().calendar.civil(now).date();
        // The code leads with the moment it was made by the machine's clock (as the ids do), so
        // that the index of codes grows at its end even when the service clock is a drill's.
        let code = koshi_forms::new_code(jiff::Timestamp::now());
        let facts = d
            .facts
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Problem::internal(&e))?;
        let op = repo::insert_document(&DocumentRow {
            id: id.clone(),
            application_id: d.application_id.map(str::to_owned),
            form: d.form.into(),
            number: d.number.clone(),
            code: code.clone(),
            act: d.act.into(),
            unit: d.unit.into(),
            facts,
            issued_at: instant(now),
            issued_on: today.to_string(),
        });
        Ok((
            DocumentRef {
                verify_url: self.documents.verify_url(&code),
                href: href(&id),
                id,
                form: d.form.into(),
                number: d.number,
                code,
            },
            op,
        ))
    }

    /// The documents of a case, for a caller allowed to read it.
    pub async fn case_documents(&self, caller: &Caller, application_id: &str) -> Result<Vec<DocumentView>, Problem> {
        let app = self.readable_case(caller, application_id).await?;
        let mut out = Vec::new();
        for doc in self.store.documents_of(&app.id).await? {
            let files = self
                .store
                .document_files(&doc.id)
                .await?
                .into_iter()
                .map(|f| DocumentFileView {
                    lang: f.lang,
                    sha256: f.sha256,
                    kid: f.kid,
                })
                .collect();
            let form = self.form_of(&doc, Some(&app)).await?;
            out.push(DocumentView {
                appendix: form.appendix().map(str::to_owned),
                title: koshi_forms::i18n::t(Lang::Ru, form.title_key()).to_owned(),
                act: doc.act.clone(),
                issued_at: doc.issued_at.clone(),
                files,
                document: DocumentRef {
                    verify_url: self.documents.verify_url(&doc.code),
                    href: href(&doc.id),
                    id: doc.id,
                    form: doc.form,
                    number: doc.number,
                    code: doc.code,
                },
            });
        }
        Ok(out)
    }

    /// App. 1: the application as filed, printed for the applicant's signature or the file;
    /// registered the first time it is asked for (an RVP case; the PR application has no form
    /// in the Rules).
    pub async fn application_document(&self, caller: &Caller, application_id: &str) -> Result<DocumentRef, Problem> {
        let app = self.readable_case(caller, application_id).await?;
        if app.kind != "rvp" {
            return Err(Problem::conflict(
                "no_application_form",
                "the Rules give an application form (App. 1) for an RVP only",
            ));
        }
        if let Some(doc) = self
            .store
            .documents_of(&app.id)
            .await?
            .into_iter()
            .find(|d| d.form == "application")
        {
            return Ok(DocumentRef {
                verify_url: self.documents.verify_url(&doc.code),
                href: href(&doc.id),
                id: doc.id,
                form: doc.form,
                number: doc.number,
                code: doc.code,
            });
        }
        let mut unit = Unit::new();
        let r = self.register_document(
            &mut unit,
            NewDocument {
                application_id: Some(&app.id),
                unit: &app.unit,
                act: "application.printed",
                form: "application",
                number: case_document_number("A", &app.id),
                facts: None,
            },
            self.now(),
        )?;
        self.store.write(unit).await?;
        Ok(r)
    }

    /// A document's PDF in `lang` and its detached signature, for a caller allowed to read the
    /// case; the read enters the audit trail as a read of personal data.
    pub async fn document_pdf(
        &self,
        caller: &Caller,
        document_id: &str,
        lang: Lang,
    ) -> Result<(Vec<u8>, DetachedSignature, DocumentRow), Problem> {
        // The role first: who may not read cases learns nothing, not even whether it exists.
        self.authz.allow(caller, "application.read")?;
        let doc = self
            .store
            .document(document_id)
            .await?
            .ok_or_else(|| Problem::not_found("document"))?;
        let app = match &doc.application_id {
            Some(id) => Some(self.readable_case(caller, id).await?),
            None => {
                self.authz
                    .allow_case(caller, "application.read", &doc.unit, &doc.unit)?;
                None
            }
        };
        let (bytes, signature) = self.rendered(&doc, app.as_ref(), lang).await?;
        if let Some(app) = &app {
            let now_s = instant(self.now());
            self.store
                .write(Unit::new().with(crate::service::case_event(
                    &app.id,
                    &caller.actor(),
                    "personal_data.read",
                    "Law on Personal Data and Their Protection (access record)",
                    crate::service::known_version(&app.rules_version)?,
                    serde_json::json!({"fields": format!("document {} ({})", doc.form, lang.code()), "document": doc.id}),
                    &now_s,
                )))
                .await?;
        }
        Ok((bytes, signature, doc))
    }

    /// The file of a document in `lang`: the one kept, or rendered, signed and kept now. The
    /// rendering is deterministic, so two instances rendering at once keep the same bytes.
    pub(crate) async fn rendered(
        &self,
        doc: &DocumentRow,
        app: Option<&ApplicationRow>,
        lang: Lang,
    ) -> Result<(Vec<u8>, DetachedSignature), Problem> {
        if let Some(file) = self.store.document_file(&doc.id, lang.code()).await?
            && let Some(bytes) = self.store.attachment_content(&file.sha256).await?
        {
            let signature: DetachedSignature =
                serde_json::from_str(&file.signature).map_err(|e| Problem::internal(&e))?;
            return Ok((bytes, signature));
        }
        let form = self.form_of(doc, app).await?;
        let issued_on: Date = doc.issued_on.parse().map_err(|e| Problem::internal(&e))?;
        let key = self.documents.key();
        let seal = match &form {
            Form::Permit(p) => Some(
                key.seal(&koshi_forms::samples::seal_payload(p, &doc.code, issued_on))
                    .map_err(|e| Problem::internal(&e))?,
            ),
            _ => None,
        };
        let stamp = Stamp {
            number: doc.number.clone(),
            code: doc.code.clone(),
            verify_url: self.documents.verify_url(&doc.code),
            issued_on,
            kid: key.kid().to_string(),
            seal,
        };
        let form_for_render = form.clone();
        let (bytes, signature) = tokio::task::spawn_blocking(move || {
            let bytes = koshi_forms::render(&form_for_render, &stamp, lang)?;
            Ok::<_, koshi_forms::FormError>(bytes)
        })
        .await
        .map_err(|e| Problem::internal(&e))?
        .map(|bytes| {
            let signature = key.sign_detached(&bytes);
            (bytes, signature)
        })
        .map_err(|e| Problem::internal(&e))?;
        let now_s = instant(self.now());
        let digest = sha256_hex(&bytes);
        let mut unit = Unit::new();
        unit.push(repo::insert_attachment(
            &digest,
            "application/pdf",
            bytes.clone(),
            &now_s,
        ));
        unit.push(repo::insert_document_file(&DocumentFileRow {
            document_id: doc.id.clone(),
            lang: lang.code().into(),
            sha256: digest,
            signature: serde_json::to_string(&signature).map_err(|e| Problem::internal(&e))?,
            kid: signature.kid.clone(),
            rendered_at: now_s,
        }));
        self.store.write(unit).await?;
        crate::metrics::get().document_rendered(&doc.form, lang.code());
        Ok((bytes, signature))
    }

    /// The facts of a document: kept, or taken now from the case's records of its act and kept.
    pub(crate) async fn form_of(&self, doc: &DocumentRow, app: Option<&ApplicationRow>) -> Result<Form, Problem> {
        if let Some(facts) = &doc.facts {
            return serde_json::from_str(facts).map_err(|e| {
                Problem::conflict(
                    "unreadable_document",
                    format!(
                        "the facts of document {} cannot be read ({e}); an officer must look at it",
                        doc.number
                    ),
                )
            });
        }
        let owned;
        let app = match app {
            Some(a) => a,
            None => {
                let id = doc
                    .application_id
                    .as_deref()
                    .ok_or_else(|| Problem::not_found("document"))?;
                owned = self
                    .store
                    .application(id)
                    .await?
                    .ok_or_else(|| Problem::not_found("application"))?;
                &owned
            }
        };
        let form = if app.kind == "pr" {
            self.derive_pr_form(doc, app).await?
        } else {
            self.derive_rvp_form(doc, app).await?
        };
        let facts = serde_json::to_string(&form).map_err(|e| Problem::internal(&e))?;
        self.store
            .write(Unit::new().with(repo::set_document_facts(&doc.id, &facts)))
            .await?;
        Ok(form)
    }

    /// An RVP document's facts from the case's records of its act: the filing, the receipt, the
    /// decision (none of which an act changes afterwards).
    async fn derive_rvp_form(&self, doc: &DocumentRow, app: &ApplicationRow) -> Result<Form, Problem> {
        let req: ApplicationRequest = serde_json::from_str(&app.data).map_err(|e| unreadable(doc, &e))?;
        let receipt: Receipt = serde_json::from_str(&app.receipt).map_err(|e| unreadable(doc, &e))?;
        let decision: Value = app
            .decision
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| unreadable(doc, &e))?
            .unwrap_or(Value::Null);
        let law = self.law();
        let purpose = forms::Purpose {
            id: app.purpose.clone(),
            ru: law
                .requirements
                .purpose(&app.purpose)
                .map_or_else(|| app.purpose.clone(), |p| p.ru.clone()),
        };
        let filed_at = law.calendar.civil(parse_instant(&app.filed_at, doc)?);
        let body = self.body(&app.unit);
        let version = rules_version(&app.rules_version);
        let holder = person(&req.immigrant)?;
        let date = |s: Option<&str>| -> Result<Date, Problem> {
            s.ok_or_else(|| unreadable(doc, &"a date is missing"))?
                .parse()
                .map_err(|e| unreadable(doc, &e))
        };
        let form = match doc.form.as_str() {
            "receipt" => Form::Receipt(forms::Receipt {
                kind: forms::ReceiptKind::Rvp,
                case_number: app.id.clone(),
                filed_at,
                accepted_on: date(app.accepted_on.as_deref())?,
                channel: app.channel.clone(),
                applicant: holder,
                party: Some(party(&req.inviting_party)),
                purpose: Some(purpose),
                documents: req
                    .documents
                    .iter()
                    .map(|d| {
                        law.requirements
                            .document(&d.kind)
                            .map_or_else(|| d.kind.clone(), |k| k.ru.clone())
                    })
                    .collect(),
                result_ready: receipt
                    .result_ready_at
                    .as_deref()
                    .and_then(|s| s.parse::<jiff::civil::DateTime>().ok()),
                due_on: app.due_on.as_deref().and_then(|s| s.parse().ok()),
                calendar_expected: receipt.calendar_status.is_some(),
                body,
                officer: self.signer(&app.created_by).await?,
                rules_version: version,
            }),
            "refusal_to_accept" => Form::RefusalToAccept(forms::RefusalToAccept {
                kind: forms::RefusalKind::Rvp,
                case_number: app.id.clone(),
                filed_at,
                channel: app.channel.clone(),
                applicant: holder,
                grounds: receipt.grounds.iter().map(|g| ground_ru(self, g)).collect(),
                body,
                officer: self.signer(&app.created_by).await?,
                rules_version: version,
            }),
            "permit" => Form::Permit(forms::Permit {
                exit: false,
                permit_number: doc.number.clone(),
                case_number: app.id.clone(),
                holder,
                purpose,
                party: Some(party(&req.inviting_party)),
                valid_from: date(app.valid_from.as_deref())?,
                valid_until: date(app.valid_until.as_deref())?,
                decided_on: law
                    .calendar
                    .civil(parse_instant(
                        decision["decided_at"].as_str().unwrap_or(&doc.issued_at),
                        doc,
                    )?)
                    .date(),
                body,
                officer: self.signer(decision["decided_by"].as_str().unwrap_or("system")).await?,
                citation: decision["citation"].as_str().unwrap_or("п. 9-1").to_string(),
                rules_version: version,
                family_of: req.family_of.as_ref().map(|f| f.principal_id.clone()),
                calendar_expected: receipt.calendar_status.is_some(),
            }),
            "application" => Form::Application(forms::Application {
                case_number: app.id.clone(),
                filed_at,
                channel: app.channel.clone(),
                body,
                party: party(&req.inviting_party),
                immigrant: holder,
                family: req
                    .family
                    .iter()
                    .map(|m| {
                        Ok(forms::FamilyMember {
                            person: person(&m.person)?,
                            relationship: m.relationship.clone(),
                        })
                    })
                    .collect::<Result<_, Problem>>()?,
                purpose,
                documents: req
                    .documents
                    .iter()
                    .map(|d| {
                        law.requirements
                            .document(&d.kind)
                            .map_or_else(|| d.kind.clone(), |k| k.ru.clone())
                    })
                    .collect(),
                requested_until: req.requested_until.as_deref().and_then(|d| d.parse().ok()),
                representative: req.representative.as_ref().map(|r| r.name.clone()),
            }),
            "motivated_refusal" => Form::MotivatedRefusal(forms::MotivatedRefusal {
                case_number: app.id.clone(),
                applicant: holder,
                party: Some(party(&req.inviting_party)),
                purpose,
                accepted_on: date(app.accepted_on.as_deref())?,
                decided_on: law
                    .calendar
                    .civil(parse_instant(
                        decision["decided_at"].as_str().unwrap_or(&doc.issued_at),
                        doc,
                    )?)
                    .date(),
                grounds: decision["grounds"]
                    .as_array()
                    .map(|gs| gs.iter().map(|g| decision_ground_ru(self, g)).collect())
                    .unwrap_or_default(),
                reason: decision["comment"].as_str().unwrap_or("").to_string(),
                body,
                officer: self.signer(decision["decided_by"].as_str().unwrap_or("system")).await?,
                rules_version: version,
            }),
            other => {
                return Err(Problem::conflict(
                    "unreadable_document",
                    format!(
                        "document {} of form {other:?} has no facts; an officer must look at it",
                        doc.number
                    ),
                ));
            }
        };
        Ok(form)
    }

    /// A PR document's facts from the case's records of its act (the receipt and the filing).
    async fn derive_pr_form(&self, doc: &DocumentRow, app: &ApplicationRow) -> Result<Form, Problem> {
        let req: crate::model::PrApplicationRequest =
            serde_json::from_str(&app.data).map_err(|e| unreadable(doc, &e))?;
        let receipt: Receipt = serde_json::from_str(&app.receipt).map_err(|e| unreadable(doc, &e))?;
        let law = self.law();
        let filed_at = law.calendar.civil(parse_instant(&app.filed_at, doc)?);
        let con = app.channel == "con";
        let version = rules_version(&app.rules_version);
        let form = match doc.form.as_str() {
            "receipt" => Form::Receipt(forms::Receipt {
                kind: if con {
                    forms::ReceiptKind::PrCon
                } else {
                    forms::ReceiptKind::PrTalon
                },
                case_number: app.id.clone(),
                filed_at,
                accepted_on: app
                    .accepted_on
                    .as_deref()
                    .ok_or_else(|| unreadable(doc, &"no acceptance day"))?
                    .parse()
                    .map_err(|e| unreadable(doc, &e))?,
                channel: app.channel.clone(),
                applicant: person(&req.applicant)?,
                party: None,
                purpose: None,
                documents: req
                    .documents
                    .iter()
                    .map(|d| {
                        law.requirements
                            .document(&d.kind)
                            .map_or_else(|| d.kind.clone(), |k| k.ru.clone())
                    })
                    .collect(),
                result_ready: None,
                due_on: app.due_on.as_deref().and_then(|s| s.parse().ok()),
                calendar_expected: receipt.calendar_status.is_some(),
                body: self.body(if con { &app.filed_unit } else { &app.unit }),
                officer: self.signer(&app.created_by).await?,
                rules_version: version,
            }),
            "refusal_to_accept" => Form::RefusalToAccept(forms::RefusalToAccept {
                kind: if con {
                    forms::RefusalKind::Con
                } else {
                    forms::RefusalKind::PrTalon
                },
                case_number: app.id.clone(),
                filed_at,
                channel: app.channel.clone(),
                applicant: person(&req.applicant)?,
                grounds: receipt.grounds.iter().map(|g| ground_ru(self, g)).collect(),
                body: self.body(if con { &app.filed_unit } else { &app.unit }),
                officer: self.signer(&app.created_by).await?,
                rules_version: version,
            }),
            other => {
                return Err(Problem::conflict(
                    "unreadable_document",
                    format!(
                        "document {} of form {other:?} has no facts; an officer must look at it",
                        doc.number
                    ),
                ));
            }
        };
        Ok(form)
    }

    /// The documents of one act of a case whose facts the act fixes, each as (facts, form, number).
    fn register_act_documents(
        &self,
        unit: &mut Unit,
        app: &ApplicationRow,
        act: &str,
        documents: &[(&Form, &'static str, String)],
        now: Timestamp,
    ) -> Result<Vec<DocumentRef>, Problem> {
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
        decision: &Value,
        approver: &Caller,
        permit_number: Option<&str>,
        now: Timestamp,
    ) -> Result<Vec<DocumentRef>, Problem> {
        let req: crate::model::PrApplicationRequest =
            serde_json::from_str(&app.data).map_err(|e| Problem::internal(&e))?;
        let applicant = person(&req.applicant)?;
        let law = self.law();
        let today = law.calendar.civil(now).date();
        let issue = permit_number.is_some();
        let conclusion = &decision["conclusion"];
        let drafted_by = conclusion["drafted_by"].as_str().unwrap_or("system");
        let drafted_on = conclusion["drafted_at"]
            .as_str()
            .and_then(|s| s.parse::<Timestamp>().ok())
            .map_or(today, |t| law.calendar.civil(t).date());
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
        let grounds: Vec<forms::Ground> = conclusion["grounds"]
            .as_array()
            .map(|gs| gs.iter().map(pr_ground_ru).collect())
            .unwrap_or_default();
        let approval = forms::Approval {
            by: forms::Signer {
                post: approver.post.clone().unwrap_or_default(),
                name: self.signer(&approver.actor()).await?.name,
            },
            on: today,
        };
        let version = rules_version(&app.rules_version);
        let body = self.body(&app.unit);
        let hearing = decision["hearing"]["held_on"]
            .as_str()
            .map(|d| format!("проведено {d} (п. 17)"));
        let conclusion_form = Form::PrConclusion(forms::PrConclusion {
            issue,
            case_number: app.id.clone(),
            applicant: applicant.clone(),
            filed_on: app.accepted_on.as_deref().and_then(|d| d.parse().ok()).unwrap_or(today),
            answers,
            grounds: grounds.clone(),
            reasoning: conclusion["comment"].as_str().unwrap_or("").to_string(),
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
        decision: &Value,
        approver: &Caller,
        now: Timestamp,
    ) -> Result<Vec<DocumentRef>, Problem> {
        let req: crate::model::PrApplicationRequest =
            serde_json::from_str(&app.data).map_err(|e| Problem::internal(&e))?;
        let holder = person(&req.applicant)?;
        let law = self.law();
        let today = law.calendar.civil(now).date();
        let a = &decision["annulment"];
        let permit_number = decision["permit_number"]
            .as_str()
            .or(app.permit_number.as_deref())
            .unwrap_or("—")
            .to_string();
        let grounds: Vec<forms::Ground> = a["grounds"]
            .as_array()
            .map(|gs| gs.iter().map(pr_ground_ru).collect())
            .unwrap_or_default();
        let leave_by: Date = a["leave_by"].as_str().and_then(|d| d.parse().ok()).unwrap_or(today);
        let approval = forms::Approval {
            by: forms::Signer {
                post: approver.post.clone().unwrap_or_default(),
                name: self.signer(&approver.actor()).await?.name,
            },
            on: today,
        };
        let drafted_on = a["drafted_at"]
            .as_str()
            .and_then(|s| s.parse::<Timestamp>().ok())
            .map_or(today, |t| law.calendar.civil(t).date());
        let version = rules_version(&app.rules_version);
        let body = self.body(&app.unit);
        let facts = grounds.iter().map(|g| g.text.clone()).collect::<Vec<_>>().join("; ");
        let conclusion = Form::AnnulmentConclusion(forms::AnnulmentConclusion {
            case_number: app.id.clone(),
            holder: holder.clone(),
            permit_number: permit_number.clone(),
            grounds: grounds.clone(),
            facts,
            prepared_by: self.signer(a["drafted_by"].as_str().unwrap_or("system")).await?,
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
        let exit = &a["exit_rvp"];
        let exit_number = exit["number"].as_str().unwrap_or("").to_string();
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
            valid_from: exit["valid_from"]
                .as_str()
                .and_then(|d| d.parse().ok())
                .unwrap_or(today),
            valid_until: exit["valid_until"]
                .as_str()
                .and_then(|d| d.parse().ok())
                .unwrap_or(leave_by),
            decided_on: today,
            body,
            officer: approval.by,
            citation: "п. 21".into(),
            rules_version: version,
            family_of: None,
            calendar_expected: exit["calendar_status"].as_str().is_some_and(|s| s != "official"),
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
    ) -> Result<(Vec<u8>, DetachedSignature, DocumentRow), Problem> {
        self.authz.allow(caller, "journal.read")?;
        self.authz.allow_case(caller, "journal.read", unit_code, unit_code)?;
        if self.authz.unit(unit_code).is_none() {
            return Err(Problem::not_found("unit"));
        }
        if to < from {
            return Err(Problem::bad_request(
                "invalid_period",
                "the period ends before it begins",
            ));
        }
        if from.until(to).map_err(|e| Problem::internal(&e))?.get_days() > 3660 {
            return Err(Problem::bad_request(
                "invalid_period",
                "a journal export covers at most ten years",
            ));
        }
        const MAX_ROWS: i64 = 20_000;
        let law = self.law();
        let tz = law.calendar.time_zone();
        let start = tz
            .to_timestamp(from.at(0, 0, 0, 0))
            .map_err(|e| Problem::internal(&e))?;
        let end = tz
            .to_timestamp(to.tomorrow().map_err(|e| Problem::internal(&e))?.at(0, 0, 0, 0))
            .map_err(|e| Problem::internal(&e))?;
        let entries = self
            .store
            .journal_entries(unit_code, &instant(start), &instant(end), MAX_ROWS + 1)
            .await?;
        if entries.len() as i64 > MAX_ROWS {
            return Err(Problem::bad_request(
                "period_too_large",
                format!("more than {MAX_ROWS} files in the period: export a shorter one"),
            ));
        }
        let mut rows = Vec::with_capacity(entries.len());
        for e in entries {
            let req: crate::model::PrApplicationRequest = serde_json::from_str(&e.data).map_err(|err| {
                Problem::conflict(
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
                    .map_err(|err| Problem::internal(&err))?,
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
            .map_err(|e| Problem::conflict("no_rules_version", e.to_string()))?;
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
            .ok_or_else(|| Problem::internal(&"the journal export was not kept"))?;
        let (bytes, signature) = self.rendered(&doc, None, lang).await?;
        Ok((bytes, signature, doc))
    }

    /// The police body (or ЦОН branch) by its code, with its name.
    pub(crate) fn body(&self, unit: &str) -> forms::Body {
        forms::Body {
            code: unit.to_string(),
            name: self
                .authz
                .unit(unit)
                .map_or_else(|| unit.to_string(), |u| u.name_ru.clone()),
        }
    }

    /// Who acted, as a document names them: a person's post and account, or the system.
    pub(crate) async fn signer(&self, actor: &str) -> Result<forms::Signer, Problem> {
        // "role@unit:token" — a person's token is "user:<id>".
        let role = actor.split('@').next().unwrap_or(actor);
        if let Some((_, user_id)) = actor.split_once(":user:")
            && let Some(user) = self.store.user(user_id).await?
        {
            return Ok(forms::Signer {
                post: user.post,
                name: user.username,
            });
        }
        let post = match role {
            "officer" => "сотрудник миграционной полиции",
            "con_operator" => "работник Государственной корпорации",
            "portal" => "веб-портал «электронного правительства» (автоматически)",
            _ => "ИС МП (автоматически)",
        };
        Ok(forms::Signer {
            post: post.into(),
            name: String::new(),
        })
    }

    /// The public check by verification code: genuine or not found, and the permit's standing.
    pub async fn verify_code(&self, code: &str) -> Result<Option<Verification>, Problem> {
        let Some(code) = koshi_forms::normalise_code(code) else {
            return Ok(None);
        };
        let Some(doc) = self.store.document_by_code(&code).await? else {
            return Ok(None);
        };
        self.verification(&doc, false).await.map(Some)
    }

    /// egov.kz's check: a document's number and its holder's IIN, both right, or not found.
    pub async fn verify_number(&self, number: &str, iin: &str) -> Result<Option<Verification>, Problem> {
        let (number, iin) = (number.trim(), iin.trim());
        if number.is_empty() || number.len() > 64 || iin.len() != 12 || !iin.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        for doc in self.store.document_by_number(number).await? {
            let form = self.form_of(&doc, None).await?;
            if holder_of(&form).and_then(|p| p.iin.as_deref()) == Some(iin) {
                return self.verification(&doc, true).await.map(Some);
            }
        }
        Ok(None)
    }

    async fn verification(&self, doc: &DocumentRow, full_name: bool) -> Result<Verification, Problem> {
        let form = self.form_of(doc, None).await?;
        let today = self.today();
        let case_status = match &doc.application_id {
            Some(id) => self.store.application(id).await?.map(|a| a.status),
            None => None,
        };
        let (valid_from, valid_until) = match &form {
            Form::Permit(p) => (Some(p.valid_from), Some(p.valid_until)),
            _ => (None, None),
        };
        let status = match (&form, valid_from, valid_until) {
            (Form::Permit(p), Some(from), Some(until)) => {
                // The RVP for leaving (п. 21) is issued because of the annulment: it stands.
                if case_status.as_deref() == Some("annulled") && !p.exit {
                    "annulled"
                } else if today < from {
                    "not_yet_valid"
                } else if today > until {
                    "expired"
                } else {
                    "valid"
                }
            }
            (Form::PrNotification(n), _, _) if n.issue => {
                if case_status.as_deref() == Some("annulled") {
                    "annulled"
                } else {
                    "valid"
                }
            }
            _ => "issued",
        };
        let holder = holder_of(&form).map(|p| if full_name { p.full_name() } else { initials(p) });
        Ok(Verification {
            result: "genuine".into(),
            title: koshi_forms::i18n::t(Lang::Ru, form.title_key()).to_owned(),
            appendix: form.appendix().map(str::to_owned),
            number: doc.number.clone(),
            issued_on: doc.issued_on.clone(),
            issuer: self.body(&doc.unit).name,
            status: status.into(),
            valid_from: valid_from.map(|d| d.to_string()),
            valid_until: valid_until.map(|d| d.to_string()),
            holder,
            checked_at: instant(self.now()),
        })
    }

    /// The published keys.
    pub fn document_keys(&self) -> Arc<KeySet> {
        self.documents.key_set()
    }
}

/// The person a document is about.
fn holder_of(form: &Form) -> Option<&forms::Person> {
    match form {
        Form::Application(f) => Some(&f.immigrant),
        Form::Receipt(f) => Some(&f.applicant),
        Form::RefusalToAccept(f) => Some(&f.applicant),
        Form::Permit(f) => Some(&f.holder),
        Form::MotivatedRefusal(f) => Some(&f.applicant),
        Form::PrConclusion(f) => Some(&f.applicant),
        Form::PrNotification(f) => Some(&f.applicant),
        Form::AnnulmentConclusion(f) => Some(&f.holder),
        Form::AnnulmentNotification(f) => Some(&f.holder),
        Form::Journal(_) => None,
    }
}

/// `Ә. Г. Ө.`: enough to match the paper in hand, too little to learn a name from a code.
fn initials(p: &forms::Person) -> String {
    p.surname
        .split(|c: char| c.is_whitespace() || c == '-')
        .chain(p.given_names.split_whitespace())
        .filter_map(|w| w.chars().next())
        .map(|c| format!("{c}."))
        .collect::<Vec<_>>()
        .join(" ")
}

fn unreadable(doc: &DocumentRow, e: &dyn std::fmt::Display) -> Problem {
    Problem::conflict(
        "unreadable_document",
        format!(
            "the records of document {} cannot be read ({e}); an officer must look at it",
            doc.number
        ),
    )
}

fn parse_instant(s: &str, doc: &DocumentRow) -> Result<Timestamp, Problem> {
    s.parse::<Timestamp>().map_err(|e| unreadable(doc, &e))
}

fn rules_version(id: &str) -> String {
    format!("Правила № 992, редакция {id}")
}

/// A person of the filing as the documents print them.
pub(crate) fn person(p: &PersonInput) -> Result<forms::Person, Problem> {
    let date = |s: &str| s.parse::<Date>().map_err(|e| Problem::internal(&e));
    Ok(forms::Person {
        surname: p.surname.trim().to_string(),
        given_names: p.given_names.trim().to_string(),
        birth_date: date(&p.birth_date)?,
        citizenship: if p.citizenship.trim().eq_ignore_ascii_case("XXX") {
            String::new()
        } else {
            p.citizenship.trim().to_uppercase()
        },
        iin: p.iin.clone(),
        document: Some(forms::IdentityDocument {
            kind: match p.document.kind.as_str() {
                "stateless_certificate" => "удостоверение лица без гражданства".into(),
                _ => "паспорт".into(),
            },
            number: p.document.number.trim().to_uppercase(),
            issued_on: p.document.issued_on.as_deref().and_then(|s| s.parse().ok()),
            expires_on: p.document.expires_on.parse().ok(),
        }),
    })
}

/// The inviting party as the documents print it.
pub(crate) fn party(p: &InvitingPartyInput) -> forms::Party {
    forms::Party {
        name: p.name.trim().to_string(),
        iin: p.iin.clone(),
        bin: p.bin.clone(),
        address: p.address.trim().to_string(),
        rka: Some(p.rka.clone()).filter(|r| !r.is_empty()),
    }
}

/// A ground of a receipt in Russian, as the paper states it (the detail kept for the API is
/// English).
fn ground_ru(s: &Service, g: &crate::model::Ground) -> forms::Ground {
    let law = s.law();
    let doc = g
        .document
        .as_deref()
        .map(|k| {
            law.requirements
                .document(k)
                .map_or_else(|| k.to_string(), |d| d.ru.clone())
        })
        .unwrap_or_default();
    let text = match g.code.as_str() {
        "missing_document" => format!("Не представлен документ: {doc}"),
        "expired_document" => format!("Истёк срок действия документа: {doc}"),
        "document_too_old" => format!("Документ выдан ранее допустимого срока: {doc}"),
        "missing_electronic_copy" => format!("Нет электронной копии документа: {doc}"),
        "validity_too_short" => format!("Недостаточный срок действия документа: {doc}"),
        "representative_not_allowed" => "Запрос через портал подписывается ЭЦП самого услугополучателя".into(),
        "late_application" | "stay_expired" => "Срок пребывания истёк; исключения п. 9-1 не подтверждены".into(),
        other => format!("Основание {other}: {}", g.detail),
    };
    forms::Ground {
        citation: g.citation.clone(),
        text,
    }
}

/// A ground of a refusal (App. 2-1) in Russian: the check or ground of law, and the facts stated.
fn decision_ground_ru(s: &Service, g: &Value) -> forms::Ground {
    let law = s.law();
    let what = if let Some(id) = g["ground"].as_str() {
        law.requirements
            .rvp_refusal_grounds
            .iter()
            .find(|x| x.id == id)
            .map_or_else(|| id.to_string(), |x| x.ru.clone())
    } else if let Some(check) = g["check"].as_str().and_then(koshi_law::rvp::Check::parse) {
        check_ru(check).to_string()
    } else {
        g["code"].as_str().unwrap_or("").to_string()
    };
    let detail = g["detail"].as_str().unwrap_or("");
    forms::Ground {
        citation: g["citation"].as_str().unwrap_or("п. 9-3").to_string(),
        text: if detail.is_empty() {
            what
        } else {
            format!("{what}: {detail}")
        },
    }
}

/// A PR ground (of the conclusion or the annulment) in Russian, with its norm.
fn pr_ground_ru(g: &Value) -> forms::Ground {
    let what = g["ground"]
        .as_str()
        .or(g["check"].as_str())
        .or(g["code"].as_str())
        .unwrap_or("");
    let detail = g["detail"].as_str().unwrap_or("");
    let citation = g["citation"]
        .as_str()
        .unwrap_or("Закон «О миграции населения», ст. 49")
        .to_string();
    let text = match (what, detail) {
        ("", d) => d.to_string(),
        (w, "") => format!("Основание {w}"),
        (w, d) => format!("Основание {w}: {d}"),
    };
    forms::Ground { citation, text }
}

/// A case's status as the journal prints it.
fn status_ru(status: &str) -> &str {
    match status {
        "issued" => "выдано",
        "refused" => "отказано",
        "annulled" => "аннулировано",
        "refused_to_accept" => "отказано в приёме",
        "withdrawn" => "отозвано",
        _ => "на рассмотрении",
    }
}

/// The bodies of п. 14 in Russian.
fn agency_ru(code: &str) -> &str {
    match code {
        "ums_dp" => "УМС ДП (согласование дела)",
        "bank" => "Банк (подлинность документов о платёжеспособности)",
        "police_records" => "Учёты органов внутренних дел",
        "kpsisu" => "КПСиСУ Генеральной прокуратуры",
        "national_security" => "Органы национальной безопасности (ЕИС «Беркут»)",
        other => other,
    }
}

/// The checks of п. 9-1 in the Rules' words.
fn check_ru(c: koshi_law::rvp::Check) -> &'static str {
    use koshi_law::rvp::Check;
    match c {
        Check::Completeness => "Полнота документов (п. 9-1 пп. 1)",
        Check::BorderCrossings => "Сведения о пересечении границы, ЕИС «Беркут» (п. 9-1 пп. 2)",
        Check::Records => "Судимость, розыск, неуплаченные штрафы (п. 9-1 пп. 3)",
        Check::Iin => "ИИН иностранца и членов семьи (п. 9-1 пп. 4)",
        Check::HouseholdQuota => {
            "Разрешения на трудовую деятельность в домашнем хозяйстве у работодателя (п. 9-1 пп. 5)"
        }
        Check::PendingPr => "Заявка на разрешение на постоянное жительство (п. 9-1 пп. 6)",
        Check::Fingerprints => "Дактилоскопическая регистрация (п. 9-1 пп. 7)",
    }
}
