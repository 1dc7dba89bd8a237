//! The certificates and CRLs the service trusts.

use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::der::Decode;

use crate::TrustStoreError;

/// Trusted certificates (the NCA roots, optionally its intermediates) and the CRLs that apply to them.
///
/// Every certificate added here is a trust anchor: a signer is accepted only if its chain reaches
/// one of them. It is loaded once at start-up from configuration, so loading is strict: anything
/// that does not parse is an error rather than being skipped, because a silently missing root or
/// CRL would change who is trusted.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    pub(crate) certs: Vec<Certificate>,
    pub(crate) crls: Vec<CertificateList>,
}

impl TrustStore {
    /// An empty store: trusts nobody until certificates are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads every `CERTIFICATE` (and `X509 CRL`) block of a PEM bundle.
    ///
    /// A bundle without any certificate is an error: it is almost certainly the wrong file.
    pub fn from_pem(pem: &str) -> Result<Self, TrustStoreError> {
        let mut store = Self::new();
        store.add_pem(pem)?;
        if store.certs.is_empty() {
            return Err(TrustStoreError("PEM holds no CERTIFICATE block".into()));
        }
        Ok(store)
    }

    /// Adds every `CERTIFICATE` and `X509 CRL` block of a PEM bundle; other labels are an error.
    pub fn add_pem(&mut self, pem: &str) -> Result<&mut Self, TrustStoreError> {
        for (label, der) in pem_blocks(pem)? {
            match label.as_str() {
                "CERTIFICATE" => self.add_der(&der)?,
                "X509 CRL" => self.add_crl_der(&der)?,
                other => return Err(TrustStoreError(format!("unexpected PEM block {other:?}"))),
            };
        }
        Ok(self)
    }

    /// Adds one DER-encoded X.509 certificate as a trust anchor.
    pub fn add_der(&mut self, der: &[u8]) -> Result<&mut Self, TrustStoreError> {
        let cert = Certificate::from_der(der).map_err(|e| TrustStoreError(format!("certificate: {e}")))?;
        if !self.certs.contains(&cert) {
            self.certs.push(cert);
        }
        Ok(self)
    }

    /// Adds one DER-encoded CRL. It is applied to certificates whose issuer name equals the
    /// CRL's issuer, and only after its signature verifies with that issuer's key.
    pub fn add_crl_der(&mut self, der: &[u8]) -> Result<&mut Self, TrustStoreError> {
        let crl = CertificateList::from_der(der).map_err(|e| TrustStoreError(format!("CRL: {e}")))?;
        self.crls.push(crl);
        Ok(self)
    }

    /// Adds every `X509 CRL` block of a PEM text; other labels are an error.
    pub fn add_crl_pem(&mut self, pem: &str) -> Result<&mut Self, TrustStoreError> {
        let blocks = pem_blocks(pem)?;
        if blocks.is_empty() {
            return Err(TrustStoreError("PEM holds no X509 CRL block".into()));
        }
        for (label, der) in blocks {
            if label != "X509 CRL" {
                return Err(TrustStoreError(format!("expected X509 CRL, found {label:?}")));
            }
            self.add_crl_der(&der)?;
        }
        Ok(self)
    }

    /// Number of trusted certificates.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether no certificate is trusted (every signature will fail with `untrusted_chain`).
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Number of CRLs held.
    pub fn crl_count(&self) -> usize {
        self.crls.len()
    }
}

/// Splits a PEM text into `(label, DER)` blocks; text between blocks (e.g. `openssl x509 -text`
/// output) is ignored as RFC 7468 allows.
fn pem_blocks(pem: &str) -> Result<Vec<(String, Vec<u8>)>, TrustStoreError> {
    const BEGIN: &str = "-----BEGIN ";
    let text = pem.replace("\r\n", "\n");
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find(BEGIN) {
        let block_and_after = &rest[start..];
        let label_end = block_and_after[BEGIN.len()..]
            .find("-----")
            .ok_or_else(|| TrustStoreError("unterminated PEM BEGIN line".into()))?;
        let label = &block_and_after[BEGIN.len()..BEGIN.len() + label_end];
        let end_marker = format!("-----END {label}-----");
        let end = block_and_after
            .find(&end_marker)
            .ok_or_else(|| TrustStoreError(format!("PEM block {label:?} has no END line")))?;
        let block = &block_and_after[..end + end_marker.len()];
        let (decoded_label, der) = x509_cert::der::pem::decode_vec(block.as_bytes())
            .map_err(|e| TrustStoreError(format!("PEM block {label:?}: {e}")))?;
        out.push((decoded_label.to_string(), der));
        rest = &block_and_after[end + end_marker.len()..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_split_and_ignore_text_between() {
        let pem = "junk\r\n-----BEGIN A B-----\r\nAAEC\r\n-----END A B-----\r\nmore\n-----BEGIN C-----\nAw==\n-----END C-----\n";
        let blocks = pem_blocks(pem).unwrap();
        assert_eq!(
            blocks,
            vec![("A B".to_string(), vec![0, 1, 2]), ("C".to_string(), vec![3])]
        );
    }

    #[test]
    fn bad_inputs_are_errors_not_skipped() {
        assert!(pem_blocks("-----BEGIN X-----\nAAEC\n").is_err());
        assert!(TrustStore::from_pem("no pem here").is_err());
        assert!(TrustStore::new().add_der(b"\x30\x03\x02\x01\x01").is_err());
        assert!(TrustStore::new().add_crl_der(b"garbage").is_err());
        assert!(TrustStore::new().add_crl_pem("").is_err());
    }
}
