//! Algorithm identifiers and the raw signature primitives.
//!
//! Only what the NCA of Kazakhstan issues besides GOST is accepted: RSA PKCS#1 v1.5 with SHA-2
//! and ECDSA on P-256. Everything else is refused by name rather than guessed at.

use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::pkcs1::DecodeRsaPublicKey;
use sha2::Digest as _;
use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::SignatureError;

pub(crate) const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// Root of the Kazakh national cryptography arc (GOST 34.310 keys and signatures under `.1.1`,
/// GOST 34.311 digests under `.1.3`).
const GOST_KZ_ARC: &str = "1.2.398.3.10.1.";

/// RSA keys shorter than this are refused: NCA certificates use 2048 bits and shorter keys are
/// factorable at a cost a forger could pay.
const MIN_RSA_BITS: usize = 2048;

/// Digest algorithm of a verified signature, reported so the case file records what was relied on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// GOST 34.311-95, only ever reported by an [`crate::ExternalVerifier`].
    Gost34311,
}

impl DigestAlgorithm {
    /// Stable lowercase name (`"sha256"`, …, `"gost34311"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
            Self::Gost34311 => "gost34311",
        }
    }

    pub(crate) fn from_oid(oid: &ObjectIdentifier) -> Result<Self, SignatureError> {
        match *oid {
            SHA256 => Ok(Self::Sha256),
            SHA384 => Ok(Self::Sha384),
            SHA512 => Ok(Self::Sha512),
            _ if is_gost(oid) => Err(SignatureError::GostRequiresExternalVerifier),
            _ => Err(SignatureError::UnsupportedAlgorithm(format!("digest {oid}"))),
        }
    }

    pub(crate) fn digest(self, data: &[u8]) -> Result<Vec<u8>, SignatureError> {
        match self {
            Self::Sha256 => Ok(sha2::Sha256::digest(data).to_vec()),
            Self::Sha384 => Ok(sha2::Sha384::digest(data).to_vec()),
            Self::Sha512 => Ok(sha2::Sha512::digest(data).to_vec()),
            Self::Gost34311 => Err(SignatureError::GostRequiresExternalVerifier),
        }
    }
}

impl std::fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether an OID belongs to the Kazakh GOST arc.
pub(crate) fn is_gost(oid: &ObjectIdentifier) -> bool {
    oid.to_string().starts_with(GOST_KZ_ARC)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    RsaPkcs1v15,
    EcdsaP256,
}

/// Splits a signature algorithm into scheme and digest. The bare key OIDs (`rsaEncryption`,
/// `id-ecPublicKey`), which CMS signers often put in `signatureAlgorithm`, take the digest from
/// `digest_hint` (the SignerInfo's `digestAlgorithm`).
fn scheme_of(
    alg: &AlgorithmIdentifierOwned,
    digest_hint: Option<DigestAlgorithm>,
) -> Result<(Scheme, DigestAlgorithm), SignatureError> {
    let (scheme, implied) = match alg.oid {
        SHA256_WITH_RSA => (Scheme::RsaPkcs1v15, Some(DigestAlgorithm::Sha256)),
        SHA384_WITH_RSA => (Scheme::RsaPkcs1v15, Some(DigestAlgorithm::Sha384)),
        SHA512_WITH_RSA => (Scheme::RsaPkcs1v15, Some(DigestAlgorithm::Sha512)),
        RSA_ENCRYPTION => (Scheme::RsaPkcs1v15, None),
        ECDSA_SHA256 => (Scheme::EcdsaP256, Some(DigestAlgorithm::Sha256)),
        ECDSA_SHA384 => (Scheme::EcdsaP256, Some(DigestAlgorithm::Sha384)),
        ECDSA_SHA512 => (Scheme::EcdsaP256, Some(DigestAlgorithm::Sha512)),
        EC_PUBLIC_KEY => (Scheme::EcdsaP256, None),
        ref oid if is_gost(oid) => return Err(SignatureError::GostRequiresExternalVerifier),
        ref oid => return Err(SignatureError::UnsupportedAlgorithm(format!("signature {oid}"))),
    };
    let digest = match (implied, digest_hint) {
        (Some(a), Some(b)) if a != b => {
            return Err(SignatureError::UnsupportedAlgorithm(format!(
                "signature algorithm {} with digest {b}",
                alg.oid
            )));
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => {
            return Err(SignatureError::UnsupportedAlgorithm(format!(
                "signature algorithm {} names no digest",
                alg.oid
            )));
        }
    };
    Ok((scheme, digest))
}

/// Whether a public key is a GOST key (so the whole verification must go to an external service).
pub(crate) fn is_gost_key(spki: &SubjectPublicKeyInfoOwned) -> bool {
    is_gost(&spki.algorithm.oid)
}

/// Verifies `signature` over `message` with the key in `spki`.
///
/// The message is hashed here with the digest the algorithm names; callers never pass digests.
pub(crate) fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    digest_hint: Option<DigestAlgorithm>,
    message: &[u8],
    signature: &[u8],
) -> Result<DigestAlgorithm, SignatureError> {
    if is_gost_key(spki) {
        return Err(SignatureError::GostRequiresExternalVerifier);
    }
    let (scheme, digest_alg) = scheme_of(alg, digest_hint)?;
    let key_bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| SignatureError::malformed("public key BIT STRING has unused bits"))?;
    let digest = digest_alg.digest(message)?;
    match scheme {
        Scheme::RsaPkcs1v15 => {
            if spki.algorithm.oid != RSA_ENCRYPTION {
                return Err(SignatureError::UnsupportedAlgorithm(format!(
                    "RSA signature with a {} key",
                    spki.algorithm.oid
                )));
            }
            let key = rsa::PublicKey::from_pkcs1_der(key_bits)
                .map_err(|e| SignatureError::UnsupportedAlgorithm(format!("RSA public key: {e}")))?;
            let bits = rsa::traits::PublicKeyParts::size(&key) * 8;
            if bits < MIN_RSA_BITS {
                return Err(SignatureError::UnsupportedAlgorithm(format!("RSA key of {bits} bits")));
            }
            let padding = match digest_alg {
                DigestAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                DigestAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                DigestAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                DigestAlgorithm::Gost34311 => return Err(SignatureError::GostRequiresExternalVerifier),
            };
            key.verify(padding, &digest, signature)
                .map_err(|_| SignatureError::BadSignature("RSA PKCS#1 v1.5 signature does not verify".into()))?;
        }
        Scheme::EcdsaP256 => {
            if spki.algorithm.oid != EC_PUBLIC_KEY {
                return Err(SignatureError::UnsupportedAlgorithm(format!(
                    "ECDSA signature with a {} key",
                    spki.algorithm.oid
                )));
            }
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
            if curve != Some(SECP256R1) {
                return Err(SignatureError::UnsupportedAlgorithm(
                    "ECDSA key on a curve other than P-256".into(),
                ));
            }
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bits)
                .map_err(|_| SignatureError::malformed("P-256 public key is not a valid curve point"))?;
            let sig = p256::ecdsa::Signature::from_der(signature)
                .map_err(|_| SignatureError::BadSignature("ECDSA signature is not a DER (r, s) pair".into()))?;
            key.verify_prehash(&digest, &sig)
                .map_err(|_| SignatureError::BadSignature("ECDSA P-256 signature does not verify".into()))?;
        }
    }
    Ok(digest_alg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gost_arc_is_recognised() {
        assert!(is_gost(&ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.2")));
        assert!(is_gost(&ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.1")));
        assert!(!is_gost(&ObjectIdentifier::new_unwrap("1.2.398.3.10.2")));
        assert!(!is_gost(&SHA256));
    }

    #[test]
    fn digest_oids() {
        assert_eq!(DigestAlgorithm::from_oid(&SHA384), Ok(DigestAlgorithm::Sha384));
        assert_eq!(
            DigestAlgorithm::from_oid(&ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.1")),
            Err(SignatureError::GostRequiresExternalVerifier)
        );
        assert_eq!(
            DigestAlgorithm::from_oid(&ObjectIdentifier::new_unwrap("1.3.14.3.2.26")).map_err(|e| e.code()),
            Err("unsupported_algorithm")
        );
    }

    #[test]
    fn signature_and_digest_must_agree() {
        let alg = AlgorithmIdentifierOwned {
            oid: SHA256_WITH_RSA,
            parameters: None,
        };
        assert!(scheme_of(&alg, Some(DigestAlgorithm::Sha256)).is_ok());
        assert!(matches!(
            scheme_of(&alg, Some(DigestAlgorithm::Sha512)),
            Err(SignatureError::UnsupportedAlgorithm(_))
        ));
        let bare = AlgorithmIdentifierOwned {
            oid: EC_PUBLIC_KEY,
            parameters: None,
        };
        assert_eq!(
            scheme_of(&bare, Some(DigestAlgorithm::Sha384)),
            Ok((Scheme::EcdsaP256, DigestAlgorithm::Sha384))
        );
        assert!(scheme_of(&bare, None).is_err());
    }
}
