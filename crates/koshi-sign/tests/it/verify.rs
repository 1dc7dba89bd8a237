//! The verdicts on well-formed and deliberately broken signatures.

use jiff::{SignedDuration, Timestamp};
use koshi_sign::{DigestAlgorithm, SignatureError, TrustStore, verify_attached, verify_detached};
use x509_cert::der::Encode;
use x509_cert::ext::pkix::KeyUsages;

use crate::pki::{CmsOpts, Issued, Key, SIGNER_SUBJECT, Spec, at, pki, sign};

const CONTENT: &[u8] = br#"{"kind":"residence_permit","applicant":"900101300123"}"#;

fn code<T: std::fmt::Debug>(r: Result<T, SignatureError>) -> &'static str {
    r.expect_err("verification should fail").code()
}

#[test]
fn valid_detached_signature_names_the_signer() {
    let pki = pki();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    let v = verify_detached(&cms, CONTENT, &pki.trust(), at()).unwrap();
    assert_eq!(v.iin.as_deref(), Some("900101300123"));
    assert_eq!(v.bin.as_deref(), Some("123456789012"));
    assert_eq!(v.serial, "1001");
    assert_eq!(v.digest_algorithm, DigestAlgorithm::Sha256);
    assert!(v.subject.contains("CN=ТЕСТОВ ТЕСТ"), "{}", v.subject);
    assert!(v.subject.contains("SERIALNUMBER=IIN900101300123"), "{}", v.subject);
    assert_eq!(v.not_after, at() + SignedDuration::from_hours(24 * 335));
}

#[test]
fn valid_signature_without_signed_attributes() {
    let pki = pki();
    let opts = CmsOpts {
        signed_attrs: false,
        ..CmsOpts::default()
    };
    let cms = pki.sign_by(&pki.signer, CONTENT, &opts);
    let v = verify_detached(&cms, CONTENT, &pki.trust(), at()).unwrap();
    assert_eq!(v.iin.as_deref(), Some("900101300123"));
    // Without signed attributes a change of content can only show as a failed signature.
    assert_eq!(
        code(verify_detached(&cms, b"other", &pki.trust(), at())),
        "bad_signature"
    );
}

#[test]
fn attached_signature_returns_the_content() {
    let pki = pki();
    let opts = CmsOpts {
        attached: true,
        ..CmsOpts::default()
    };
    let cms = pki.sign_by(&pki.signer, CONTENT, &opts);
    let (v, content) = verify_attached(&cms, &pki.trust(), at()).unwrap();
    assert_eq!(content, CONTENT);
    assert_eq!(v.iin.as_deref(), Some("900101300123"));
    // The same CMS verified as detached must be presented the same content.
    assert!(verify_detached(&cms, CONTENT, &pki.trust(), at()).is_ok());
    assert_eq!(
        code(verify_detached(&cms, b"other", &pki.trust(), at())),
        "content_mismatch"
    );
}

#[test]
fn attached_verification_of_a_detached_signature_is_malformed() {
    let pki = pki();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    assert_eq!(code(verify_attached(&cms, &pki.trust(), at())), "malformed_cms");
}

#[test]
fn signature_over_other_content_is_a_content_mismatch() {
    let pki = pki();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    let other = br#"{"kind":"residence_permit","applicant":"900101300124"}"#;
    assert_eq!(
        code(verify_detached(&cms, other, &pki.trust(), at())),
        "content_mismatch"
    );
}

#[test]
fn tampered_signature_value_is_a_bad_signature() {
    let pki = pki();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    // The ECDSA signature is the last element of the CMS: flip a bit inside `s`.
    let mut tampered = cms.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 0x01;
    assert_eq!(
        code(verify_detached(&tampered, CONTENT, &pki.trust(), at())),
        "bad_signature"
    );
}

#[test]
fn foreign_ca_is_untrusted() {
    let pki = pki();
    let foreign_root = Issued::root("CN=Some Other CA,C=KZ");
    let stranger = foreign_root.issue(Spec::signer(SIGNER_SUBJECT, 7));
    let cms = sign(&stranger, &[], CONTENT, &CmsOpts::default());
    assert_eq!(
        code(verify_detached(&cms, CONTENT, &pki.trust(), at())),
        "untrusted_chain"
    );
}

#[test]
fn forged_intermediate_with_the_real_name_is_untrusted() {
    let pki = pki();
    // Same subject as the real intermediate, but self-made: its key did not get the root's signature.
    let forged_root = Issued::root("CN=Koshi Test Root CA,O=Koshi Test,C=KZ");
    let forged_intermediate = forged_root.issue(Spec::ca("CN=Koshi Test Intermediate CA,O=Koshi Test,C=KZ", 2));
    let signer = forged_intermediate.issue(Spec::signer(SIGNER_SUBJECT, 0x1001));
    let cms = sign(&signer, &[&forged_intermediate.cert], CONTENT, &CmsOpts::default());
    assert_eq!(
        code(verify_detached(&cms, CONTENT, &pki.trust(), at())),
        "untrusted_chain"
    );
}

#[test]
fn missing_intermediate_is_untrusted() {
    let pki = pki();
    let cms = sign(&pki.signer, &[], CONTENT, &CmsOpts::default());
    assert_eq!(
        code(verify_detached(&cms, CONTENT, &pki.trust(), at())),
        "untrusted_chain"
    );
    // …unless the trust store itself holds the intermediate.
    let mut trust = pki.trust();
    trust.add_der(&pki.intermediate.cert.to_der().unwrap()).unwrap();
    assert!(verify_detached(&cms, CONTENT, &trust, at()).is_ok());
}

#[test]
fn empty_trust_store_trusts_nobody() {
    let pki = pki();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    assert_eq!(
        code(verify_detached(&cms, CONTENT, &TrustStore::new(), at())),
        "untrusted_chain"
    );
}

#[test]
fn issuer_without_ca_flag_is_untrusted() {
    let pki = pki();
    let mut not_ca = Spec::ca("CN=Not A CA,C=KZ", 9);
    not_ca.ca = false;
    let fake = pki.root.issue(not_ca);
    let signer = fake.issue(Spec::signer(SIGNER_SUBJECT, 10));
    let cms = sign(&signer, &[&fake.cert], CONTENT, &CmsOpts::default());
    assert_eq!(
        code(verify_detached(&cms, CONTENT, &pki.trust(), at())),
        "untrusted_chain"
    );
}

#[test]
fn expired_certificate() {
    let pki = pki();
    let mut spec = Spec::signer(SIGNER_SUBJECT, 0x2001);
    spec.not_before = at() - SignedDuration::from_hours(24 * 400);
    spec.not_after = at() - SignedDuration::from_hours(24 * 35);
    let expired = pki.intermediate.issue(spec);
    let cms = pki.sign_by(&expired, CONTENT, &CmsOpts::default());
    let err = verify_detached(&cms, CONTENT, &pki.trust(), at()).unwrap_err();
    assert_eq!(err.code(), "certificate_expired");
    assert!(err.to_string().contains("IIN900101300123"), "{err}");
    // The same signature checked at a time inside the validity period is fine.
    let earlier = at() - SignedDuration::from_hours(24 * 100);
    assert!(verify_detached(&cms, CONTENT, &pki.trust(), earlier).is_ok());
}

#[test]
fn not_yet_valid_certificate() {
    let pki = pki();
    let mut spec = Spec::signer(SIGNER_SUBJECT, 0x2002);
    spec.not_before = at() + SignedDuration::from_hours(24);
    let early = pki.intermediate.issue(spec);
    let cms = pki.sign_by(&early, CONTENT, &CmsOpts::default());
    assert_eq!(
        code(verify_detached(&cms, CONTENT, &pki.trust(), at())),
        "certificate_not_yet_valid"
    );
}

#[test]
fn expired_intermediate() {
    let pki = pki();
    let mut spec = Spec::ca("CN=Old Intermediate,C=KZ", 3);
    spec.not_after = at() - SignedDuration::from_hours(1);
    let old = pki.root.issue(spec);
    let signer = old.issue(Spec::signer(SIGNER_SUBJECT, 11));
    let cms = sign(&signer, &[&old.cert], CONTENT, &CmsOpts::default());
    let err = verify_detached(&cms, CONTENT, &pki.trust(), at()).unwrap_err();
    assert_eq!(err.code(), "certificate_expired");
    assert!(err.to_string().contains("Old Intermediate"), "{err}");
}

#[test]
fn encryption_only_key_usage_is_refused() {
    let pki = pki();
    let mut spec = Spec::signer(SIGNER_SUBJECT, 0x2003);
    spec.key_usage = Some(KeyUsages::KeyEncipherment.into());
    let enc = pki.intermediate.issue(spec);
    let cms = pki.sign_by(&enc, CONTENT, &CmsOpts::default());
    assert_eq!(code(verify_detached(&cms, CONTENT, &pki.trust(), at())), "key_usage");
}

#[test]
fn non_repudiation_alone_or_no_key_usage_is_accepted() {
    let pki = pki();
    let mut spec = Spec::signer(SIGNER_SUBJECT, 0x2004);
    spec.key_usage = Some(KeyUsages::NonRepudiation.into());
    let nr = pki.intermediate.issue(spec);
    assert!(
        verify_detached(
            &pki.sign_by(&nr, CONTENT, &CmsOpts::default()),
            CONTENT,
            &pki.trust(),
            at()
        )
        .is_ok()
    );
    let mut spec = Spec::signer(SIGNER_SUBJECT, 0x2005);
    spec.key_usage = None;
    let any = pki.intermediate.issue(spec);
    assert!(
        verify_detached(
            &pki.sign_by(&any, CONTENT, &CmsOpts::default()),
            CONTENT,
            &pki.trust(),
            at()
        )
        .is_ok()
    );
}

#[test]
fn revoked_serial_in_the_issuers_crl() {
    let pki = pki();
    let revoked = pki.intermediate.issue(Spec::signer(SIGNER_SUBJECT, 0x3001));
    let cms = pki.sign_by(&revoked, CONTENT, &CmsOpts::default());
    let mut trust = pki.trust();
    assert!(verify_detached(&cms, CONTENT, &trust, at()).is_ok());
    trust.add_crl_der(&pki.intermediate.crl(&[&revoked.cert])).unwrap();
    let err = verify_detached(&cms, CONTENT, &trust, at()).unwrap_err();
    assert_eq!(err.code(), "revoked");
    assert!(err.to_string().contains("3001"), "{err}");
    // Other certificates of the same CA are unaffected.
    let ok = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    assert!(verify_detached(&ok, CONTENT, &trust, at()).is_ok());
}

#[test]
fn revoked_intermediate_in_the_roots_crl() {
    let pki = pki();
    let mut trust = pki.trust();
    trust.add_crl_der(&pki.root.crl(&[&pki.intermediate.cert])).unwrap();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    assert_eq!(code(verify_detached(&cms, CONTENT, &trust, at())), "revoked");
}

#[test]
fn crl_of_a_namesake_ca_is_not_applied() {
    let pki = pki();
    // A CA with the intermediate's name but another key: its CRL must not revoke real certificates.
    let namesake = Issued::root("CN=Koshi Test Intermediate CA,O=Koshi Test,C=KZ");
    let mut trust = pki.trust();
    trust.add_crl_der(&namesake.crl(&[&pki.signer.cert])).unwrap();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    assert!(verify_detached(&cms, CONTENT, &trust, at()).is_ok());
}

#[test]
fn crl_and_certificates_load_from_pem() {
    let pki = pki();
    let pem = |label: &str, der: &[u8]| {
        x509_cert::der::pem::encode_string(label, x509_cert::der::pem::LineEnding::LF, der).unwrap()
    };
    let bundle = format!(
        "root:\n{}\nsome text\n{}",
        pem("CERTIFICATE", &pki.root.cert.to_der().unwrap()),
        pem("CERTIFICATE", &pki.intermediate.cert.to_der().unwrap())
    );
    let mut trust = TrustStore::from_pem(&bundle).unwrap();
    assert_eq!(trust.len(), 2);
    let revoked = pki.intermediate.issue(Spec::signer(SIGNER_SUBJECT, 0x3002));
    trust
        .add_crl_pem(&pem("X509 CRL", &pki.intermediate.crl(&[&revoked.cert])))
        .unwrap();
    assert_eq!(trust.crl_count(), 1);
    let cms = sign(&revoked, &[], CONTENT, &CmsOpts::default());
    assert_eq!(code(verify_detached(&cms, CONTENT, &trust, at())), "revoked");
    assert!(TrustStore::new().add_crl_pem(&pem("CERTIFICATE", b"\x30\x00")).is_err());
}

#[test]
fn garbage_is_malformed() {
    let pki = pki();
    for bytes in [&b""[..], b"garbage", b"\x30\x80\x00\x00", b"-----BEGIN PKCS7-----"] {
        assert_eq!(
            code(verify_detached(bytes, CONTENT, &pki.trust(), at())),
            "malformed_cms"
        );
    }
    // A well-formed ContentInfo of another type (id-data) is not a signature.
    let data = x509_cert::der::asn1::OctetString::new(b"x".to_vec()).unwrap();
    let info = cms::content_info::ContentInfo {
        content_type: crate::pki::ID_DATA,
        content: x509_cert::der::Any::encode_from(&data).unwrap(),
    };
    assert_eq!(
        code(verify_detached(&info.to_der().unwrap(), CONTENT, &pki.trust(), at())),
        "malformed_cms"
    );
}

#[test]
fn signer_certificate_missing_from_the_cms() {
    let pki = pki();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    // Swap the signer's certificate for another one of the same CA by re-assembling the CMS.
    let mut parsed = <cms::content_info::ContentInfo as x509_cert::der::Decode>::from_der(&cms).unwrap();
    let mut sd: cms::signed_data::SignedData = parsed.content.decode_as().unwrap();
    let other = pki.intermediate.issue(Spec::signer("CN=Other,C=KZ", 0x4001));
    sd.certificates = Some(
        cms::signed_data::CertificateSet::try_from(vec![cms::cert::CertificateChoices::Certificate(other.cert)])
            .unwrap(),
    );
    parsed.content = x509_cert::der::Any::encode_from(&sd).unwrap();
    assert_eq!(
        code(verify_detached(&parsed.to_der().unwrap(), CONTENT, &pki.trust(), at())),
        "no_signer"
    );
}

#[test]
fn rsa_pkcs1_sha256_root_and_signer() {
    // One RSA key (generation is slow in a debug build) serves as root and signer key.
    let root = Issued::root_with(Key::rsa(), Spec::ca("CN=Koshi RSA Root,C=KZ", 1));
    let signer = root.issue_key(
        Key::rsa(),
        Spec::signer("CN=RSA Signer,SERIALNUMBER=IIN850505400321,C=KZ", 5),
    );
    let mut trust = TrustStore::new();
    trust.add_der(&root.cert.to_der().unwrap()).unwrap();
    for signed_attrs in [true, false] {
        let cms = sign(
            &signer,
            &[],
            CONTENT,
            &CmsOpts {
                signed_attrs,
                ..CmsOpts::default()
            },
        );
        let v = verify_detached(&cms, CONTENT, &trust, at()).unwrap();
        assert_eq!(v.iin.as_deref(), Some("850505400321"));
        assert_eq!(v.bin, None);
    }
    let cms = sign(&signer, &[], CONTENT, &CmsOpts::default());
    assert_eq!(code(verify_detached(&cms, b"x", &trust, at())), "content_mismatch");
    // CRL signed with RSA.
    trust.add_crl_der(&root.crl(&[&signer.cert])).unwrap();
    assert_eq!(code(verify_detached(&cms, CONTENT, &trust, at())), "revoked");
}

#[test]
fn verification_instant_is_the_callers() {
    let pki = pki();
    let cms = pki.sign_by(&pki.signer, CONTENT, &CmsOpts::default());
    let far_future: Timestamp = "2099-01-01T00:00:00Z".parse().unwrap();
    assert_eq!(
        code(verify_detached(&cms, CONTENT, &pki.trust(), far_future)),
        "certificate_expired"
    );
}

#[test]
fn signer_identified_by_subject_key_identifier() {
    let pki = pki();
    let opts = CmsOpts {
        by_key_id: true,
        ..CmsOpts::default()
    };
    let cms = pki.sign_by(&pki.signer, CONTENT, &opts);
    let v = verify_detached(&cms, CONTENT, &pki.trust(), at()).unwrap();
    assert_eq!(v.iin.as_deref(), Some("900101300123"));
    // A key identifier that matches no carried certificate.
    let other = pki.intermediate.issue(Spec::signer("CN=Other,C=KZ", 0x4002));
    let cms = sign(&pki.signer, &[], CONTENT, &opts);
    let mut info = <cms::content_info::ContentInfo as x509_cert::der::Decode>::from_der(&cms).unwrap();
    let mut sd: cms::signed_data::SignedData = info.content.decode_as().unwrap();
    sd.certificates = Some(
        cms::signed_data::CertificateSet::try_from(vec![cms::cert::CertificateChoices::Certificate(other.cert)])
            .unwrap(),
    );
    info.content = x509_cert::der::Any::encode_from(&sd).unwrap();
    assert_eq!(
        code(verify_detached(&info.to_der().unwrap(), CONTENT, &pki.trust(), at())),
        "no_signer"
    );
}
