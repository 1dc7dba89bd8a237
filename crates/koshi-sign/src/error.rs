//! The reasons a signature is refused.
//!
//! Every variant carries a stable [`SignatureError::code`] so that the portal, the audit trail and the
//! applicant-facing message can key on it without parsing English text; the `Display` text is for
//! operators and says which certificate or attribute failed.

use jiff::Timestamp;

/// Why a signed request was not accepted.
///
/// The codes are part of the API: they are logged, stored with the case and mapped to messages
/// for the applicant, so they never change once released.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The bytes are not a DER CMS/PKCS#7 `ContentInfo` holding `SignedData`, or a required part
    /// (message digest attribute, encapsulated content, key encoding) is missing or broken.
    #[error("malformed CMS/PKCS#7 SignedData: {0}")]
    MalformedCms(String),
    /// The `SignedData` has no `SignerInfo`, or the signer's certificate is not among the
    /// certificates carried in the CMS.
    #[error("no signer: {0}")]
    NoSigner(String),
    /// A digest, signature or key algorithm this crate does not verify (GOST has its own error).
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The signature was made over other content: the `messageDigest` attribute (or the
    /// encapsulated content) differs from the content presented.
    #[error("content mismatch: {0}")]
    ContentMismatch(String),
    /// The cryptographic signature does not verify with the signer's public key.
    #[error("bad signature: {0}")]
    BadSignature(String),
    /// A certificate in the path had expired at the verification time.
    #[error("certificate {subject} expired at {not_after}")]
    CertificateExpired {
        /// Subject of the expired certificate (RFC 4514 form).
        subject: String,
        /// Its notAfter.
        not_after: Timestamp,
    },
    /// A certificate in the path was not yet valid at the verification time.
    #[error("certificate {subject} is not valid before {not_before}")]
    CertificateNotYetValid {
        /// Subject of the certificate (RFC 4514 form).
        subject: String,
        /// Its notBefore.
        not_before: Timestamp,
    },
    /// The signer's certificate has a key usage extension that allows neither digitalSignature
    /// nor nonRepudiation (e.g. an encryption-only key).
    #[error("key usage of {subject} does not allow signing")]
    KeyUsage {
        /// Subject of the signer's certificate.
        subject: String,
    },
    /// No path from the signer's certificate to a certificate in the trust store (foreign CA,
    /// issuer that is not a CA, forged issuer signature, path too long).
    #[error("untrusted certificate chain: {0}")]
    UntrustedChain(String),
    /// A certificate in the path is listed in its issuer's CRL held by the trust store.
    #[error("certificate {subject} (serial {serial}) is revoked")]
    Revoked {
        /// Subject of the revoked certificate.
        subject: String,
        /// Its serial number, lowercase hex.
        serial: String,
    },
    /// The signature uses GOST 34.310 (Kazakh national algorithms, OIDs under 1.2.398.3.10.1),
    /// which no Rust crate verifies: it needs an [`crate::ExternalVerifier`].
    #[error("GOST 34.310 signatures need an external verifier (e.g. the NCA verification service)")]
    GostRequiresExternalVerifier,
}

impl SignatureError {
    /// Stable machine-readable reason, e.g. `"content_mismatch"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedCms(_) => "malformed_cms",
            Self::NoSigner(_) => "no_signer",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::ContentMismatch(_) => "content_mismatch",
            Self::BadSignature(_) => "bad_signature",
            Self::CertificateExpired { .. } => "certificate_expired",
            Self::CertificateNotYetValid { .. } => "certificate_not_yet_valid",
            Self::KeyUsage { .. } => "key_usage",
            Self::UntrustedChain(_) => "untrusted_chain",
            Self::Revoked { .. } => "revoked",
            Self::GostRequiresExternalVerifier => "gost_requires_external_verifier",
        }
    }

    pub(crate) fn malformed(what: impl std::fmt::Display) -> Self {
        Self::MalformedCms(what.to_string())
    }
}

/// A trust store input (certificate or CRL) that could not be loaded.
///
/// Kept apart from [`SignatureError`] because it is a configuration fault of the service, not a
/// property of an applicant's signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trust store: {0}")]
pub struct TrustStoreError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case() {
        let t = Timestamp::UNIX_EPOCH;
        let all = [
            SignatureError::MalformedCms(String::new()),
            SignatureError::NoSigner(String::new()),
            SignatureError::UnsupportedAlgorithm(String::new()),
            SignatureError::ContentMismatch(String::new()),
            SignatureError::BadSignature(String::new()),
            SignatureError::CertificateExpired {
                subject: String::new(),
                not_after: t,
            },
            SignatureError::CertificateNotYetValid {
                subject: String::new(),
                not_before: t,
            },
            SignatureError::KeyUsage { subject: String::new() },
            SignatureError::UntrustedChain(String::new()),
            SignatureError::Revoked {
                subject: String::new(),
                serial: String::new(),
            },
            SignatureError::GostRequiresExternalVerifier,
        ];
        let mut codes: Vec<_> = all.iter().map(SignatureError::code).collect();
        assert!(
            codes
                .iter()
                .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        );
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
    }
}
