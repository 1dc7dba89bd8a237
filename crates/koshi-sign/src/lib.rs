//! Verification of the digital signatures (ЭЦП) that applicants put on portal requests.
//!
//! A request arrives with a CMS/PKCS#7 `SignedData` made by the applicant's NCA key, either
//! detached (the request body is sent alongside) or attached (the body is inside the CMS).
//! [`verify_detached`] / [`verify_attached`] decide whether the signature may be relied on and,
//! if so, who made it ([`Verified`]: subject, serial, IIN/BIN, validity, digest).
//!
//! # What is checked
//!
//! * The signature: with signed attributes, `messageDigest` must equal the digest of the content
//!   and the signature is verified over the DER of the attributes as a SET (RFC 5652 §5.4);
//!   without them, directly over the content. RSA PKCS#1 v1.5 (≥ 2048 bits) with SHA-256/384/512
//!   and ECDSA P-256 with SHA-256/384/512. Every `SignerInfo` must verify.
//! * The signer's certificate (taken from the CMS): validity at the given instant, key usage
//!   digitalSignature or nonRepudiation when the extension is present.
//! * The path to a certificate of the [`TrustStore`]: each issuer by name and by verifying the
//!   child's signature with its key, issuers must be CAs (basicConstraints, pathLen, keyCertSign
//!   when key usage is present) and valid at that instant. CMS certificates serve as untrusted
//!   intermediates.
//! * Revocation against the CRLs in the trust store, for every certificate below the anchor.
//!
//! The verification instant is a parameter rather than "now" so that tests, and re-checks of an
//! archived request at its filing time, are deterministic.
//!
//! # GOST
//!
//! Most NCA certificates are GOST 34.310 (OIDs under 1.2.398.3.10.1). No Rust crate implements
//! these algorithms, and writing national cryptography here would be unauditable, so such a CMS
//! is refused with [`SignatureError::GostRequiresExternalVerifier`] unless an
//! [`ExternalVerifier`] is passed to [`verify_detached_with`] / [`verify_attached_with`]; it then
//! receives the whole decision. [`HttpGostVerifier`] is the adapter for a verification service
//! (e.g. the NCA's): it is the seam where that service plugs in, and refuses until configured.
//!
//! # Not checked
//!
//! OCSP, CRL freshness (a stale CRL still revokes; a missing one revokes nothing), extended key
//! usage and certificate policies, name constraints, unknown critical extensions, timestamps
//! (signingTime and TSP tokens are ignored: the instant is the caller's). The `digestAlgorithms`
//! set of `SignedData` is informational and not compared with the signers' digests.
//!
//! Parsing is strict DER (the `der` crate); certificates and signed attributes are verified over
//! their DER encoding, so a signer that produced BER or unsorted SETs is refused, never guessed.

mod algo;
mod chain;
mod error;
mod external;
mod signed;
mod trust;

use jiff::Timestamp;
use x509_cert::Certificate;
use x509_cert::der::Any;
use x509_cert::der::asn1::{Ia5StringRef, ObjectIdentifier, PrintableStringRef, Utf8StringRef};

pub use algo::DigestAlgorithm;
pub use error::{SignatureError, TrustStoreError};
pub use external::{ExternalVerifier, HttpGostVerifier};
pub use trust::TrustStore;

const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const ORGANIZATIONAL_UNIT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");

/// Who signed, as established by a successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Subject of the signer's certificate, RFC 4514 string (`CN=…,SERIALNUMBER=IIN…,C=KZ`).
    pub subject: String,
    /// Serial number of the signer's certificate, lowercase hex without leading zero bytes.
    pub serial: String,
    /// The signer's IIN: NCA certificates carry `IIN` + 12 digits in the subject serialNumber.
    pub iin: Option<String>,
    /// The organisation's BIN (`BIN` + 12 digits in the subject OU or serialNumber), for
    /// certificates of an employee acting for a legal entity.
    pub bin: Option<String>,
    /// When the signer's certificate expires (useful to warn applicants before it does).
    pub not_after: Timestamp,
    /// The digest the signature relies on.
    pub digest_algorithm: DigestAlgorithm,
}

impl Verified {
    fn from_certificate(cert: &Certificate, digest_algorithm: DigestAlgorithm) -> Self {
        let tbs = cert.tbs_certificate();
        let tagged = |oid: ObjectIdentifier, prefix: &str| {
            tbs.subject()
                .iter()
                .filter(|atv| atv.oid == oid)
                .filter_map(|atv| attr_string(&atv.value))
                .find_map(|s| kz_id(&s, prefix))
        };
        Self {
            subject: tbs.subject().to_string(),
            serial: chain::serial_hex(cert),
            iin: tagged(SERIAL_NUMBER, "IIN"),
            bin: tagged(ORGANIZATIONAL_UNIT, "BIN").or_else(|| tagged(SERIAL_NUMBER, "BIN")),
            not_after: chain::to_timestamp(&tbs.validity().not_after),
            digest_algorithm,
        }
    }
}

fn attr_string(value: &Any) -> Option<String> {
    PrintableStringRef::try_from(value)
        .map(|s| s.to_string())
        .or_else(|_| Utf8StringRef::try_from(value).map(|s| s.to_string()))
        .or_else(|_| Ia5StringRef::try_from(value).map(|s| s.to_string()))
        .ok()
}

/// `"IIN123456789012"` → `"123456789012"` for `prefix = "IIN"`; anything else → `None`.
fn kz_id(value: &str, prefix: &str) -> Option<String> {
    let digits = value.trim().strip_prefix(prefix)?;
    (digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.to_string())
}

/// Verifies a detached CMS signature over `content` at instant `at`.
///
/// GOST signatures fail with [`SignatureError::GostRequiresExternalVerifier`]; use
/// [`verify_detached_with`] to hand them to an external verifier. If the CMS also encapsulates
/// content, it must be identical to `content`.
pub fn verify_detached(
    cms_der: &[u8],
    content: &[u8],
    trust: &TrustStore,
    at: Timestamp,
) -> Result<Verified, SignatureError> {
    verify_detached_with(cms_der, content, trust, at, None)
}

/// [`verify_detached`], delegating a CMS that uses GOST algorithms to `external` when given.
pub fn verify_detached_with(
    cms_der: &[u8],
    content: &[u8],
    trust: &TrustStore,
    at: Timestamp,
    external: Option<&dyn ExternalVerifier>,
) -> Result<Verified, SignatureError> {
    let parsed = signed::parse(cms_der)?;
    if parsed.uses_gost() {
        return match external {
            Some(verifier) => verifier.verify(cms_der, content),
            None => Err(SignatureError::GostRequiresExternalVerifier),
        };
    }
    parsed.verify(content, trust, at)
}

/// Verifies a CMS that carries its content, and returns the content with the signer.
pub fn verify_attached(
    cms_der: &[u8],
    trust: &TrustStore,
    at: Timestamp,
) -> Result<(Verified, Vec<u8>), SignatureError> {
    verify_attached_with(cms_der, trust, at, None)
}

/// [`verify_attached`], delegating a CMS that uses GOST algorithms to `external` when given.
pub fn verify_attached_with(
    cms_der: &[u8],
    trust: &TrustStore,
    at: Timestamp,
    external: Option<&dyn ExternalVerifier>,
) -> Result<(Verified, Vec<u8>), SignatureError> {
    let parsed = signed::parse(cms_der)?;
    let content = parsed
        .encapsulated()?
        .ok_or_else(|| SignatureError::malformed("no encapsulated content: the signature is detached"))?;
    let verified = if parsed.uses_gost() {
        match external {
            Some(verifier) => verifier.verify(cms_der, &content)?,
            None => return Err(SignatureError::GostRequiresExternalVerifier),
        }
    } else {
        parsed.verify(&content, trust, at)?
    };
    Ok((verified, content))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kz_ids() {
        assert_eq!(kz_id("IIN900101300123", "IIN").as_deref(), Some("900101300123"));
        assert_eq!(kz_id("BIN123456789012", "BIN").as_deref(), Some("123456789012"));
        assert_eq!(kz_id("IIN90010130012", "IIN"), None);
        assert_eq!(kz_id("IIN9001013001234", "IIN"), None);
        assert_eq!(kz_id("IIN90010130012x", "IIN"), None);
        assert_eq!(kz_id("BIN123456789012", "IIN"), None);
    }
}
