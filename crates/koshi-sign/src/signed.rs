//! CMS/PKCS#7 `SignedData`: parsing, the per-signer checks and the hand-off of GOST signatures.

use std::borrow::Cow;

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{SignedAttributes, SignedData, SignerIdentifier, SignerInfo};
use jiff::Timestamp;
use x509_cert::Certificate;
use x509_cert::der::asn1::{ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::algo::{self, DigestAlgorithm, ID_CONTENT_TYPE, ID_MESSAGE_DIGEST, ID_SIGNED_DATA};
use crate::chain;
use crate::{SignatureError, TrustStore, Verified};

/// A parsed `SignedData` with its certificates pulled out.
pub(crate) struct Parsed {
    signed_data: SignedData,
    certs: Vec<Certificate>,
}

pub(crate) fn parse(cms_der: &[u8]) -> Result<Parsed, SignatureError> {
    let info = ContentInfo::from_der(cms_der).map_err(|e| SignatureError::malformed(format!("ContentInfo: {e}")))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(SignatureError::malformed(format!(
            "content type {} is not signedData",
            info.content_type
        )));
    }
    let signed_data: SignedData = info
        .content
        .decode_as()
        .map_err(|e| SignatureError::malformed(format!("SignedData: {e}")))?;
    check_versions(&signed_data)?;
    let certs = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();
    Ok(Parsed { signed_data, certs })
}

/// Version numbers are not covered by any signature; holding them to RFC 5652 §5.1/§5.3 keeps
/// a CMS from being altered without notice in more places than the format forces.
fn check_versions(sd: &SignedData) -> Result<(), SignatureError> {
    if matches!(sd.version, CmsVersion::V0 | CmsVersion::V2) {
        return Err(SignatureError::malformed(format!(
            "SignedData version {}",
            sd.version as u8
        )));
    }
    for si in sd.signer_infos.0.iter() {
        let expected = match si.sid {
            SignerIdentifier::IssuerAndSerialNumber(_) => CmsVersion::V1,
            SignerIdentifier::SubjectKeyIdentifier(_) => CmsVersion::V3,
        };
        if si.version != expected {
            return Err(SignatureError::malformed(format!(
                "SignerInfo version {} does not match its signer identifier",
                si.version as u8
            )));
        }
    }
    Ok(())
}

impl Parsed {
    /// The encapsulated content, if the signature is attached.
    pub(crate) fn encapsulated(&self) -> Result<Option<Vec<u8>>, SignatureError> {
        self.signed_data
            .encap_content_info
            .econtent
            .as_ref()
            .map(|any| {
                any.decode_as::<OctetString>()
                    .map(|o| o.into_bytes().into_vec())
                    .map_err(|e| SignatureError::malformed(format!("eContent: {e}")))
            })
            .transpose()
    }

    /// Whether any signer uses a GOST digest, signature or key: such a CMS goes to an external
    /// verifier as a whole, before anything here tries (and fails) to hash or verify it.
    pub(crate) fn uses_gost(&self) -> bool {
        self.signed_data.signer_infos.0.iter().any(|si| {
            algo::is_gost(&si.digest_alg.oid)
                || algo::is_gost(&si.signature_algorithm.oid)
                || find_signer_cert(&si.sid, &self.certs)
                    .is_ok_and(|c| algo::is_gost_key(c.tbs_certificate().subject_public_key_info()))
        })
    }

    /// Verifies every signer over `content`; returns the first signer's identity.
    pub(crate) fn verify(&self, content: &[u8], trust: &TrustStore, at: Timestamp) -> Result<Verified, SignatureError> {
        if let Some(embedded) = self.encapsulated()?
            && embedded != content
        {
            return Err(SignatureError::ContentMismatch(
                "the content encapsulated in the CMS differs from the content presented".into(),
            ));
        }
        let mut first = None;
        for si in self.signed_data.signer_infos.0.iter() {
            let verified = self.verify_signer(si, content, trust, at)?;
            first.get_or_insert(verified);
        }
        first.ok_or_else(|| SignatureError::NoSigner("SignedData has no SignerInfo".into()))
    }

    fn verify_signer(
        &self,
        si: &SignerInfo,
        content: &[u8],
        trust: &TrustStore,
        at: Timestamp,
    ) -> Result<Verified, SignatureError> {
        let cert = find_signer_cert(&si.sid, &self.certs)?;
        let spki = cert.tbs_certificate().subject_public_key_info();
        let digest_alg = DigestAlgorithm::from_oid(&si.digest_alg.oid)?;
        let message: Cow<'_, [u8]> = match &si.signed_attrs {
            Some(attrs) => {
                self.check_signed_attrs(attrs, digest_alg, content)?;
                // RFC 5652 §5.4: the signature covers the DER of the attributes with a SET OF tag,
                // not the [0] IMPLICIT tag they travel under.
                Cow::Owned(
                    attrs
                        .to_der()
                        .map_err(|e| SignatureError::malformed(format!("signed attributes: {e}")))?,
                )
            }
            None => Cow::Borrowed(content),
        };
        algo::verify_signature(
            spki,
            &si.signature_algorithm,
            Some(digest_alg),
            &message,
            si.signature.as_bytes(),
        )
        .map_err(|e| match e {
            SignatureError::BadSignature(why) if si.signed_attrs.is_none() => SignatureError::BadSignature(format!(
                "{why} over the content (no signed attributes: the content or the signature was altered)"
            )),
            e => e,
        })?;
        chain::check_validity(cert, at)?;
        chain::check_signer_key_usage(cert)?;
        let path = chain::build_path(cert, &self.certs, trust, at)?;
        let mut child = cert;
        for issuer in path {
            chain::check_revocation(child, issuer, trust)?;
            child = issuer;
        }
        Ok(Verified::from_certificate(cert, digest_alg))
    }

    /// messageDigest must equal the digest of the content; contentType must name eContentType.
    fn check_signed_attrs(
        &self,
        attrs: &SignedAttributes,
        digest_alg: DigestAlgorithm,
        content: &[u8],
    ) -> Result<(), SignatureError> {
        let digest = single_attr(attrs, ID_MESSAGE_DIGEST, "messageDigest")?
            .decode_as::<OctetString>()
            .map_err(|e| SignatureError::malformed(format!("messageDigest: {e}")))?;
        let content_type = single_attr(attrs, ID_CONTENT_TYPE, "contentType")?
            .decode_as::<ObjectIdentifier>()
            .map_err(|e| SignatureError::malformed(format!("contentType: {e}")))?;
        if content_type != self.signed_data.encap_content_info.econtent_type {
            return Err(SignatureError::ContentMismatch(format!(
                "contentType attribute {content_type} differs from eContentType {}",
                self.signed_data.encap_content_info.econtent_type
            )));
        }
        if digest.as_bytes() != digest_alg.digest(content)?.as_slice() {
            return Err(SignatureError::ContentMismatch(format!(
                "messageDigest ({digest_alg}) differs from the digest of the content: signed over other content"
            )));
        }
        Ok(())
    }
}

/// The only value of the only attribute `oid` (RFC 5652 §11 forbids repeats).
fn single_attr<'a>(
    attrs: &'a SignedAttributes,
    oid: ObjectIdentifier,
    name: &str,
) -> Result<&'a x509_cert::der::Any, SignatureError> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    let (Some(attr), None) = (found.next(), found.next()) else {
        return Err(SignatureError::malformed(format!(
            "signed attributes need exactly one {name}"
        )));
    };
    let mut values = attr.values.iter();
    match (values.next(), values.next()) {
        (Some(v), None) => Ok(v),
        _ => Err(SignatureError::malformed(format!("{name} needs exactly one value"))),
    }
}

fn find_signer_cert<'a>(sid: &SignerIdentifier, certs: &'a [Certificate]) -> Result<&'a Certificate, SignatureError> {
    let found = match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => certs.iter().find(|c| {
            c.tbs_certificate().issuer() == &isn.issuer && c.tbs_certificate().serial_number() == &isn.serial_number
        }),
        SignerIdentifier::SubjectKeyIdentifier(ski) => certs.iter().find(|c| {
            matches!(c.tbs_certificate().get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if &own == ski)
        }),
    };
    found.ok_or_else(|| match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            let serial: String = isn
                .serial_number
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            SignatureError::NoSigner(format!(
                "no certificate in the CMS for issuer {} serial {serial}",
                isn.issuer
            ))
        }
        SignerIdentifier::SubjectKeyIdentifier(_) => {
            SignatureError::NoSigner("no certificate in the CMS for the signer's key identifier".into())
        }
    })
}
