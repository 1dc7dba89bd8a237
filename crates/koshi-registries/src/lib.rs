//! # koshi-registries: the external systems the Rules name, behind ports
//!
//! One trait per registry the checks of п. 9-1 consult. Each has a simulator (`sim`), driven by a
//! fixtures file with configurable latency and failure injection, and an HTTP/JSON adapter
//! (`http`) that talks to `koshi registry-sim` or to a real gateway with the same contract.
//!
//! Architecture invariant: nothing here decides anything. Ports return facts; the law crate
//! judges them.

pub mod clock;
pub mod context;
pub mod http;
pub mod sim;
#[cfg(feature = "gateway-simulator")]
pub mod sim_server;
pub mod tls;

use std::sync::Arc;

use async_trait::async_trait;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// Whom a registry is asked about. Personal data: never logged (Debug is masked).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonQuery {
    /// Passport (or stateless-person document) number.
    pub document_number: String,
    /// ISO 3166-1 alpha-3 citizenship, or "XXX" for stateless persons.
    pub citizenship: String,
    pub birth_date: Date,
    /// The IIN when the applicant gave one.
    pub iin: Option<String>,
}

impl std::fmt::Debug for PersonQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonQuery")
            .field("citizenship", &self.citizenship)
            .finish_non_exhaustive()
    }
}

/// ЕИС «Беркут»: border crossings (п. 9-1 пп. 2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BorderAnswer {
    /// A lawful entry of the person into Kazakhstan is recorded.
    pub lawful_entry_recorded: bool,
    /// The last entry, when recorded.
    pub last_entry_on: Option<Date>,
}

/// Police records or КПСиСУ (п. 9-1 пп. 3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordsAnswer {
    pub convicted: bool,
    pub wanted: bool,
    pub unpaid_penalties: bool,
}

/// ГБД ФЛ: the IIN of a person (п. 9-1 пп. 4; п. 14).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IinAnswer {
    pub iin: Option<String>,
}

/// Household-work RVPs held by an employer before/outside Koshi (п. 9-1 пп. 5).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HouseholdAnswer {
    pub valid_household_rvps: u32,
}

/// A pending PR application (п. 9-1 пп. 6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingPrAnswer {
    pub pending: bool,
}

/// Fingerprint registration (п. 9-1 пп. 7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FingerprintAnswer {
    pub registered: bool,
}

/// Why a registry gave no answer. Never a reason to fail a case: the case waits and retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("the registry did not answer in time")]
    Timeout,
    #[error("the registry is unavailable: {0}")]
    Unavailable(String),
    #[error("the registry answered something Koshi cannot read: {0}")]
    BadAnswer(String),
}

pub type RegistryResult<T> = Result<T, RegistryError>;

/// The registries, by name (stable identifiers used in URLs, fixtures, logs and the outage journal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryKind {
    /// ЕИС «Беркут»
    Berkut,
    /// Police (ОВД) records
    PoliceRecords,
    /// КПСиСУ of the General Prosecutor's Office
    Kpsisu,
    /// ГБД ФЛ
    GbdFl,
    /// Employer's household-work RVPs (legacy ИС МП data)
    HouseholdRvps,
    /// Pending PR applications (legacy ИС МП data)
    PendingPr,
    /// Fingerprint (dactyloscopic) registration
    Fingerprints,
}

impl RegistryKind {
    pub const ALL: [RegistryKind; 7] = [
        RegistryKind::Berkut,
        RegistryKind::PoliceRecords,
        RegistryKind::Kpsisu,
        RegistryKind::GbdFl,
        RegistryKind::HouseholdRvps,
        RegistryKind::PendingPr,
        RegistryKind::Fingerprints,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            RegistryKind::Berkut => "berkut",
            RegistryKind::PoliceRecords => "police_records",
            RegistryKind::Kpsisu => "kpsisu",
            RegistryKind::GbdFl => "gbd_fl",
            RegistryKind::HouseholdRvps => "household_rvps",
            RegistryKind::PendingPr => "pending_pr",
            RegistryKind::Fingerprints => "fingerprints",
        }
    }
    pub fn parse(s: &str) -> Option<RegistryKind> {
        RegistryKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[async_trait]
pub trait Berkut: Send + Sync {
    async fn border_crossings(&self, q: &PersonQuery) -> RegistryResult<BorderAnswer>;
}

#[async_trait]
pub trait PoliceRecords: Send + Sync {
    async fn police_records(&self, q: &PersonQuery) -> RegistryResult<RecordsAnswer>;
}

#[async_trait]
pub trait Kpsisu: Send + Sync {
    async fn kpsisu_records(&self, q: &PersonQuery) -> RegistryResult<RecordsAnswer>;
}

#[async_trait]
pub trait GbdFl: Send + Sync {
    async fn iin(&self, q: &PersonQuery) -> RegistryResult<IinAnswer>;
}

#[async_trait]
pub trait HouseholdRvps: Send + Sync {
    /// Valid household-work RVPs held by the employer (IIN) on the date.
    async fn household_rvps(&self, employer_iin: &str, on: Date) -> RegistryResult<HouseholdAnswer>;
}

#[async_trait]
pub trait PendingPr: Send + Sync {
    async fn pending_pr(&self, q: &PersonQuery) -> RegistryResult<PendingPrAnswer>;
}

#[async_trait]
pub trait Fingerprints: Send + Sync {
    async fn fingerprints(&self, q: &PersonQuery) -> RegistryResult<FingerprintAnswer>;
}

/// One handle on every registry, each behind its own port.
#[derive(Clone)]
pub struct Registries {
    pub berkut: Arc<dyn Berkut>,
    pub police_records: Arc<dyn PoliceRecords>,
    pub kpsisu: Arc<dyn Kpsisu>,
    pub gbd_fl: Arc<dyn GbdFl>,
    pub household_rvps: Arc<dyn HouseholdRvps>,
    pub pending_pr: Arc<dyn PendingPr>,
    pub fingerprints: Arc<dyn Fingerprints>,
}

impl Registries {
    /// Every port served by one implementation (the simulator or the HTTP adapter).
    pub fn all<T>(imp: Arc<T>) -> Registries
    where
        T: Berkut + PoliceRecords + Kpsisu + GbdFl + HouseholdRvps + PendingPr + Fingerprints + 'static,
    {
        Registries {
            berkut: imp.clone(),
            police_records: imp.clone(),
            kpsisu: imp.clone(),
            gbd_fl: imp.clone(),
            household_rvps: imp.clone(),
            pending_pr: imp.clone(),
            fingerprints: imp,
        }
    }
}
