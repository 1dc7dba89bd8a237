//! The demo's ЭЦП (`koshi demo` only): a throw-away certifying centre standing in for the НУЦ РК
//! and a certificate of the demo company's director, so that an inviting party can sign in to
//! the cabinet and file signed requests on a demo machine. The key is written beside the demo's
//! data for a signing tool (`openssl cms`); nothing here serves a real party, and `koshi serve`
//! trusts only the store it is given.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    date_time_ymd,
};

/// The demo company's director: an individual's IIN of the fixtures (the household employer)
/// and the company's BIN, as an НУЦ РК certificate names them (`SERIALNUMBER=IIN…`, `OU=BIN…`).
pub const DIRECTOR_IIN: &str = crate::demo::EMPLOYER_IIN;

/// Where the demo's certificates and the director's key were written, and the root to trust.
pub struct DemoPki {
    pub dir: PathBuf,
    pub root_pem: String,
}

impl DemoPki {
    pub fn certificate(&self) -> PathBuf {
        self.dir.join("party.pem")
    }
    pub fn key(&self) -> PathBuf {
        self.dir.join("party.key")
    }
}

/// Makes a fresh centre and director's certificate, valid around `year`, in `dir`.
pub fn make(dir: &Path, year: i16) -> Result<DemoPki> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let year = i32::from(year);
    let valid = |p: &mut CertificateParams| {
        p.not_before = date_time_ymd(year - 1, 1, 1);
        p.not_after = date_time_ymd(year + 2, 12, 31);
    };
    let root_key = KeyPair::generate()?;
    let mut root = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "Koshi DEMO certifying centre (not the НУЦ РК)");
    dn.push(DnType::OrganizationName, "Koshi demo");
    dn.push(DnType::CountryName, "KZ");
    root.distinguished_name = dn;
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    valid(&mut root);
    let root_cert = root.self_signed(&root_key)?;
    let issuer = Issuer::new(root, root_key);

    let party_key = KeyPair::generate()?;
    let mut party = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "ДЕМО ДИРЕКТОР");
    dn.push(DnType::CustomDnType(vec![2, 5, 4, 5]), format!("IIN{DIRECTOR_IIN}"));
    dn.push(
        DnType::OrganizationalUnitName,
        format!("BIN{}", crate::demo::COMPANY_BIN),
    );
    dn.push(DnType::OrganizationName, "Демо принимающая сторона");
    dn.push(DnType::CountryName, "KZ");
    party.distinguished_name = dn;
    party.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
    valid(&mut party);
    let party_cert = party.signed_by(&party_key, &issuer)?;

    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
    };
    write("root.pem", &root_cert.pem())?;
    write("party.pem", &party_cert.pem())?;
    write("party.key", &party_key.serialize_pem())?;
    Ok(DemoPki {
        dir: dir.to_path_buf(),
        root_pem: root_cert.pem(),
    })
}
