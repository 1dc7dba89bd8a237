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

mod acts;
mod derive;
mod verify;

use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use koshi_forms::forms::{self, Form};
use koshi_forms::seal::{DetachedSignature, KeySet};
use koshi_forms::{Lang, Stamp};
use koshi_store::repo::{self, ApplicationRow, DocumentFileRow, DocumentRow};
use koshi_store::{Unit, instant};
use serde_json::Value;

use crate::CaseError;
use crate::model::{
    ApplicationRequest, Day, DocumentFileView, DocumentRef, DocumentView, InvitingPartyInput, PersonInput, Receipt,
    Verification,
};
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

/// A receipt as stored with its case: its document named by id and code only, the links made
/// again when it is read ([`Service::receipt_of`]), so a stored filing carries no address that
/// the deployment's public URL or the API's paths decide.
pub(crate) fn stored_receipt(receipt: &mut Receipt) -> Result<String, CaseError> {
    let full = receipt.document.take();
    receipt.document = full.as_ref().map(|d| DocumentRef {
        href: String::new(),
        verify_url: String::new(),
        ..d.clone()
    });
    let stored = serde_json::to_string(&*receipt).map_err(|e| CaseError::internal(&e));
    receipt.document = full;
    stored
}

impl Service {
    /// Registers an act's document in the act's unit.
    pub(crate) fn register_document(
        &self,
        unit: &mut Unit,
        d: NewDocument<'_>,
        now: Timestamp,
    ) -> Result<DocumentRef, CaseError> {
        let (r, op) = self.document_op(d, now)?;
        unit.push(op);
        Ok(r)
    }

    /// An act's document and the statement that registers it (for a unit built later).
    pub(crate) fn document_op(
        &self,
        d: NewDocument<'_>,
        now: Timestamp,
    ) -> Result<(DocumentRef, koshi_store::Op), CaseError> {
        let id = new_id();
        let today = self.law().calendar.civil(now).date();
        // The code leads with the moment it was made by the machine's clock (as the ids do), so
        // that the index of codes grows at its end even when the service clock is a drill's.
        let code = koshi_forms::new_code(jiff::Timestamp::now());
        let facts = d
            .facts
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| CaseError::internal(&e))?;
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

    /// A case's stored receipt as it is shown: its document's links made from its id and code
    /// (receipts stored before kept them whole and read the same).
    pub(crate) fn receipt_of(&self, stored: &str) -> Result<Receipt, CaseError> {
        let mut receipt: Receipt = serde_json::from_str(stored).map_err(|e| CaseError::internal(&e))?;
        if let Some(d) = receipt.document.as_mut() {
            if d.href.is_empty() {
                d.href = href(&d.id);
            }
            if d.verify_url.is_empty() {
                d.verify_url = self.documents.verify_url(&d.code);
            }
        }
        Ok(receipt)
    }

    /// The documents of a case, for a caller allowed to read it.
    pub async fn case_documents(&self, caller: &Caller, application_id: &str) -> Result<Vec<DocumentView>, CaseError> {
        let app = self.readable_case(caller, application_id).await?;
        let documents = self.store.documents_of(&app.id).await?;
        // The case again, read after its documents: a document listed was registered in its act's
        // unit, which the case read first may predate (a permit issued in the background while
        // the list was asked for); its facts are taken from the case as the act left it.
        let app = self
            .store
            .application(&app.id)
            .await?
            .ok_or_else(|| CaseError::not_found("application"))?;
        let mut out = Vec::new();
        for doc in documents {
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
    pub async fn application_document(&self, caller: &Caller, application_id: &str) -> Result<DocumentRef, CaseError> {
        let app = self.readable_case(caller, application_id).await?;
        if app.kind != "rvp" {
            return Err(CaseError::conflict(
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
    ) -> Result<(Vec<u8>, DetachedSignature, DocumentRow), CaseError> {
        // The role first: who may not read cases learns nothing, not even whether it exists.
        self.authz.allow(caller, "application.read")?;
        let doc = self
            .store
            .document(document_id)
            .await?
            .ok_or_else(|| CaseError::not_found("document"))?;
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
    ) -> Result<(Vec<u8>, DetachedSignature), CaseError> {
        if let Some(file) = self.store.document_file(&doc.id, lang.code()).await?
            && let Some(bytes) = self.store.attachment_content(&file.sha256).await?
        {
            let signature: DetachedSignature =
                serde_json::from_str(&file.signature).map_err(|e| CaseError::internal(&e))?;
            return Ok((bytes, signature));
        }
        let form = self.form_of(doc, app).await?;
        let issued_on: Date = doc.issued_on.parse().map_err(|e| CaseError::internal(&e))?;
        let key = self.documents.key();
        let seal = match &form {
            Form::Permit(p) => Some(
                key.seal(&koshi_forms::samples::seal_payload(p, &doc.code, issued_on))
                    .map_err(|e| CaseError::internal(&e))?,
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
        .map_err(|e| CaseError::internal(&e))?
        .map(|bytes| {
            let signature = key.sign_detached(&bytes);
            (bytes, signature)
        })
        .map_err(|e| CaseError::internal(&e))?;
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
            signature: serde_json::to_string(&signature).map_err(|e| CaseError::internal(&e))?,
            kid: signature.kid.clone(),
            rendered_at: now_s,
        }));
        self.store.write(unit).await?;
        crate::metrics::get().document_rendered(&doc.form, lang.code());
        Ok((bytes, signature))
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
    pub(crate) async fn signer(&self, actor: &str) -> Result<forms::Signer, CaseError> {
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

    /// The published keys.
    pub fn document_keys(&self) -> Arc<KeySet> {
        self.documents.key_set()
    }
}
