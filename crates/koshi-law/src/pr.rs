//! Chapter 3: PR eligibility, solvency, and who approves a conclusion.

use jiff::civil::Date;

use crate::citation::Citation;
use crate::params::Parameters;

/// Tiyn per tenge.
pub const TIYN: i64 = 100;

/// What the solvency rule needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SolvencyInput {
    /// The day of application (the MCI of its year applies).
    pub on: Date,
    /// Family members the housing must fit, the applicant included.
    pub family_members: u32,
    /// A contract with an individual or legal entity to provide housing (then the housing part
    /// is not required).
    pub housing_contracted: bool,
    /// Ethnic Kazakhs and kandas, former compatriots, persons entitled to simplified
    /// citizenship by treaty, and their family members (Law on Migration art. 49 пп. 4).
    pub exempt: bool,
    /// Average market price of a square metre of housing in the locality, in tiyn.
    pub price_per_square_metre_tiyn: Option<i64>,
    /// Money confirmed by the bank, in tiyn.
    pub funds_tiyn: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Solvency {
    pub required_tiyn: i64,
    pub sufficient: bool,
    pub citation: Citation,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SolvencyError {
    #[error("no MCI is configured for {0}")]
    NoMci(i16),
    #[error("the average price of a square metre is needed when housing is not contracted")]
    NoHousingPrice,
}

/// PR solvency: at least 1,320 MCI and, unless housing is contracted, enough to buy 15 m² per
/// family member (App. 3; Law on Migration art. 49 пп. 4; figures from the parameters).
pub fn solvency(p: &Parameters, input: &SolvencyInput) -> Result<Solvency, SolvencyError> {
    if input.exempt {
        return Ok(Solvency {
            required_tiyn: 0,
            sufficient: true,
            citation: Citation::new("Law on Migration art. 49 пп. 4 (exempt category)"),
        });
    }
    let year = input.on.year();
    let mci = p.mci(year).ok_or(SolvencyError::NoMci(year))?;
    let mut required = p.solvency_mci_multiple * mci.tenge * TIYN;
    if !input.housing_contracted {
        let price = input.price_per_square_metre_tiyn.ok_or(SolvencyError::NoHousingPrice)?;
        required += p.solvency_square_metres_per_member * i64::from(input.family_members.max(1)) * price;
    }
    Ok(Solvency {
        required_tiyn: required,
        sufficient: input.funds_tiyn >= required,
        citation: Citation::new("App. 3; Law on Migration art. 49 пп. 4"),
    })
}

/// The posts that may approve a conclusion to issue, refuse or annul (п. 15 абз. 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Post {
    HeadOfPoliceDepartment,
    DeputyHeadOfPoliceDepartment,
    HeadOfCityDistrictPolice,
    HeadOfUms,
    /// Any other post (officer, inspector, operator…).
    Other,
}

impl Post {
    pub fn parse(s: &str) -> Option<Post> {
        Some(match s {
            "head_of_police_department" => Post::HeadOfPoliceDepartment,
            "deputy_head_of_police_department" => Post::DeputyHeadOfPoliceDepartment,
            "head_of_city_district_police" => Post::HeadOfCityDistrictPolice,
            "head_of_ums" => Post::HeadOfUms,
            "other" => Post::Other,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Post::HeadOfPoliceDepartment => "head_of_police_department",
            Post::DeputyHeadOfPoliceDepartment => "deputy_head_of_police_department",
            Post::HeadOfCityDistrictPolice => "head_of_city_district_police",
            Post::HeadOfUms => "head_of_ums",
            Post::Other => "other",
        }
    }
}

impl Post {
    /// The post as п. 15 абз. 2 names it (Russian).
    pub fn ru(self) -> &'static str {
        match self {
            Post::HeadOfPoliceDepartment => "начальник Департамента полиции",
            Post::DeputyHeadOfPoliceDepartment => "заместитель начальника Департамента полиции",
            Post::HeadOfCityDistrictPolice => "начальник городского (районного) органа внутренних дел",
            Post::HeadOfUms => "начальник Управления миграционной службы Департамента полиции",
            Post::Other => "сотрудник",
        }
    }
}

pub const APPROVAL: Citation = Citation::new("п. 15 абз. 2");

/// Whether the post may approve a PR conclusion at all (the unit is checked by the service).
pub fn may_approve(post: Post) -> bool {
    !matches!(post, Post::Other)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn params() -> Parameters {
        Parameters::builtin().unwrap()
    }

    #[test]
    fn pr_solvency_is_1320_mci_plus_15_square_metres_per_member() {
        let s = solvency(
            &params(),
            &SolvencyInput {
                on: date(2026, 2, 1),
                family_members: 3,
                housing_contracted: false,
                exempt: false,
                price_per_square_metre_tiyn: Some(500_000 * TIYN),
                funds_tiyn: 0,
            },
        )
        .unwrap();
        // 1,320 × 4,325 ₸ + 15 × 3 × 500,000 ₸
        assert_eq!(s.required_tiyn, (1320 * 4325 + 15 * 3 * 500_000) * TIYN);
        assert!(!s.sufficient);
    }

    #[test]
    fn pr_solvency_housing_part_not_needed_when_housing_is_contracted() {
        let input = SolvencyInput {
            on: date(2026, 2, 1),
            family_members: 4,
            housing_contracted: true,
            exempt: false,
            price_per_square_metre_tiyn: None,
            funds_tiyn: 1320 * 4325 * TIYN,
        };
        let s = solvency(&params(), &input).unwrap();
        assert!(s.sufficient);
        let short = SolvencyInput {
            funds_tiyn: 1320 * 4325 * TIYN - 1,
            ..input
        };
        assert!(!solvency(&params(), &short).unwrap().sufficient);
    }

    #[test]
    fn pr_solvency_exempt_categories_need_nothing_and_missing_data_is_an_error() {
        let base = SolvencyInput {
            on: date(2026, 2, 1),
            family_members: 1,
            housing_contracted: false,
            exempt: true,
            price_per_square_metre_tiyn: None,
            funds_tiyn: 0,
        };
        assert!(solvency(&params(), &base).unwrap().sufficient);
        let not_exempt = SolvencyInput {
            exempt: false,
            ..base.clone()
        };
        assert_eq!(solvency(&params(), &not_exempt), Err(SolvencyError::NoHousingPrice));
        let old = SolvencyInput {
            on: date(2019, 1, 1),
            exempt: false,
            housing_contracted: true,
            ..base
        };
        assert_eq!(solvency(&params(), &old), Err(SolvencyError::NoMci(2019)));
    }

    #[test]
    fn p15_only_the_named_heads_approve() {
        for p in [
            "head_of_police_department",
            "deputy_head_of_police_department",
            "head_of_city_district_police",
            "head_of_ums",
        ] {
            assert!(may_approve(Post::parse(p).unwrap()), "{p}");
        }
        assert!(!may_approve(Post::Other));
    }
}

/// Why an adverse act (a refusal, an annulment) cannot be taken yet (п. 17, 18).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdverseActGate {
    #[error("the act is taken only after the person was heard (п. 17)")]
    NotHeard,
    #[error("the act may be taken from {0}: 3 working days after the hearing notice (п. 17)")]
    TooEarly(Date),
}

impl AdverseActGate {
    pub fn code(&self) -> &'static str {
        match self {
            AdverseActGate::NotHeard => "hearing_required",
            AdverseActGate::TooEarly(_) => "act_too_early",
        }
    }
}

/// п. 17 (and п. 18 for an annulment): an adverse act is taken only after a hearing was
/// announced, and not before the day 3 working days after its notice (`act_not_before`, computed
/// when the notice went out).
pub fn adverse_act_allowed(act_not_before: Option<Date>, today: Date) -> Result<(), AdverseActGate> {
    match act_not_before {
        None => Err(AdverseActGate::NotHeard),
        Some(d) if today < d => Err(AdverseActGate::TooEarly(d)),
        Some(_) => Ok(()),
    }
}

/// Law on Migration art. 49: no permit over a negative answer of an agency (the national
/// security bodies' approval among them). The agencies that answered negatively, if any.
pub fn permit_barred_by_answers(negative: &[&str]) -> Result<(), String> {
    if negative.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "a permit cannot be issued over negative answers from {} (Law on Migration art. 49)",
            negative.join(", ")
        ))
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn p17_an_adverse_act_waits_for_the_hearing_and_three_working_days() {
        assert_eq!(
            adverse_act_allowed(None, date(2026, 2, 5)),
            Err(AdverseActGate::NotHeard)
        );
        assert_eq!(
            adverse_act_allowed(Some(date(2026, 2, 5)), date(2026, 2, 4))
                .unwrap_err()
                .code(),
            "act_too_early"
        );
        assert!(adverse_act_allowed(Some(date(2026, 2, 5)), date(2026, 2, 5)).is_ok());
        assert!(permit_barred_by_answers(&[]).is_ok());
        assert!(
            permit_barred_by_answers(&["national_security"])
                .unwrap_err()
                .contains("art. 49")
        );
    }
}
