//! Koshi's document signature: an ECDSA P-256 key (ES256) that signs every PDF (a detached
//! signature over its bytes) and the seal printed in a permit's 2D code (a COSE_Sign1, RFC 9052,
//! over a CBOR payload, in the manner of ICAO VDS and the EU DCC). The public keys, old ones
//! included, are published so that documents signed before a rotation stay verifiable.

use std::str::FromStr;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ciborium::Value;
use coset::{CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use jiff::Timestamp;
use jiff::civil::Date;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};
use p256::elliptic_curve::Generate;
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::der::EncodePem;
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::{Time, Validity};

use crate::FormError;

/// The signing key of this Koshi installation.
pub struct DocumentKey {
    kid: String,
    key: SigningKey,
}

impl std::fmt::Debug for DocumentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// A public key as published at `/.well-known/koshi/document-keys.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PublishedKey {
    pub kid: String,
    /// Always `ES256` (ECDSA P-256 with SHA-256).
    pub alg: String,
    /// SubjectPublicKeyInfo, DER, base64.
    pub public_key: String,
    /// The key's certificate (PEM).
    pub certificate: String,
    /// `current` signs new documents; `retired` only verifies old ones.
    pub status: String,
}

/// The published key set.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct KeySet {
    pub keys: Vec<PublishedKey>,
}

impl KeySet {
    fn find(&self, kid: &str) -> Result<VerifyingKey, FormError> {
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| FormError::UnknownKey(kid.to_owned()))?;
        let der = STANDARD
            .decode(&key.public_key)
            .map_err(|_| FormError::UnknownKey(kid.to_owned()))?;
        VerifyingKey::from_public_key_der(&der).map_err(|_| FormError::UnknownKey(kid.to_owned()))
    }
}

/// The key id: the first 8 bytes of the SHA-256 of the public key (SPKI DER), in hex.
fn kid_of(key: &VerifyingKey) -> Result<String, FormError> {
    let der = key.to_public_key_der().map_err(|e| FormError::Key(e.to_string()))?;
    Ok(hex::encode(&Sha256::digest(der.as_bytes())[..8]))
}

impl DocumentKey {
    /// A new key, and its PKCS#8 PEM to keep.
    pub fn generate() -> Result<(DocumentKey, String), FormError> {
        let key = SigningKey::generate_from_rng(&mut rand::rng());
        let pem = key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| FormError::Key(e.to_string()))?;
        let kid = kid_of(key.verifying_key())?;
        Ok((DocumentKey { kid, key }, pem.to_string()))
    }

    /// A key from its PKCS#8 PEM (`KOSHI_DOCUMENT_KEY`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<DocumentKey, FormError> {
        let key =
            SigningKey::from_pkcs8_pem(pem).map_err(|e| FormError::Key(format!("not a P-256 PKCS#8 key: {e}")))?;
        let kid = kid_of(key.verifying_key())?;
        Ok(DocumentKey { kid, key })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key (SPKI DER, base64).
    pub fn public_key(&self) -> Result<String, FormError> {
        let der = self
            .key
            .verifying_key()
            .to_public_key_der()
            .map_err(|e| FormError::Key(e.to_string()))?;
        Ok(STANDARD.encode(der.as_bytes()))
    }

    /// A self-signed certificate for the key, valid ten years from `from`: made once when the
    /// key is first registered and kept with it (a deployment may replace it with one its PKI
    /// issued).
    pub fn self_signed_certificate(&self, from: Timestamp, subject: &str) -> Result<String, FormError> {
        let name = Name::from_str(subject).map_err(|e| FormError::Key(format!("certificate subject: {e}")))?;
        let profile = SelfSigned { name };
        let time = |t: Timestamp| -> Result<Time, FormError> {
            let secs = u64::try_from(t.as_second()).map_err(|_| FormError::Key("time before 1970".into()))?;
            Time::try_from(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
                .map_err(|e| FormError::Key(e.to_string()))
        };
        let until = from
            .checked_add(jiff::SignedDuration::from_hours(24 * 3653))
            .map_err(|e| FormError::Key(e.to_string()))?;
        let validity = Validity::new(time(from)?, time(until)?);
        let spki =
            SubjectPublicKeyInfoOwned::from_key(self.key.verifying_key()).map_err(|e| FormError::Key(e.to_string()))?;
        let serial =
            SerialNumber::new(&Sha256::digest(self.kid.as_bytes())[..8]).map_err(|e| FormError::Key(e.to_string()))?;
        let builder =
            CertificateBuilder::new(profile, serial, validity, spki).map_err(|e| FormError::Key(e.to_string()))?;
        let cert = builder
            .build::<_, DerSignature>(&self.key)
            .map_err(|e| FormError::Key(e.to_string()))?;
        cert.to_pem(LineEnding::LF).map_err(|e| FormError::Key(e.to_string()))
    }

    /// The detached signature of a document's bytes.
    pub fn sign_detached(&self, bytes: &[u8]) -> DetachedSignature {
        let signature: Signature = self.key.sign(bytes);
        DetachedSignature {
            kid: self.kid.clone(),
            alg: "ES256".into(),
            sha256: hex::encode(Sha256::digest(bytes)),
            signature: URL_SAFE_NO_PAD.encode(signature.to_bytes()),
        }
    }

    /// The seal: a tagged COSE_Sign1 over the payload's CBOR.
    pub fn seal(&self, payload: &SealPayload) -> Result<Vec<u8>, FormError> {
        let mut body = Vec::new();
        ciborium::into_writer(&payload.to_cbor(), &mut body).map_err(|e| FormError::Seal(e.to_string()))?;
        let protected = HeaderBuilder::new()
            .algorithm(iana::Algorithm::ES256)
            .key_id(self.kid.as_bytes().to_vec())
            .build();
        let sign1 = CoseSign1Builder::new()
            .protected(protected)
            .payload(body)
            .create_signature(b"", |tbs| {
                let signature: Signature = self.key.sign(tbs);
                signature.to_bytes().to_vec()
            })
            .build();
        sign1.to_tagged_vec().map_err(|e| FormError::Seal(e.to_string()))
    }
}

struct SelfSigned {
    name: Name,
}

impl BuilderProfile for SelfSigned {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.name.clone()
    }

    fn get_subject(&self) -> Name {
        self.name.clone()
    }

    fn build_extensions(
        &self,
        _spk: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        Ok(Vec::new())
    }
}

/// A detached signature over a document's bytes (`GET …/documents/{id}/signature`, or
/// `FILE.pdf.sig` beside a downloaded PDF).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DetachedSignature {
    pub kid: String,
    pub alg: String,
    /// SHA-256 of the signed bytes, hex.
    pub sha256: String,
    /// The raw ECDSA signature (r ‖ s), base64url.
    pub signature: String,
}

impl DetachedSignature {
    /// Checks the signature of `bytes` against the published keys.
    pub fn verify(&self, bytes: &[u8], keys: &KeySet) -> Result<(), FormError> {
        if self.alg != "ES256" {
            return Err(FormError::BadSignature(format!("algorithm {} is not ES256", self.alg)));
        }
        if hex::encode(Sha256::digest(bytes)) != self.sha256 {
            return Err(FormError::BadSignature(
                "the file is not the one that was signed (its SHA-256 differs)".into(),
            ));
        }
        let key = keys.find(&self.kid)?;
        let raw = URL_SAFE_NO_PAD
            .decode(&self.signature)
            .map_err(|_| FormError::BadSignature("the signature is not base64url".into()))?;
        let signature =
            Signature::from_slice(&raw).map_err(|_| FormError::BadSignature("the signature is not 64 bytes".into()))?;
        key.verify(bytes, &signature)
            .map_err(|_| FormError::BadSignature("the signature does not match the file".into()))
    }
}

/// What a permit's seal carries: enough to compare with the paper and the holder's passport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealPayload {
    /// `RVP` (App. 2) or `RVP-EXIT` (п. 21).
    pub doc_type: String,
    pub number: String,
    pub code: String,
    pub surname: String,
    pub given_names: String,
    pub birth_date: Date,
    pub valid_from: Date,
    pub valid_until: Date,
    /// The purpose of stay (its id, e.g. `education`).
    pub purpose: String,
    /// The issuing police body.
    pub issuer: String,
    pub issued_on: Date,
}

// CBOR map keys of the seal payload (Koshi's own profile, version 1).
const K_VERSION: i64 = 0;
const K_TYPE: i64 = 1;
const K_NUMBER: i64 = 2;
const K_CODE: i64 = 3;
const K_SURNAME: i64 = 4;
const K_GIVEN: i64 = 5;
const K_BIRTH: i64 = 6;
const K_FROM: i64 = 7;
const K_UNTIL: i64 = 8;
const K_PURPOSE: i64 = 9;
const K_ISSUER: i64 = 10;
const K_ISSUED: i64 = 11;

impl SealPayload {
    fn to_cbor(&self) -> Value {
        let text = |k: i64, v: &str| (Value::Integer(k.into()), Value::Text(v.to_owned()));
        // Dates as the integer YYYYMMDD: five bytes instead of eleven.
        let day = |k: i64, d: Date| {
            let n = i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day());
            (Value::Integer(k.into()), Value::Integer(n.into()))
        };
        Value::Map(vec![
            (Value::Integer(K_VERSION.into()), Value::Integer(1.into())),
            text(K_TYPE, &self.doc_type),
            text(K_NUMBER, &self.number),
            text(K_CODE, &self.code),
            text(K_SURNAME, &self.surname),
            text(K_GIVEN, &self.given_names),
            day(K_BIRTH, self.birth_date),
            day(K_FROM, self.valid_from),
            day(K_UNTIL, self.valid_until),
            text(K_PURPOSE, &self.purpose),
            text(K_ISSUER, &self.issuer),
            day(K_ISSUED, self.issued_on),
        ])
    }

    fn from_cbor(value: Value) -> Result<SealPayload, FormError> {
        let bad = |what: &str| FormError::Seal(format!("the seal's payload has no valid {what}"));
        let Value::Map(entries) = value else {
            return Err(bad("map"));
        };
        let get = |k: i64| -> Option<&Value> {
            entries
                .iter()
                .find(|(key, _)| matches!(key, Value::Integer(i) if i128::from(*i) == i128::from(k)))
                .map(|e| &e.1)
        };
        match get(K_VERSION) {
            Some(Value::Integer(v)) if i128::from(*v) == 1 => {}
            _ => return Err(FormError::Seal("the seal's profile version is not 1".into())),
        }
        let text = |k: i64, what: &str| -> Result<String, FormError> {
            match get(k) {
                Some(Value::Text(t)) => Ok(t.clone()),
                _ => Err(bad(what)),
            }
        };
        let date = |k: i64, what: &str| -> Result<Date, FormError> {
            let Some(Value::Integer(n)) = get(k) else {
                return Err(bad(what));
            };
            let n = i128::from(*n);
            let (y, m, d) = (n / 10_000, (n / 100) % 100, n % 100);
            let part = |v: i128| i8::try_from(v).map_err(|_| bad(what));
            let year = i16::try_from(y).map_err(|_| bad(what))?;
            Date::new(year, part(m)?, part(d)?).map_err(|_| bad(what))
        };
        Ok(SealPayload {
            doc_type: text(K_TYPE, "type")?,
            number: text(K_NUMBER, "number")?,
            code: text(K_CODE, "code")?,
            surname: text(K_SURNAME, "surname")?,
            given_names: text(K_GIVEN, "given names")?,
            birth_date: date(K_BIRTH, "birth date")?,
            valid_from: date(K_FROM, "start of validity")?,
            valid_until: date(K_UNTIL, "end of validity")?,
            purpose: text(K_PURPOSE, "purpose")?,
            issuer: text(K_ISSUER, "issuer")?,
            issued_on: date(K_ISSUED, "issue date")?,
        })
    }
}

/// A seal that verified: the payload and the key that signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedSeal {
    pub kid: String,
    pub payload: SealPayload,
}

/// Checks a seal (tagged or untagged COSE_Sign1) against the published keys.
pub fn verify_seal(bytes: &[u8], keys: &KeySet) -> Result<VerifiedSeal, FormError> {
    let sign1 = CoseSign1::from_tagged_slice(bytes)
        .or_else(|_| CoseSign1::from_slice(bytes))
        .map_err(|_| FormError::Seal("the seal is not a COSE_Sign1".into()))?;
    if sign1.protected.header.alg != Some(coset::RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES256)) {
        return Err(FormError::Seal("the seal's algorithm is not ES256".into()));
    }
    let kid = String::from_utf8(sign1.protected.header.key_id.clone())
        .map_err(|_| FormError::Seal("the seal's key id is not text".into()))?;
    let key = keys.find(&kid)?;
    sign1
        .verify_signature(b"", |sig, data| {
            let signature = Signature::from_slice(sig).map_err(|_| ())?;
            key.verify(data, &signature).map_err(|_| ())
        })
        .map_err(|()| FormError::BadSignature("the seal's signature does not match its content".into()))?;
    let body = sign1
        .payload
        .ok_or_else(|| FormError::Seal("the seal has no payload".into()))?;
    let value: Value =
        ciborium::from_reader(body.as_slice()).map_err(|_| FormError::Seal("the seal's payload is not CBOR".into()))?;
    Ok(VerifiedSeal {
        kid,
        payload: SealPayload::from_cbor(value)?,
    })
}

/// The text of a permit's 2D code: the verification page's address, with the seal (base64url)
/// in the fragment, which a browser never sends to the server.
pub fn permit_code_text(verify_url: &str, seal: &[u8]) -> String {
    format!("{verify_url}#{}", URL_SAFE_NO_PAD.encode(seal))
}

/// Splits a 2D code's text into the verification code (the last path segment) and the seal.
pub fn parse_code_text(text: &str) -> Result<(String, Option<Vec<u8>>), FormError> {
    let (url, fragment) = match text.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (text, None),
    };
    let code = url
        .rsplit_once("/verify/")
        .map(|(_, c)| c.trim_end_matches('/').to_owned())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| FormError::Seal("the code is not a Koshi verification address".into()))?;
    let seal = match fragment {
        Some(f) if !f.is_empty() => Some(
            URL_SAFE_NO_PAD
                .decode(f)
                .map_err(|_| FormError::Seal("the seal in the code is not base64url".into()))?,
        ),
        _ => None,
    };
    Ok((code, seal))
}

/// Only for tests and tools: a published key from a verifying key.
pub fn published(key: &DocumentKey, certificate: String, status: &str) -> Result<PublishedKey, FormError> {
    Ok(PublishedKey {
        kid: key.kid.clone(),
        alg: "ES256".into(),
        public_key: key.public_key()?,
        certificate,
        status: status.into(),
    })
}

/// Reads a published key's SPKI, to check that a key file matches it.
pub fn verifying_key(public_key_b64: &str) -> Result<VerifyingKey, FormError> {
    let der = STANDARD
        .decode(public_key_b64)
        .map_err(|_| FormError::Key("public key is not base64".into()))?;
    VerifyingKey::from_public_key_der(&der).map_err(|e| FormError::Key(e.to_string()))
}
