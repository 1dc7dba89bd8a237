//! Certificate checks: validity, key usage, path to a trust anchor, revocation.

use jiff::Timestamp;
use x509_cert::Certificate;
use x509_cert::der::Encode;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::time::Time;

use crate::algo::verify_signature;
use crate::{SignatureError, TrustStore};

/// Longest accepted path below the anchor. The NCA uses root → leaf (and at most one
/// intermediate); the bound keeps a hostile CMS full of certificates from making us loop.
const MAX_PATH: usize = 8;

pub(crate) fn to_timestamp(t: &Time) -> Timestamp {
    let d = t.to_unix_duration();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    Timestamp::from_second(secs).unwrap_or(Timestamp::MAX)
}

pub(crate) fn subject_of(cert: &Certificate) -> String {
    cert.tbs_certificate().subject().to_string()
}

pub(crate) fn serial_hex(cert: &Certificate) -> String {
    let bytes = cert.tbs_certificate().serial_number().as_bytes();
    let first = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len().saturating_sub(1));
    bytes[first..].iter().map(|b| format!("{b:02x}")).collect()
}

/// notBefore ≤ `at` ≤ notAfter.
pub(crate) fn check_validity(cert: &Certificate, at: Timestamp) -> Result<(), SignatureError> {
    let validity = cert.tbs_certificate().validity();
    let not_before = to_timestamp(&validity.not_before);
    let not_after = to_timestamp(&validity.not_after);
    if at < not_before {
        return Err(SignatureError::CertificateNotYetValid {
            subject: subject_of(cert),
            not_before,
        });
    }
    if at > not_after {
        return Err(SignatureError::CertificateExpired {
            subject: subject_of(cert),
            not_after,
        });
    }
    Ok(())
}

fn key_usage(cert: &Certificate) -> Result<Option<KeyUsage>, SignatureError> {
    cert.tbs_certificate()
        .get_extension::<KeyUsage>()
        .map(|o| o.map(|(_, ku)| ku))
        .map_err(|e| SignatureError::malformed(format!("key usage of {}: {e}", subject_of(cert))))
}

/// A signing certificate must allow digitalSignature or nonRepudiation when it says anything.
pub(crate) fn check_signer_key_usage(cert: &Certificate) -> Result<(), SignatureError> {
    match key_usage(cert)? {
        Some(ku) if !(ku.digital_signature() || ku.non_repudiation()) => Err(SignatureError::KeyUsage {
            subject: subject_of(cert),
        }),
        _ => Ok(()),
    }
}

/// Checks that `issuer` may issue certificates `depth` levels above the leaf (0 = direct issuer).
fn check_issuer(issuer: &Certificate, depth: usize, at: Timestamp) -> Result<(), SignatureError> {
    let name = subject_of(issuer);
    let bc = issuer
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .map_err(|e| SignatureError::malformed(format!("basic constraints of {name}: {e}")))?
        .map(|(_, bc)| bc);
    let Some(bc) = bc.filter(|bc| bc.ca) else {
        return Err(SignatureError::UntrustedChain(format!(
            "issuer {name} is not a CA (basicConstraints)"
        )));
    };
    if let Some(max) = bc.path_len_constraint
        && depth > usize::from(max)
    {
        return Err(SignatureError::UntrustedChain(format!(
            "path length constraint of {name} exceeded"
        )));
    }
    if let Some(ku) = key_usage(issuer)?
        && !ku.key_cert_sign()
    {
        return Err(SignatureError::UntrustedChain(format!(
            "key usage of {name} does not allow keyCertSign"
        )));
    }
    check_validity(issuer, at)
}

/// Verifies `cert`'s signature with `issuer`'s key (and that the inner and outer algorithm agree).
fn signed_by(cert: &Certificate, issuer: &Certificate) -> Result<(), SignatureError> {
    if cert.signature_algorithm() != cert.tbs_certificate().signature() {
        return Err(SignatureError::malformed("certificate signature algorithms differ"));
    }
    let tbs = cert
        .tbs_certificate()
        .to_der()
        .map_err(|e| SignatureError::malformed(format!("certificate re-encoding: {e}")))?;
    let sig = cert
        .signature()
        .as_bytes()
        .ok_or_else(|| SignatureError::malformed("certificate signature has unused bits"))?;
    verify_signature(
        issuer.tbs_certificate().subject_public_key_info(),
        cert.signature_algorithm(),
        None,
        &tbs,
        sig,
    )
    .map(|_| ())
}

/// Builds the path from `leaf` to a trust anchor, using the CMS's own certificates as
/// untrusted intermediates. Returns the issuers, nearest first, the anchor last (empty when the
/// leaf itself is an anchor).
pub(crate) fn build_path<'a>(
    leaf: &'a Certificate,
    pool: &'a [Certificate],
    trust: &'a TrustStore,
    at: Timestamp,
) -> Result<Vec<&'a Certificate>, SignatureError> {
    if trust.certs.contains(leaf) {
        return Ok(Vec::new());
    }
    let mut path: Vec<&Certificate> = Vec::new();
    let mut current = leaf;
    loop {
        let depth = path.len();
        if depth >= MAX_PATH {
            return Err(SignatureError::UntrustedChain(format!(
                "no anchor within {MAX_PATH} certificates"
            )));
        }
        let issuer_name = current.tbs_certificate().issuer();
        // Among same-named candidates, remember why the last one failed: a GOST or unsupported
        // issuer key is a clearer answer than "untrusted".
        let mut last_err: Option<SignatureError> = None;
        let anchors = trust
            .certs
            .iter()
            .filter(|c| c.tbs_certificate().subject() == issuer_name);
        for anchor in anchors {
            match signed_by(current, anchor) {
                Ok(()) => {
                    check_issuer(anchor, depth, at)?;
                    path.push(anchor);
                    return Ok(path);
                }
                Err(e) => last_err = Some(e),
            }
        }
        let mut next = None;
        let intermediates = pool.iter().filter(|c| {
            c.tbs_certificate().subject() == issuer_name && *c != current && !path.contains(c) && *c != leaf
        });
        for candidate in intermediates {
            match signed_by(current, candidate) {
                Ok(()) => {
                    next = Some(candidate);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let Some(issuer) = next else {
            return Err(match last_err {
                Some(e @ (SignatureError::GostRequiresExternalVerifier | SignatureError::UnsupportedAlgorithm(_))) => e,
                Some(_) => SignatureError::UntrustedChain(format!(
                    "certificate {} is not signed by any known {issuer_name}",
                    subject_of(current)
                )),
                None => SignatureError::UntrustedChain(format!("no trusted issuer {issuer_name}")),
            });
        };
        check_issuer(issuer, depth, at)?;
        path.push(issuer);
        current = issuer;
    }
}

/// Fails if `cert` is listed in a CRL of the trust store issued (and signed) by `issuer`.
///
/// A CRL whose signature does not verify with `issuer`'s key is another CA's list that happens
/// to share the name, and is not applied.
pub(crate) fn check_revocation(
    cert: &Certificate,
    issuer: &Certificate,
    trust: &TrustStore,
) -> Result<(), SignatureError> {
    let issuer_name = cert.tbs_certificate().issuer();
    let serial = cert.tbs_certificate().serial_number();
    for crl in trust.crls.iter().filter(|crl| &crl.tbs_cert_list.issuer == issuer_name) {
        let listed = crl
            .tbs_cert_list
            .revoked_certificates
            .as_ref()
            .is_some_and(|list| list.iter().any(|r| &r.serial_number == serial));
        if !listed || !crl_signed_by(crl, issuer) {
            continue;
        }
        return Err(SignatureError::Revoked {
            subject: subject_of(cert),
            serial: serial_hex(cert),
        });
    }
    Ok(())
}

fn crl_signed_by(crl: &x509_cert::crl::CertificateList, issuer: &Certificate) -> bool {
    if crl.signature_algorithm != crl.tbs_cert_list.signature {
        return false;
    }
    let (Ok(tbs), Some(sig)) = (crl.tbs_cert_list.to_der(), crl.signature.as_bytes()) else {
        return false;
    };
    verify_signature(
        issuer.tbs_certificate().subject_public_key_info(),
        &crl.signature_algorithm,
        None,
        &tbs,
        sig,
    )
    .is_ok()
}
