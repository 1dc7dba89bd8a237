//! Rule parameters from outside the Rules (MCI, solvency, the household limit, the PR term),
//! loaded from `data/parameters.toml` or a replacement file.

use serde::Deserialize;

use crate::requirements::SourceStatus;

pub const BUILTIN_PARAMETERS: &str = include_str!("../data/parameters.toml");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mci {
    pub year: i16,
    /// Tenge per MCI.
    pub tenge: i64,
    pub source: String,
    pub status: SourceStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters {
    pub mci: Vec<Mci>,
    pub solvency_mci_multiple: i64,
    pub solvency_square_metres_per_member: i64,
    pub solvency_status: SourceStatus,
    /// Law on Migration art. 43-2 п. 5; `None` while the figure is not established.
    pub household_limit_per_employer: Option<u32>,
    pub pr_service_term_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ParametersFileError {
    pub line: usize,
    pub message: String,
}

impl Parameters {
    pub fn builtin() -> Result<Parameters, ParametersFileError> {
        Parameters::from_toml(BUILTIN_PARAMETERS)
    }

    pub fn from_toml(text: &str) -> Result<Parameters, ParametersFileError> {
        let raw: Raw = parse_file(text)?;
        check_schema(raw.schema)?;
        let mut mci: Vec<Mci> = raw
            .mci
            .into_iter()
            .map(|m| Mci {
                year: m.year,
                tenge: m.tenge,
                source: m.source,
                status: m.status,
            })
            .collect();
        mci.sort_by_key(|m| m.year);
        if let Some(w) = mci.windows(2).find(|w| w[0].year == w[1].year) {
            return Err(ParametersFileError {
                line: 1,
                message: format!("MCI for {} is given twice", w[0].year),
            });
        }
        if let Some(m) = mci.iter().find(|m| m.tenge <= 0) {
            return Err(ParametersFileError {
                line: 1,
                message: format!("MCI for {} must be positive", m.year),
            });
        }
        if raw.household.limit_per_employer == Some(0) {
            return Err(ParametersFileError {
                line: 1,
                message: "household.limit_per_employer must be at least 1".into(),
            });
        }
        Ok(Parameters {
            mci,
            solvency_mci_multiple: raw.solvency.mci_multiple,
            solvency_square_metres_per_member: raw.solvency.square_metres_per_member,
            solvency_status: raw.solvency.status,
            household_limit_per_employer: raw.household.limit_per_employer,
            pr_service_term_days: raw.pr.service_term_days,
        })
    }

    /// These parameters with the MCI of a file an administrator loads while Koshi runs
    /// (`schema = 1` and one or more `[[mci]]` tables of the shipped file's form), each
    /// replacing or adding its year.
    pub fn with_mci_file(&self, text: &str) -> Result<(Parameters, Vec<Mci>), ParametersFileError> {
        let raw: RawMciFile = parse_file(text)?;
        check_schema(raw.schema)?;
        if raw.mci.is_empty() {
            return Err(ParametersFileError {
                line: 1,
                message: "the file declares no [[mci]]".into(),
            });
        }
        let mut next = self.clone();
        let mut loaded = Vec::new();
        for m in raw.mci {
            if m.tenge <= 0 {
                return Err(ParametersFileError {
                    line: 1,
                    message: format!("MCI for {} must be positive", m.year),
                });
            }
            if !(2000..=2199).contains(&m.year) {
                return Err(ParametersFileError {
                    line: 1,
                    message: format!("MCI year {} is out of range", m.year),
                });
            }
            if loaded.iter().any(|l: &Mci| l.year == m.year) {
                return Err(ParametersFileError {
                    line: 1,
                    message: format!("MCI for {} is given twice", m.year),
                });
            }
            let mci = Mci {
                year: m.year,
                tenge: m.tenge,
                source: m.source,
                status: m.status,
            };
            next.mci.retain(|x| x.year != mci.year);
            next.mci.push(mci.clone());
            loaded.push(mci);
        }
        next.mci.sort_by_key(|m| m.year);
        Ok((next, loaded))
    }

    /// The MCI in force in `year`, in tenge.
    pub fn mci(&self, year: i16) -> Option<&Mci> {
        self.mci.iter().find(|m| m.year == year)
    }
}

/// A parameters file (or an MCI file) as TOML, a syntax error naming its line.
fn parse_file<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, ParametersFileError> {
    toml::from_str(text).map_err(|e: toml::de::Error| ParametersFileError {
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1),
        message: e.message().trim().to_string(),
    })
}

fn check_schema(schema: u32) -> Result<(), ParametersFileError> {
    if schema != 1 {
        return Err(ParametersFileError {
            line: 1,
            message: format!("unsupported schema {schema}; this Koshi reads schema 1"),
        });
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    schema: u32,
    mci: Vec<RawMci>,
    solvency: RawSolvency,
    household: RawHousehold,
    pr: RawPr,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMciFile {
    schema: u32,
    #[serde(default)]
    mci: Vec<RawMci>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMci {
    year: i16,
    tenge: i64,
    source: String,
    status: SourceStatus,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSolvency {
    mci_multiple: i64,
    square_metres_per_member: i64,
    #[allow(dead_code)]
    source: String,
    status: SourceStatus,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHousehold {
    limit_per_employer: Option<u32>,
    #[allow(dead_code)]
    source: String,
    #[allow(dead_code)]
    status: SourceStatus,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPr {
    service_term_days: u32,
    #[allow(dead_code)]
    source: String,
    #[allow(dead_code)]
    status: SourceStatus,
}
