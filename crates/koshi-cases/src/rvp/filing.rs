//! Parsing and checking a filing at the edge of the law: the typed filing (`validate`), the
//! portal ЭЦП, and the electronic copies.

use std::collections::BTreeSet;

use base64::Engine;
use jiff::civil::Date;
use koshi_law::ident::Bin;
use koshi_law::requirements::{Channel, PartyKind, SubmittedDocument};
use koshi_law::rvp::LateException;
use serde_json::{Value, json};

use crate::CaseError;
use crate::model::*;

use crate::service::*;

impl Service {
    // ------------------------------------------------------------------ intake

    pub(crate) fn validate(&self, caller: &Caller, req: &ApplicationRequest) -> Result<Filing, CaseError> {
        let law = self.law();
        if req.kind != "rvp" {
            return Err(CaseError::unprocessable(
                "unsupported_kind",
                "/kind",
                format!("kind {:?} is not served yet; this service takes \"rvp\"", req.kind),
            ));
        }
        crate::stored::refuse_schema(req.schema)?;
        if req.family_of.is_some() {
            return Err(CaseError::unprocessable(
                "invalid_body",
                "/family_of",
                "family_of is Koshi's own mark on a family member's case; a filing lists its family in /family",
            ));
        }
        let default_channel = match caller.role.as_str() {
            "con_operator" => "con",
            "portal" => "portal",
            _ => "police_desk",
        };
        let channel_s = req.channel.as_deref().unwrap_or(default_channel);
        let channel = Channel::parse(channel_s).ok_or_else(|| {
            CaseError::unprocessable(
                "unknown_channel",
                "/channel",
                format!("{channel_s:?} is not police_desk, con or portal"),
            )
        })?;
        self.authz.allow(caller, "application.file")?;
        let channel_of_role = match caller.role.as_str() {
            "officer" => Some(Channel::PoliceDesk),
            "con_operator" => Some(Channel::Con),
            "portal" => Some(Channel::Portal),
            _ => None,
        };
        if channel_of_role != Some(channel) {
            return Err(CaseError::forbidden(format!(
                "the {} role cannot file through the {} channel",
                caller.role,
                channel.as_str()
            )));
        }
        if let Some(u) = &req.police_unit
            && !self.authz.is_police(u)
        {
            return Err(CaseError::unprocessable(
                "unknown_police_unit",
                "/police_unit",
                format!("{u:?} is not a police body"),
            ));
        }
        let filed = filing_instant(channel, req.filed_at.as_deref(), req.paper_filing.as_ref(), self.now())?;
        let filed_at = filed.at();
        let filed_on = law.calendar.civil(filed_at).date();
        if law.requirements.purpose(&req.purpose).is_none() {
            let known: Vec<_> = law.requirements.purposes.iter().map(|p| p.id.as_str()).collect();
            return Err(CaseError::unprocessable(
                "unknown_purpose",
                "/purpose",
                format!(
                    "{:?} is not a purpose of stay; known: {}",
                    req.purpose,
                    known.join(", ")
                ),
            ));
        }
        let party = PartyKind::parse(&req.inviting_party.kind).ok_or_else(|| {
            CaseError::unprocessable(
                "unknown_party_kind",
                "/inviting_party/kind",
                format!("{:?} is not a kind of inviting party", req.inviting_party.kind),
            )
        })?;
        // Any identifier given is checked, whatever the kind of party.
        if let Some(iin) = &req.inviting_party.iin {
            parse_iin(iin, "/inviting_party/iin")?;
        }
        if let Some(bin) = &req.inviting_party.bin {
            Bin::parse(bin).map_err(|e| {
                CaseError::unprocessable("invalid_bin", "/inviting_party/bin", format!("not a valid BIN: {e}"))
            })?;
        }
        let mut employer_iin = None;
        // A party is identified by the number of its kind only: an individual by IIN, an
        // organisation by BIN (the ЭЦП and the portal binding compare that one).
        if party.is_individual() && req.inviting_party.bin.is_some() {
            return Err(CaseError::unprocessable(
                "invalid_body",
                "/inviting_party/bin",
                "an individual inviting party is identified by IIN only",
            ));
        }
        if !party.is_individual() && req.inviting_party.iin.is_some() {
            return Err(CaseError::unprocessable(
                "invalid_body",
                "/inviting_party/iin",
                "an organisation inviting party is identified by BIN only",
            ));
        }
        if party.is_individual() {
            let iin = req.inviting_party.iin.as_deref().ok_or_else(|| {
                CaseError::unprocessable(
                    "missing_iin",
                    "/inviting_party/iin",
                    "an individual inviting party is identified by IIN",
                )
            })?;
            employer_iin = Some(parse_iin(iin, "/inviting_party/iin")?.as_str());
        } else {
            let bin = req.inviting_party.bin.as_deref().ok_or_else(|| {
                CaseError::unprocessable(
                    "missing_bin",
                    "/inviting_party/bin",
                    "an organisation is identified by BIN",
                )
            })?;
            Bin::parse(bin).map_err(|e| {
                CaseError::unprocessable("invalid_bin", "/inviting_party/bin", format!("not a valid BIN: {e}"))
            })?;
        }
        for (v, p) in [
            (&req.inviting_party.name, "/inviting_party/name"),
            (&req.inviting_party.address, "/inviting_party/address"),
            (&req.inviting_party.rka, "/inviting_party/rka"),
            (&req.immigrant.surname, "/immigrant/surname"),
            (&req.immigrant.document.number, "/immigrant/document/number"),
        ] {
            if v.trim().is_empty() {
                return Err(CaseError::unprocessable("missing_field", p, "must not be empty"));
            }
        }
        let check_person = |p: &PersonInput, base: &str| -> Result<Date, CaseError> {
            let birth = p.birth_date.date();
            if let Some(iin) = &p.iin {
                iin_at(iin, || format!("{base}/iin"))?;
            }
            let c = p.citizenship.trim();
            if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(CaseError::unprocessable(
                    "invalid_citizenship",
                    &format!("{base}/citizenship"),
                    "expected ISO 3166-1 alpha-3 (or XXX)",
                ));
            }
            let expires = p.document.expires_on.date();
            let issued = p.document.issued_on.map(Day::date);
            crate::parse::check_person(base, birth, &p.document.kind, issued, expires, filed_on)?;
            Ok(birth)
        };
        let immigrant_birth = check_person(&req.immigrant, "/immigrant")?;
        let mut family_births = Vec::new();
        for (i, f) in req.family.iter().enumerate() {
            family_births.push(check_person(&f.person, &format!("/family/{i}"))?);
        }
        // п. 9-2 абз. 4, п. 14 пп. 5: results go back through the channel the filing came by
        // (desk print, ИИС ЦОН, portal cabinet); the filer cannot send them elsewhere.
        if let Some(d) = &req.deliver_to {
            let fixed = match channel {
                Channel::Con => "con",
                Channel::Portal => "portal_cabinet",
                _ => "desk",
            };
            if d != fixed {
                return Err(CaseError::unprocessable(
                    "deliver_to_not_allowed",
                    "/deliver_to",
                    format!(
                        "results of a {} filing go to {fixed}; they cannot be redirected",
                        channel.as_str()
                    ),
                ));
            }
        }

        let mut documents = Vec::new();
        let mut attachments = Vec::new();
        for (i, d) in req.documents.iter().enumerate() {
            if law.requirements.document(&d.kind).is_none() {
                return Err(CaseError::unprocessable(
                    "unknown_document_kind",
                    &format!("/documents/{i}/kind"),
                    format!("{:?} is not a known document kind", d.kind),
                ));
            }
            let issued_on = d.issued_on.map(Day::date);
            let expires_on = d.expires_on.map(Day::date);
            crate::parse::check_document_dates(i, issued_on, expires_on, filed_on)?;
            let mut has_copy = false;
            if let Some(a) = &d.attachment {
                if let Some(copy) = self.electronic_copy(i, a)? {
                    attachments.push(copy);
                }
                has_copy = true;
            }
            documents.push(SubmittedDocument {
                kind: d.kind.clone(),
                issued_on,
                expires_on,
                has_electronic_copy: has_copy,
            });
        }
        // The identity document of the immigrant is part of the package (App. 1-1 п. 8).
        if !documents.iter().any(|d| d.kind == "identity_document") {
            documents.push(SubmittedDocument {
                kind: "identity_document".into(),
                issued_on: req.immigrant.document.issued_on.map(Day::date),
                expires_on: Some(req.immigrant.document.expires_on.date()),
                has_electronic_copy: channel == Channel::PoliceDesk
                    || req.documents.iter().any(|d| d.attachment.is_some()),
            });
        }
        let mut facts = BTreeSet::new();
        if koshi_law::requirements::is_eaeu_citizen(&req.immigrant.citizenship) {
            facts.insert("eaeu_citizen".to_string());
        }
        if !req.inviting_party.owns_housing {
            facts.insert("host_not_owner".to_string());
        }
        if !req.family.is_empty() {
            facts.insert("with_family".to_string());
        }
        if req.representative.is_some() {
            facts.insert("filed_by_representative".to_string());
        }
        let mut outage_act = None;
        let late = match &req.late_exception {
            None => None,
            Some(LateExceptionInput::OutageAct {
                act_id: Some(act),
                act_number: None,
                failure_on: None,
            }) => {
                outage_act = Some(act.clone());
                None
            }
            Some(LateExceptionInput::OutageAct { .. }) => {
                return Err(CaseError::unprocessable(
                    "outage_act_required",
                    "/late_exception/act_id",
                    "an act of failure is the one Koshi keeps, signed by the ЦОН and the police body: name it by act_id (POST /api/v1/outage-acts)",
                ));
            }
            Some(LateExceptionInput::Art517Fine {
                overstay_days,
                decision_number,
                decision_date,
            }) => {
                let (Some(number), Some(date)) = (decision_number, decision_date) else {
                    return Err(CaseError::unprocessable(
                        "art517_decision_required",
                        "/late_exception",
                        "an art. 517 exception names the decision: decision_number and decision_date",
                    ));
                };
                Some(LateException::Art517Fine {
                    decision_number: number.clone(),
                    decision_date: date.date(),
                    overstay_days: *overstay_days,
                })
            }
        };
        Ok(Filing {
            unit: self.case_unit(
                caller,
                channel,
                req.police_unit.as_deref(),
                Some(&req.inviting_party.rka),
            )?,
            channel,
            filed_at,
            filed,
            purpose_id: req.purpose.clone(),
            employer_iin,
            facts,
            documents,
            attachments,
            late,
            outage_act,
            immigrant_birth,
            family_births,
        })
    }

    /// п. 8: a portal request is signed by the service recipient with an ЭЦП. The signature must
    /// verify against the trust store at the time of filing, over the exact body, and its signer
    /// must be the inviting party (IIN of an individual, BIN of an organisation).
    pub(crate) async fn verify_signature(
        &self,
        caller: &Caller,
        req: &ApplicationRequest,
        signed: &SignedBody<'_>,
    ) -> Result<Value, CaseError> {
        let Some(cms) = &signed.signature else {
            return Err(CaseError::unprocessable(
                "signature_required",
                "/",
                "a portal request carries its ЭЦП: a detached CMS signature over the body, base64, in the Koshi-Signature header (п. 8)",
            ));
        };
        let (iin, bin, serial, algorithm) = self.verify_ecp(cms, signed.body).await?;
        let party = &req.inviting_party;
        // The signer is the party by the number of its kind (validated: one of the two is given).
        let (given, signer_party) = match (&party.iin, &party.bin) {
            (Some(party_iin), None) => (party_iin.trim(), iin.as_deref()),
            (None, Some(party_bin)) => (party_bin.trim(), bin.as_deref()),
            _ => ("", None),
        };
        let matches = signer_party == Some(given);
        if !matches {
            return Err(CaseError::unprocessable(
                "signature_not_of_the_applicant",
                "/inviting_party",
                "the request is signed by someone other than the inviting party (п. 8: the service recipient signs)",
            ));
        }
        // The portal caller acts for the party its own ЭЦП sign-in proved: it files for that party
        // only (issue 14 item 4).
        if caller.party.as_deref() != signer_party {
            return Err(CaseError::forbidden(
                "the portal session acts for another inviting party than the one that signed this request",
            ));
        }
        Ok(json!({"verified": true, "certificate_serial": serial, "digest": algorithm, "citation": "п. 8"}))
    }

    /// An ЭЦП (detached CMS over `body`) checked against the trust store now, or by the external
    /// GOST verification service: `(IIN, BIN, certificate serial, digest algorithm)`.
    pub(crate) async fn verify_ecp(
        &self,
        cms: &[u8],
        body: &[u8],
    ) -> Result<(Option<String>, Option<String>, String, String), CaseError> {
        let Some(trust) = &self.config.trust_store else {
            return Err(CaseError::unavailable(
                "portal signatures cannot be verified: no trust store is configured (KOSHI_TRUST_STORE)",
            ));
        };
        Ok(match koshi_sign::verify_detached(cms, body, trust, self.now()) {
            Ok(v) => (v.iin, v.bin, v.serial, v.digest_algorithm.name().to_string()),
            // GOST 34.310 goes to the external verification service, when one is configured.
            Err(koshi_sign::SignatureError::GostRequiresExternalVerifier) if self.config.gost_verifier.is_some() => {
                let verifier = self
                    .config
                    .gost_verifier
                    .as_ref()
                    .ok_or_else(|| CaseError::unavailable("no GOST verifier"))?;
                let verdict = verifier.verify(cms, body).await.map_err(CaseError::unavailable)?;
                if !verdict.valid {
                    return Err(CaseError::unprocessable(
                        "gost_signature_invalid",
                        "/",
                        format!(
                            "the ЭЦП is not accepted: {}",
                            verdict
                                .reason
                                .unwrap_or_else(|| "the verification service refused it".into())
                        ),
                    ));
                }
                (
                    verdict.iin,
                    verdict.bin,
                    verdict.serial.unwrap_or_default(),
                    "gost34311".to_string(),
                )
            }
            Err(e) => {
                return Err(CaseError::unprocessable(
                    e.code(),
                    "/",
                    format!("the ЭЦП is not accepted: {e}"),
                ));
            }
        })
    }

    /// The electronic copy given for document `i`: its content decoded, within the size limit,
    /// with its SHA-256 (checked against one given beside it): `(digest, media type, bytes)`; or
    /// none when it refers to content already stored by its SHA-256 (checked by
    /// `known_copies`).
    pub(crate) fn electronic_copy(
        &self,
        i: usize,
        a: &AttachmentInput,
    ) -> Result<Option<(String, String, Vec<u8>)>, CaseError> {
        let b64 = base64::engine::general_purpose::STANDARD;
        let limit = self.config.max_attachment_bytes;
        let too_large = || {
            CaseError::new(
                crate::Kind::TooLarge,
                "attachment_too_large",
                format!("document {i}: electronic copies are limited to {limit} bytes"),
            )
        };
        match (&a.content_base64, &a.sha256) {
            (Some(content), _) => {
                // Base64 is 4/3 of the content: refuse an oversized copy before decoding.
                if content.len() / 4 * 3 > limit + 3 {
                    return Err(too_large());
                }
                let bytes = b64.decode(content.trim()).map_err(|e| {
                    CaseError::unprocessable(
                        "invalid_attachment",
                        &format!("/documents/{i}/attachment/content_base64"),
                        format!("not base64: {e}"),
                    )
                })?;
                if bytes.len() > limit {
                    return Err(too_large());
                }
                crate::parse::check_copy(&format!("/documents/{i}/attachment"), &a.media_type, &bytes)?;
                let digest = sha256_hex(&bytes);
                if let Some(claimed) = &a.sha256
                    && !claimed.eq_ignore_ascii_case(&digest)
                {
                    return Err(CaseError::unprocessable(
                        "attachment_digest_mismatch",
                        &format!("/documents/{i}/attachment/sha256"),
                        "the SHA-256 does not match the content",
                    ));
                }
                Ok(Some((digest, a.media_type.clone(), bytes)))
            }
            (None, Some(_)) if !crate::parse::media_type_known(&a.media_type) => Err(crate::parse::unsupported_media(
                &format!("/documents/{i}/attachment/media_type"),
                &a.media_type,
            )),
            (None, Some(_)) => Ok(None),
            (None, None) => Err(CaseError::unprocessable(
                "invalid_attachment",
                &format!("/documents/{i}/attachment"),
                "give content_base64 or sha256",
            )),
        }
    }

    /// Every stored copy the documents refer to by SHA-256 alone exists.
    pub(crate) async fn known_copies(&self, documents: &[DocumentInput]) -> Result<(), CaseError> {
        for (i, d) in documents.iter().enumerate() {
            if let Some(AttachmentInput {
                content_base64: None,
                sha256: Some(h),
                ..
            }) = &d.attachment
                && self.store.attachment_size(&h.to_lowercase()).await?.is_none()
            {
                return Err(CaseError::unprocessable(
                    "unknown_attachment",
                    &format!("/documents/{i}/attachment/sha256"),
                    "no stored content has this SHA-256",
                ));
            }
        }
        Ok(())
    }
}

/// The documents as kept with the filing: each electronic copy given with its content (in
/// `copies`, in document order) named by its SHA-256 instead.
pub(crate) fn by_digest(documents: &mut [DocumentInput], copies: &[(String, String, Vec<u8>)]) {
    let mut digests = copies.iter().map(|(digest, _, _)| digest);
    for d in documents {
        if let Some(a) = &mut d.attachment
            && a.content_base64.take().is_some()
        {
            a.sha256 = digests.next().cloned();
        }
    }
}
