//! A throw-away PKI made fresh in every test run: keys never leave memory, nothing is committed.

use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use jiff::{SignedDuration, Timestamp};
use p256::ecdsa::DerSignature;
use p256::elliptic_curve::Generate;
use rsa::signature::{Keypair, SignatureEncoding, Signer};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder, CrlBuilder};
use x509_cert::crl::RevokedCert;
use x509_cert::der::asn1::{ObjectIdentifier, OctetString, SetOfVec};
use x509_cert::der::flagset::FlagSet;
use x509_cert::der::{Any, Encode};
use x509_cert::ext::pkix::{BasicConstraints, CrlNumber, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};

pub const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const ID_MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
pub const SHA256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// GOST 34.310-2004 signature with GOST 34.311-95 digest (Kazakh national arc).
pub const GOST_SIGNATURE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.10.1.1.1.2");
/// GOST 34.311-95 digest.
pub const GOST_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.398.3.10.1.3.1");

/// The verification instant of every test.
pub fn at() -> Timestamp {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

fn days(n: i64) -> SignedDuration {
    SignedDuration::from_hours(24 * n)
}

fn time(t: Timestamp) -> Time {
    let secs = u64::try_from(t.as_second()).unwrap();
    Time::try_from(SystemTime::UNIX_EPOCH + Duration::from_secs(secs)).unwrap()
}

/// A signing key: P-256 for speed, RSA 2048 for the RSA path.
pub enum Key {
    Ec(p256::ecdsa::SigningKey),
    Rsa(rsa::pkcs1v15::SigningKey<Sha256>),
}

impl Key {
    pub fn ec() -> Self {
        Key::Ec(p256::ecdsa::SigningKey::generate_from_rng(&mut rand::rng()))
    }

    /// RSA key generation is slow without optimisation: one key per test binary.
    pub fn rsa() -> Self {
        static RSA: OnceLock<rsa::PrivateKey> = OnceLock::new();
        let key = RSA.get_or_init(|| rsa::PrivateKey::new(&mut rand::rng(), 2048).unwrap());
        Key::Rsa(rsa::pkcs1v15::SigningKey::new(key.clone()))
    }

    fn spki(&self) -> SubjectPublicKeyInfoOwned {
        match self {
            Key::Ec(k) => SubjectPublicKeyInfoOwned::from_key(k.verifying_key()).unwrap(),
            Key::Rsa(k) => SubjectPublicKeyInfoOwned::from_key(&k.verifying_key()).unwrap(),
        }
    }

    /// Signs `msg` (the key hashes it with SHA-256); returns the CMS signature algorithm and value.
    fn sign(&self, msg: &[u8]) -> (ObjectIdentifier, Vec<u8>) {
        match self {
            Key::Ec(k) => {
                let sig: DerSignature = k.sign(msg);
                (ECDSA_SHA256, sig.to_vec())
            }
            Key::Rsa(k) => (RSA_ENCRYPTION, k.sign(msg).to_vec()),
        }
    }
}

/// What a test certificate looks like.
pub struct Spec {
    pub subject: String,
    pub serial: u32,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub ca: bool,
    pub key_usage: Option<FlagSet<KeyUsages>>,
}

impl Spec {
    pub fn ca(subject: &str, serial: u32) -> Self {
        Spec {
            subject: subject.into(),
            serial,
            not_before: at() - days(3650),
            not_after: at() + days(3650),
            ca: true,
            key_usage: Some(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
        }
    }

    pub fn signer(subject: &str, serial: u32) -> Self {
        Spec {
            subject: subject.into(),
            serial,
            not_before: at() - days(30),
            not_after: at() + days(335),
            ca: false,
            key_usage: Some(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation),
        }
    }
}

struct Profile {
    subject: Name,
    issuer: Name,
    ca: bool,
    key_usage: Option<FlagSet<KeyUsages>>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: x509_cert::spki::SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut out = Vec::new();
        let key_id = Sha256::digest(spk.subject_public_key.raw_bytes())[..20].to_vec();
        out.push((&SubjectKeyIdentifier(OctetString::new(key_id)?)).to_extension(&self.subject, &out)?);
        if self.ca {
            let bc = BasicConstraints {
                ca: true,
                path_len_constraint: None,
            };
            out.push((&bc).to_extension(&self.subject, &out)?);
        }
        if let Some(flags) = self.key_usage {
            out.push((&KeyUsage(flags)).to_extension(&self.subject, &out)?);
        }
        Ok(out)
    }
}

/// A key with its certificate.
pub struct Issued {
    pub key: Key,
    pub cert: Certificate,
}

impl Issued {
    /// A self-signed root.
    pub fn root(subject: &str) -> Self {
        Self::root_with(Key::ec(), Spec::ca(subject, 1))
    }

    pub fn root_with(key: Key, spec: Spec) -> Self {
        let name = Name::from_str(&spec.subject).unwrap();
        let cert = build(&key, &key, name, spec);
        Issued { key, cert }
    }

    /// A certificate for a fresh P-256 key issued by `self`.
    pub fn issue(&self, spec: Spec) -> Issued {
        self.issue_key(Key::ec(), spec)
    }

    pub fn issue_key(&self, key: Key, spec: Spec) -> Issued {
        let issuer = self.cert.tbs_certificate().subject().clone();
        let cert = build(&self.key, &key, issuer, spec);
        Issued { key, cert }
    }

    /// A DER CRL from this CA listing `serials`.
    pub fn crl(&self, serials: &[&Certificate]) -> Vec<u8> {
        let revoked = serials
            .iter()
            .map(|c| RevokedCert {
                serial_number: c.tbs_certificate().serial_number().clone(),
                revocation_date: time(at() - days(1)),
                crl_entry_extensions: None,
            })
            .collect::<Vec<_>>();
        let builder = CrlBuilder::new_with_this_update(&self.cert, CrlNumber::try_from(1u32).unwrap(), time(at()))
            .unwrap()
            .with_certificates(revoked.into_iter());
        let crl = match &self.key {
            Key::Ec(k) => builder.build::<_, DerSignature>(k).unwrap(),
            Key::Rsa(k) => builder.build::<_, rsa::pkcs1v15::Signature>(k).unwrap(),
        };
        crl.to_der().unwrap()
    }
}

fn build(issuer_key: &Key, subject_key: &Key, issuer: Name, spec: Spec) -> Certificate {
    let profile = Profile {
        subject: Name::from_str(&spec.subject).unwrap(),
        issuer,
        ca: spec.ca,
        key_usage: spec.key_usage,
    };
    let validity = Validity::new(time(spec.not_before), time(spec.not_after));
    let builder =
        CertificateBuilder::new(profile, SerialNumber::from(spec.serial), validity, subject_key.spki()).unwrap();
    match issuer_key {
        Key::Ec(k) => builder.build::<_, DerSignature>(k).unwrap(),
        Key::Rsa(k) => builder.build::<_, rsa::pkcs1v15::Signature>(k).unwrap(),
    }
}

/// How to assemble a test CMS.
#[derive(Clone)]
pub struct CmsOpts {
    pub signed_attrs: bool,
    pub attached: bool,
    /// Replace the signature algorithm and digest OIDs (e.g. GOST) and the signature bytes.
    pub gost: bool,
    /// Identify the signer by subjectKeyIdentifier (SignerInfo v3) instead of issuer and serial.
    pub by_key_id: bool,
}

impl Default for CmsOpts {
    fn default() -> Self {
        CmsOpts {
            signed_attrs: true,
            attached: false,
            gost: false,
            by_key_id: false,
        }
    }
}

fn alg(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: None }
}

/// A CMS SignedData by `signer` over `content`, carrying `signer.cert` and `chain`.
pub fn sign(signer: &Issued, chain: &[&Certificate], content: &[u8], opts: &CmsOpts) -> Vec<u8> {
    let signed_attrs = opts.signed_attrs.then(|| {
        let attr = |oid, value: Any| x509_cert::attr::Attribute {
            oid,
            values: SetOfVec::try_from(vec![value]).unwrap(),
        };
        let digest = OctetString::new(Sha256::digest(content).to_vec()).unwrap();
        SetOfVec::try_from(vec![
            attr(ID_CONTENT_TYPE, Any::encode_from(&ID_DATA).unwrap()),
            attr(ID_MESSAGE_DIGEST, Any::encode_from(&digest).unwrap()),
        ])
        .unwrap()
    });
    let message = match &signed_attrs {
        Some(attrs) => attrs.to_der().unwrap(),
        None => content.to_vec(),
    };
    let (sig_alg, signature, digest_alg) = if opts.gost {
        (GOST_SIGNATURE, vec![0x5a; 64], GOST_DIGEST)
    } else {
        let (sig_alg, signature) = signer.key.sign(&message);
        (sig_alg, signature, SHA256_OID)
    };
    let tbs = signer.cert.tbs_certificate();
    let (version, sid) = if opts.by_key_id {
        let (_, ski) = tbs.get_extension::<SubjectKeyIdentifier>().unwrap().unwrap();
        (CmsVersion::V3, SignerIdentifier::SubjectKeyIdentifier(ski))
    } else {
        let isn = IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        };
        (CmsVersion::V1, SignerIdentifier::IssuerAndSerialNumber(isn))
    };
    let signer_info = SignerInfo {
        version,
        sid,
        digest_alg: alg(digest_alg),
        signed_attrs,
        signature_algorithm: alg(sig_alg),
        signature: OctetString::new(signature).unwrap(),
        unsigned_attrs: None,
    };
    let certs = std::iter::once(&signer.cert)
        .chain(chain.iter().copied())
        .map(|c| CertificateChoices::Certificate(c.clone()))
        .collect::<Vec<_>>();
    let econtent = opts
        .attached
        .then(|| Any::encode_from(&OctetString::new(content.to_vec()).unwrap()).unwrap());
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![alg(digest_alg)]).unwrap(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: ID_DATA,
            econtent,
        },
        certificates: Some(CertificateSet::try_from(certs).unwrap()),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info]).unwrap(),
    };
    ContentInfo {
        content_type: ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// The subject of the standard test signer: an individual, employee of a legal entity.
pub const SIGNER_SUBJECT: &str = "CN=ТЕСТОВ ТЕСТ,SURNAME=ТЕСТОВ,SERIALNUMBER=IIN900101300123,C=KZ,OU=BIN123456789012";

/// Root → intermediate → signer, the shape of the NCA's hierarchy.
pub struct Pki {
    pub root: Issued,
    pub intermediate: Issued,
    pub signer: Issued,
}

impl Pki {
    pub fn new() -> Self {
        let root = Issued::root("CN=Koshi Test Root CA,O=Koshi Test,C=KZ");
        let intermediate = root.issue(Spec::ca("CN=Koshi Test Intermediate CA,O=Koshi Test,C=KZ", 2));
        let signer = intermediate.issue(Spec::signer(SIGNER_SUBJECT, 0x1001));
        Pki {
            root,
            intermediate,
            signer,
        }
    }

    /// A trust store holding only the root.
    pub fn trust(&self) -> koshi_sign::TrustStore {
        let mut trust = koshi_sign::TrustStore::new();
        trust.add_der(&self.root.cert.to_der().unwrap()).unwrap();
        trust
    }

    /// A detached signature by `signer` carrying the intermediate.
    pub fn sign_by(&self, signer: &Issued, content: &[u8], opts: &CmsOpts) -> Vec<u8> {
        sign(signer, &[&self.intermediate.cert], content, opts)
    }
}

/// One PKI per test binary: building certificates costs P-256 signatures in a debug build.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(Pki::new)
}
