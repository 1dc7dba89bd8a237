//! The inviting party's portal identity (issue 14 item 4; п. 8): the party signs a fresh sign-in
//! statement with its ЭЦП, and receives a token bound to the IIN or BIN its certificate proves.
//! Every filing, read and list that token makes is the party's own.

use jiff::{SignedDuration, Timestamp};
use koshi_store::repo::{self, TokenRow};
use koshi_store::{Unit, instant};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::CaseError;
use crate::service::{Caller, Service};

/// What a sign-in statement says it is for, so that no other signed text serves as one.
pub const SIGN_IN_PURPOSE: &str = "koshi.portal.sign_in";
/// How long a portal token acts for its party.
pub const TOKEN_LIFETIME: SignedDuration = SignedDuration::from_hours(8);
/// How far a statement's `signed_at` may lie from the server's clock.
pub const FRESHNESS: SignedDuration = SignedDuration::from_mins(5);
/// The portal unit of the shipped units file.
pub const PORTAL_UNIT: &str = "EGOV";

/// The statement an inviting party signs to sign in (the body of `POST /api/v1/portal/sessions`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInStatement {
    /// Always `koshi.portal.sign_in`.
    pub purpose: String,
    /// When the party signed it (RFC 3339); within five minutes of the server's clock.
    pub signed_at: String,
    /// A random value of 16 to 128 characters, never used before.
    pub nonce: String,
    /// Sign in for the organisation (its BIN) rather than for oneself (the IIN).
    #[serde(default)]
    pub as_organisation: bool,
}

/// A portal token bound to the party.
#[derive(Debug, Serialize)]
pub struct PortalSession {
    /// The bearer token (shown once).
    pub token: String,
    /// The IIN or BIN the token acts for.
    pub party: String,
    pub expires_at: String,
}

/// A portal token's row (stored as a digest) and its secret; `id` is fixed by the caller.
pub fn party_token(id: String, unit: &str, party: &str, label: &str, now: Timestamp) -> (TokenRow, String) {
    let secret = crate::caller::new_token_secret();
    let row = TokenRow {
        id,
        token_hash: crate::caller::token_hash(&secret),
        role: "portal".into(),
        unit: unit.into(),
        label: label.into(),
        created_at: instant(now),
        revoked_at: None,
        party: Some(party.into()),
        expires_at: Some(instant(now + TOKEN_LIFETIME)),
    };
    (row, secret)
}

/// A notice addressed to the applicant for a PR, as the cabinet shows it: the hearing before a
/// refusal or an annulment (п. 17, 18), the notification of issue or refusal (App. 10), the
/// notification of annulment (App. 12).
#[derive(Debug, Clone, Serialize)]
pub struct PartyNotice {
    pub application_id: String,
    /// The talon's number (App. 6) the applicant holds.
    pub talon: String,
    /// `hearing_notice`, `notification` or `annulment_notice`.
    pub document: String,
    /// When the notice was sent.
    pub sent_at: String,
    /// The hearing's day, and what it is on (`conclusion`: a refusal; `annulment`).
    pub hearing_on: Option<String>,
    pub on: Option<String>,
    /// App. 10: `issued` or `refused`, and the permit's number when issued.
    pub outcome: Option<String>,
    pub permit_number: Option<String>,
    /// App. 12: the day by which the holder leaves (п. 20-21).
    pub leave_by: Option<String>,
    /// The grounds, each with its text and norm.
    pub grounds: Vec<(String, String)>,
    pub citation: String,
}

/// The documents of a PR case addressed to its applicant.
const APPLICANT_NOTICES: [&str; 3] = ["hearing_notice", "notification", "annulment_notice"];

impl Service {
    /// The notices addressed to the signed-in party as the applicant for a PR (by the IIN its
    /// ЭЦП proves), newest first: what the law sends the applicant, nothing else of the case.
    pub async fn party_notices(&self, caller: &Caller) -> Result<Vec<PartyNotice>, CaseError> {
        let Some(party) = caller.party.as_deref().filter(|_| caller.role == "portal") else {
            return Err(CaseError::forbidden(
                "notices are read by the party they are addressed to",
            ));
        };
        let mut out = Vec::new();
        for id in self.store.party_cases(party, crate::stored::APPLICANT, 50).await? {
            let Some(app) = self.store.application(&id).await? else {
                continue;
            };
            // The same rule that wrote the row holds for the filing as stored.
            if !crate::stored::parties(&app.kind, &app.channel, &app.data)
                .map_err(|_| CaseError::conflict("stored_record_unreadable", "a case's filing cannot be read"))?
                .iter()
                .any(|(p, r)| p == party && *r == crate::stored::APPLICANT)
            {
                continue;
            }
            let talon = serde_json::from_str::<serde_json::Value>(&app.receipt)
                .ok()
                .and_then(|r| r["number"].as_str().map(str::to_string))
                .unwrap_or_default();
            for m in self.store.outbox(Some(&id), 200).await? {
                let Ok(p) = serde_json::from_str::<serde_json::Value>(&m.payload) else {
                    continue;
                };
                let document = p["document"].as_str().unwrap_or("");
                if !APPLICANT_NOTICES.contains(&document) {
                    continue;
                }
                let text = |k: &str| p[k].as_str().map(str::to_string);
                let grounds = p["grounds"]
                    .as_array()
                    .map(|gs| {
                        gs.iter()
                            .map(|g| {
                                (
                                    g["detail"].as_str().unwrap_or("").to_string(),
                                    g["citation"].as_str().unwrap_or("").to_string(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                out.push(PartyNotice {
                    application_id: id.clone(),
                    talon: talon.clone(),
                    document: document.to_string(),
                    sent_at: m.created_at.clone(),
                    hearing_on: text("hearing_on"),
                    on: text("on"),
                    outcome: text("outcome"),
                    permit_number: text("permit_number"),
                    leave_by: text("leave_by"),
                    grounds,
                    citation: text("citation").unwrap_or_default(),
                });
            }
        }
        out.sort_by(|a, b| b.sent_at.cmp(&a.sent_at));
        Ok(out)
    }

    /// Signs a portal party out: its token acts no more. A token already revoked or expired
    /// is left as it is.
    pub async fn portal_sign_out(&self, caller: &Caller) -> Result<(), CaseError> {
        if caller.role != "portal" {
            return Err(CaseError::forbidden("only a portal party signs out of the cabinet"));
        }
        self.store
            .write(Unit::new().with(repo::revoke_token(&caller.token_id, &instant(self.now()))))
            .await
            .or_else(|e| match e {
                // The optimistic guard found it revoked already: signed out either way.
                koshi_store::StoreError::Conflict(_) => Ok(()),
                other => Err(other.into()),
            })
    }

    /// Signs an inviting party in: the statement must be signed by an ЭЦП the trust store
    /// accepts, be fresh, say what it is for, and never have served before (its digest is the
    /// token's id, so a replay is a conflict).
    pub async fn portal_sign_in(&self, body: &[u8], cms: Option<&[u8]>) -> Result<PortalSession, CaseError> {
        let Some(cms) = cms else {
            return Err(CaseError::unprocessable(
                "signature_required",
                "/",
                "a portal sign-in carries its ЭЦП: a detached CMS signature over the body, base64, in the Koshi-Signature header",
            ));
        };
        let statement: SignInStatement = crate::parse::parse_body(body)?;
        if statement.purpose != SIGN_IN_PURPOSE {
            return Err(CaseError::unprocessable(
                "wrong_purpose",
                "/purpose",
                format!("a sign-in statement says purpose {SIGN_IN_PURPOSE:?}"),
            ));
        }
        let n = statement.nonce.chars().count();
        if !(16..=128).contains(&n) || !statement.nonce.chars().all(|c| c.is_ascii_graphic()) {
            return Err(CaseError::unprocessable(
                "invalid_nonce",
                "/nonce",
                "the nonce is 16 to 128 printable ASCII characters",
            ));
        }
        let now = self.now();
        let signed_at: Timestamp = statement.signed_at.parse().map_err(|e| {
            CaseError::unprocessable("invalid_instant", "/signed_at", format!("not an RFC 3339 instant: {e}"))
        })?;
        if (now - signed_at).abs() > FRESHNESS {
            return Err(CaseError::unprocessable(
                "statement_not_fresh",
                "/signed_at",
                "the statement was signed more than five minutes from now: sign a new one",
            ));
        }
        let (iin, bin, _, _) = self.verify_ecp(cms, body).await?;
        let party = if statement.as_organisation { bin } else { iin };
        let Some(party) = party else {
            return Err(CaseError::unprocessable(
                "certificate_names_no_party",
                "/as_organisation",
                if statement.as_organisation {
                    "the certificate names no BIN: an organisation signs with its employee's certificate for it"
                } else {
                    "the certificate names no IIN"
                },
            ));
        };
        let id = format!("ecp-{}", &hex::encode(Sha256::digest(body))[..32]);
        let (row, secret) = party_token(id, PORTAL_UNIT, &party, "ЭЦП sign-in", now);
        self.store
            .write(Unit::new().with(repo::insert_token(&row)))
            .await
            .map_err(|e| match e {
                koshi_store::StoreError::Conflict(_) => CaseError::conflict(
                    "sign_in_replayed",
                    "this signed statement has already served to sign in: sign a new one",
                ),
                other => other.into(),
            })?;
        Ok(PortalSession {
            token: secret,
            party,
            expires_at: row.expires_at.unwrap_or_default(),
        })
    }
}
