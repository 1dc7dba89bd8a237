//! GOST 34.310 signatures go to an external verifier or are refused.

use koshi_sign::{
    DigestAlgorithm, ExternalVerifier, HttpGostVerifier, SignatureError, Verified, verify_attached_with,
    verify_detached, verify_detached_with,
};

use crate::pki::{CmsOpts, at, pki};

const CONTENT: &[u8] = b"GOST-signed request";

/// Stands in for the NCA service: accepts whatever it is asked and records the content it saw.
struct Stub;

impl ExternalVerifier for Stub {
    fn verify(&self, cms_der: &[u8], content: &[u8]) -> Result<Verified, SignatureError> {
        assert!(!cms_der.is_empty());
        Ok(Verified {
            subject: format!("CN=GOST Signer,SERIALNUMBER=IIN900101300123 ({} bytes)", content.len()),
            serial: "abcd".into(),
            iin: Some("900101300123".into()),
            bin: None,
            not_after: at(),
            digest_algorithm: DigestAlgorithm::Gost34311,
        })
    }
}

fn gost_cms(attached: bool) -> Vec<u8> {
    let pki = pki();
    pki.sign_by(
        &pki.signer,
        CONTENT,
        &CmsOpts {
            gost: true,
            attached,
            ..CmsOpts::default()
        },
    )
}

#[test]
fn gost_without_external_verifier_is_refused() {
    let err = verify_detached(&gost_cms(false), CONTENT, &pki().trust(), at()).unwrap_err();
    assert_eq!(err, SignatureError::GostRequiresExternalVerifier);
    assert_eq!(err.code(), "gost_requires_external_verifier");
}

#[test]
fn gost_is_delegated_to_the_external_verifier() {
    let v = verify_detached_with(&gost_cms(false), CONTENT, &pki().trust(), at(), Some(&Stub)).unwrap();
    assert_eq!(v.digest_algorithm, DigestAlgorithm::Gost34311);
    assert_eq!(v.iin.as_deref(), Some("900101300123"));
    assert!(v.subject.ends_with(&format!("({} bytes)", CONTENT.len())));
}

#[test]
fn attached_gost_hands_over_the_encapsulated_content() {
    let (v, content) = verify_attached_with(&gost_cms(true), &pki().trust(), at(), Some(&Stub)).unwrap();
    assert_eq!(content, CONTENT);
    assert!(v.subject.ends_with(&format!("({} bytes)", CONTENT.len())));
}

#[test]
fn unconfigured_http_adapter_refuses() {
    let adapter = HttpGostVerifier::default();
    let err = verify_detached_with(&gost_cms(false), CONTENT, &pki().trust(), at(), Some(&adapter)).unwrap_err();
    assert_eq!(err.code(), "gost_requires_external_verifier");
}

#[test]
fn non_gost_signatures_never_reach_the_external_verifier() {
    struct Refuse;
    impl ExternalVerifier for Refuse {
        fn verify(&self, _: &[u8], _: &[u8]) -> Result<Verified, SignatureError> {
            panic!("external verifier called for a non-GOST signature");
        }
    }
    let pki = pki();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    assert!(verify_detached_with(&cms, CONTENT, &pki.trust(), at(), Some(&Refuse)).is_ok());
    // Garbage is malformed before any delegation.
    let err = verify_detached_with(b"junk", CONTENT, &pki.trust(), at(), Some(&Refuse)).unwrap_err();
    assert_eq!(err.code(), "malformed_cms");
}
