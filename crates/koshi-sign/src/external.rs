//! The seam for GOST 34.310 signatures.

use crate::{SignatureError, Verified};

/// Verifies a CMS this crate cannot: GOST 34.310 / 34.311 signatures (Kazakh national
/// algorithms, OIDs under 1.2.398.3.10.1), for which no Rust implementation exists.
///
/// The implementation owns the whole decision for such a signature — cryptography, chain to the
/// NCA GOST root, revocation — because the service it calls (e.g. the NCA's own verifier) has the
/// GOST code and the GOST trust anchors. It gets the CMS and the content exactly as received.
pub trait ExternalVerifier: Send + Sync {
    /// Verifies `cms_der` over `content` (the detached content, or the encapsulated one for an
    /// attached signature) and returns who signed it.
    fn verify(&self, cms_der: &[u8], content: &[u8]) -> Result<Verified, SignatureError>;
}

/// Adapter to an external GOST verification service reachable over HTTP (e.g. the NCA's).
///
/// This is deliberately only the seam: it holds the service URL from configuration, and with no
/// URL it refuses with [`SignatureError::GostRequiresExternalVerifier`], so an unconfigured
/// deployment refuses GOST signatures instead of accepting them unchecked. The HTTP exchange
/// itself is not implemented in this crate, which stays synchronous and free of a network stack;
/// until the server wires a client behind this URL, [`ExternalVerifier::verify`] refuses with the
/// same error even when a URL is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpGostVerifier {
    /// Base URL of the verification service; `None` when not configured.
    pub url: Option<String>,
}

impl HttpGostVerifier {
    /// An adapter for the service at `url` (an empty or blank string means not configured).
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        Self {
            url: (!url.trim().is_empty()).then_some(url),
        }
    }

    /// Whether a service URL is configured.
    pub fn is_configured(&self) -> bool {
        self.url.is_some()
    }
}

impl ExternalVerifier for HttpGostVerifier {
    fn verify(&self, _cms_der: &[u8], _content: &[u8]) -> Result<Verified, SignatureError> {
        // Unconfigured: nobody can vouch for the signature. Configured: the transport is the
        // server's to provide (see the type's docs); refusing is the only safe answer here.
        Err(SignatureError::GostRequiresExternalVerifier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unconfigured_adapter_refuses() {
        let v = HttpGostVerifier::default();
        assert!(!v.is_configured());
        assert_eq!(v.verify(b"x", b"y"), Err(SignatureError::GostRequiresExternalVerifier));
        assert!(!HttpGostVerifier::new("  ").is_configured());
        assert_eq!(
            HttpGostVerifier::new("http://127.0.0.1:1/verify").url.as_deref(),
            Some("http://127.0.0.1:1/verify")
        );
    }
}
