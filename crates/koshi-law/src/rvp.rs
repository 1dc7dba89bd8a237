//! Chapter 2: the checks of п. 9-1, the decision, late applications and the permit's validity.

use jiff::civil::Date;

use crate::citation::Citation;
use crate::requirements::{MaxTerm, Purpose};
use crate::terms::add_months;

/// The seven checks of п. 9-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// пп. 1: completeness of the documents.
    Completeness,
    /// пп. 2: border crossings in ЕИС «Беркут».
    BorderCrossings,
    /// пп. 3: convictions, wanted status, unpaid penalties (police, КПСиСУ).
    Records,
    /// пп. 4: IINs of the foreigner and family members arriving together.
    Iin,
    /// пп. 5: valid household-work RVPs of the employer (Law art. 43-2 п. 5).
    HouseholdQuota,
    /// пп. 6: a pending PR application.
    PendingPr,
    /// пп. 7: fingerprint registration.
    Fingerprints,
}

impl Check {
    pub const ALL: [Check; 7] = [
        Check::Completeness,
        Check::BorderCrossings,
        Check::Records,
        Check::Iin,
        Check::HouseholdQuota,
        Check::PendingPr,
        Check::Fingerprints,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Completeness => "completeness",
            Check::BorderCrossings => "border_crossings",
            Check::Records => "records",
            Check::Iin => "iin",
            Check::HouseholdQuota => "household_quota",
            Check::PendingPr => "pending_pr",
            Check::Fingerprints => "fingerprints",
        }
    }
    pub fn parse(s: &str) -> Option<Check> {
        Check::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// May an officer issue over this check's ground, stating why it is no ground in the case at
    /// hand (issue 14 item 5; docs/interpretations.md)? Only where a registry's silence is the
    /// evidence rather than the ground itself: «Беркут» records no lawful entry of someone who
    /// never crossed the border (born in Kazakhstan), or the fingerprint registry has no record of
    /// someone whose registration certificate the officer holds (п. 5 абз. 5). A conviction, a
    /// missing IIN, the household limit, a pending PR or an incomplete package stay grounds.
    pub fn finding_may_be_set_aside(self) -> bool {
        matches!(self, Check::BorderCrossings | Check::Fingerprints)
    }
    pub fn citation(self) -> Citation {
        match self {
            Check::Completeness => Citation::new("п. 9-1 пп. 1"),
            Check::BorderCrossings => Citation::new("п. 9-1 пп. 2"),
            Check::Records => Citation::new("п. 9-1 пп. 3"),
            Check::Iin => Citation::new("п. 9-1 пп. 4"),
            Check::HouseholdQuota => Citation::new("п. 9-1 пп. 5; Law on Migration art. 43-2 п. 5"),
            Check::PendingPr => Citation::new("п. 9-1 пп. 6"),
            Check::Fingerprints => Citation::new("п. 9-1 пп. 7"),
        }
    }
}

/// What one check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Nothing stands in the way.
    Clear,
    /// A ground for refusal (п. 9-3; App. 1-1 п. 9), with a stable code and the facts.
    Ground { code: &'static str, detail: String },
    /// The law cannot be applied automatically; an officer must decide.
    Officer { code: &'static str, detail: String },
}

/// What the registries said, as facts the checks judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BorderFacts {
    /// «Беркут» holds a lawful entry of the immigrant into Kazakhstan.
    pub lawful_entry_recorded: bool,
}

pub fn judge_border(f: &BorderFacts) -> Finding {
    if f.lawful_entry_recorded {
        Finding::Clear
    } else {
        Finding::Ground {
            code: "no_lawful_entry",
            detail: "ЕИС «Беркут» holds no lawful entry of the immigrant".into(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordFacts {
    pub convicted: bool,
    pub wanted: bool,
    pub unpaid_penalties: bool,
}

pub fn judge_records(f: &RecordFacts) -> Finding {
    let mut found = Vec::new();
    if f.convicted {
        found.push("a criminal record");
    }
    if f.wanted {
        found.push("wanted status");
    }
    if f.unpaid_penalties {
        found.push("unpaid penalties from an earlier stay");
    }
    if found.is_empty() {
        Finding::Clear
    } else {
        Finding::Ground {
            code: "criminal_or_penalty_record",
            detail: found.join(", "),
        }
    }
}

/// пп. 4: how many of the people in the application have no IIN.
pub fn judge_iin(people: usize, without_iin: usize) -> Finding {
    if without_iin == 0 {
        Finding::Clear
    } else {
        Finding::Ground {
            code: "no_iin",
            detail: format!("{without_iin} of {people} persons in the application have no IIN"),
        }
    }
}

/// пп. 5: the employer already holds `valid_household_rvps`; the law's limit is configuration.
pub fn judge_household_quota(household_purpose: bool, valid_household_rvps: u32, limit: Option<u32>) -> Finding {
    if !household_purpose {
        return Finding::Clear;
    }
    match limit {
        None => Finding::Officer {
            code: "household_limit_not_configured",
            detail: "the per-employer limit of Law art. 43-2 п. 5 is not configured".into(),
        },
        Some(limit) if valid_household_rvps >= limit => Finding::Ground {
            code: "household_limit_reached",
            detail: format!("the employer holds {valid_household_rvps} valid household RVPs; the limit is {limit}"),
        },
        Some(_) => Finding::Clear,
    }
}

pub fn judge_pending_pr(pending: bool) -> Finding {
    if pending {
        Finding::Ground {
            code: "pending_pr_application",
            detail: "a PR application of the immigrant is pending".into(),
        }
    } else {
        Finding::Clear
    }
}

pub fn judge_fingerprints(registered: bool) -> Finding {
    if registered {
        Finding::Clear
    } else {
        Finding::Ground {
            code: "no_fingerprint_registration",
            detail: "the immigrant has no fingerprint registration".into(),
        }
    }
}

/// The decision after the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RvpDecision {
    /// No ground for refusal: the RVP is formed (п. 9-1, App. 2).
    Issue { citation: Citation },
    /// Motivated refusal (п. 9-3, App. 2-1) on these grounds.
    Refuse {
        grounds: Vec<(Check, &'static str, String, Citation)>,
    },
    /// An officer must decide (a check could not be judged automatically).
    Officer {
        reasons: Vec<(Check, &'static str, String)>,
    },
}

/// п. 9-1, п. 9-3: the decision from all seven findings. Any ground refuses; otherwise any
/// officer finding waits; otherwise the permit is issued.
pub fn decide(findings: &[(Check, Finding)]) -> RvpDecision {
    let grounds: Vec<_> = findings
        .iter()
        .filter_map(|(c, f)| match f {
            Finding::Ground { code, detail } => Some((
                *c,
                *code,
                detail.clone(),
                Citation::owned(format!("п. 9-3; {}", c.citation())),
            )),
            _ => None,
        })
        .collect();
    if !grounds.is_empty() {
        return RvpDecision::Refuse { grounds };
    }
    let reasons: Vec<_> = findings
        .iter()
        .filter_map(|(c, f)| match f {
            Finding::Officer { code, detail } => Some((*c, *code, detail.clone())),
            _ => None,
        })
        .collect();
    if !reasons.is_empty() {
        return RvpDecision::Officer { reasons };
    }
    let missing: Vec<_> = Check::ALL
        .iter()
        .filter(|c| !findings.iter().any(|(d, _)| d == *c))
        .collect();
    if !missing.is_empty() {
        return RvpDecision::Officer {
            reasons: missing
                .into_iter()
                .map(|c| (*c, "check_not_run", "the check has no result".to_string()))
                .collect(),
        };
    }
    RvpDecision::Issue {
        citation: Citation::new("п. 9-1 абз. 8; App. 2"),
    }
}

/// The exceptions of п. 9-1 (end) that allow documents after the stay has expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LateException {
    /// пп. 1: applied in time, but an information-system failure (act signed by the State
    /// Corporation and the provider) let the stay expire. `failure_on` is the day of the failure.
    OutageAct { act_number: String, failure_on: Date },
    /// пп. 2: fined under art. 517 of the Administrative Code for not leaving within a period
    /// of at most ten days after the stay expired: the decision's number and date and the days
    /// of overstay it states, which must agree with the dates Koshi holds.
    Art517Fine {
        decision_number: String,
        decision_date: Date,
        overstay_days: u32,
    },
}

pub const LATE: Citation = Citation::new("п. 9-1 абз. 12–14");
pub const ART517_MAX_OVERSTAY_DAYS: u32 = 10;

/// Whether documents may be accepted when the stay ended on `stay_until` (inclusive) and the
/// application is filed on `filed_on`.
pub fn late_application(
    stay_until: Date,
    filed_on: Date,
    exception: Option<&LateException>,
) -> Result<Option<Citation>, (&'static str, String, Citation)> {
    if filed_on <= stay_until {
        return Ok(None);
    }
    match exception {
        Some(LateException::OutageAct { act_number, failure_on }) => {
            if *failure_on > stay_until {
                Err((
                    "outage_after_stay_expired",
                    format!(
                        "the failure of {failure_on} (act {act_number}) happened after the stay had ended on {stay_until}"
                    ),
                    Citation::new("п. 9-1 абз. 13 пп. 1"),
                ))
            } else {
                Ok(Some(Citation::new("п. 9-1 абз. 13 пп. 1")))
            }
        }
        Some(LateException::Art517Fine {
            decision_number,
            decision_date,
            overstay_days,
        }) => art517(stay_until, filed_on, decision_number, *decision_date, *overstay_days),
        None => Err((
            "stay_expired",
            format!("the stay ended on {stay_until}; no exception of п. 9-1 applies"),
            LATE,
        )),
    }
}

/// п. 9-1 абз. 13 пп. 2, checked against the dates Koshi holds (docs/interpretations.md): the
/// decision is numbered, dated after the stay ended and not after the filing; the days of
/// overstay it states are the days from the stay's end to the decision; and neither those nor the
/// overstay at filing, computed here, exceed ten days.
fn art517(
    stay_until: Date,
    filed_on: Date,
    number: &str,
    decided_on: Date,
    stated_days: u32,
) -> Result<Option<Citation>, (&'static str, String, Citation)> {
    let cite = Citation::new("п. 9-1 абз. 13 пп. 2");
    let days = |a: Date, b: Date| {
        b.since((jiff::Unit::Day, a))
            .map(|s| i64::from(s.get_days()))
            .unwrap_or(i64::MAX)
    };
    let n = number.trim().chars().count();
    if n == 0 || n > 64 {
        return Err((
            "art517_decision_required",
            "the art. 517 decision is named by its number (1 to 64 characters)".into(),
            cite,
        ));
    }
    if decided_on <= stay_until || decided_on > filed_on {
        return Err((
            "art517_decision_dates",
            format!(
                "the art. 517 decision {number} of {decided_on} must be dated after the stay ended ({stay_until}) and not after the filing ({filed_on})"
            ),
            cite,
        ));
    }
    let at_decision = days(stay_until, decided_on);
    if i64::from(stated_days) != at_decision {
        return Err((
            "art517_disagrees_with_dates",
            format!(
                "the decision states {stated_days} days of overstay; from the stay's end ({stay_until}) to the decision ({decided_on}) there are {at_decision}"
            ),
            cite,
        ));
    }
    let at_filing = days(stay_until, filed_on);
    if at_filing > i64::from(ART517_MAX_OVERSTAY_DAYS) {
        return Err((
            "overstay_over_ten_days",
            format!(
                "{at_filing} days have passed since the stay ended on {stay_until}: the exception covers at most {ART517_MAX_OVERSTAY_DAYS}"
            ),
            cite,
        ));
    }
    Ok(Some(cite))
}

/// The validity of a permit and what bounded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validity {
    pub valid_from: Date,
    pub valid_until: Date,
    /// Each bound that was applied: (code, date, citation).
    pub bounds: Vec<(&'static str, Date, Citation)>,
}

/// Why no validity can be derived automatically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidityError {
    /// Neither the purpose nor a basis document nor a request sets an end: an officer decides.
    NoSettledTerm,
    /// The bounds leave no day of validity.
    Empty { until: Date },
}

/// The RVP's validity (п. 2 пп. 32: "на определенный срок в зависимости от цели пребывания"):
/// from the day of issue to the earliest of the purpose's maximum term (where a source gives
/// one), the basis document's end, the requested end and the passport's expiry — never beyond.
pub fn validity(
    purpose: &Purpose,
    issued_on: Date,
    passport_expires: Option<Date>,
    basis_expires: Option<Date>,
    requested_until: Option<Date>,
) -> Result<Validity, ValidityError> {
    let mut bounds = Vec::new();
    if let Some(MaxTerm { months, source, .. }) = &purpose.max_term {
        bounds.push((
            "purpose_max_term",
            add_months(issued_on, *months),
            Citation::owned(format!("App. 1-1 п. 8 ({source})")),
        ));
    }
    if let Some(d) = basis_expires {
        bounds.push(("basis_document", d, Citation::new("App. 1-1 п. 8")));
    }
    if let Some(d) = requested_until {
        bounds.push(("requested", d, Citation::new("App. 1")));
    }
    if bounds.is_empty() {
        return Err(ValidityError::NoSettledTerm);
    }
    if let Some(d) = passport_expires {
        bounds.push((
            "passport",
            d,
            Citation::new("App. 1-1 п. 8 (validity never beyond the passport)"),
        ));
    }
    let until = bounds.iter().map(|b| b.1).min().unwrap_or(issued_on);
    if until <= issued_on {
        return Err(ValidityError::Empty { until });
    }
    bounds.retain(|b| b.1 == until);
    Ok(Validity {
        valid_from: issued_on,
        valid_until: until,
        bounds,
    })
}

/// п. 21: the RVP issued on annulment runs until the exit deadline of п. 20.
pub fn exit_rvp(cal: &crate::calendar::WorkingCalendar, approved_on: Date) -> Result<Validity, crate::CalendarError> {
    let until = crate::terms::annulment_exit_by(cal, approved_on)?;
    Ok(Validity {
        valid_from: approved_on,
        valid_until: until,
        bounds: vec![("annulment_exit", until, Citation::new("п. 20; п. 21"))],
    })
}

/// A family member's permit never outlasts the principal's.
pub fn family_member_validity(principal: &Validity, passport_expires: Option<Date>) -> Result<Validity, ValidityError> {
    let mut v = principal.clone();
    if let Some(p) = passport_expires
        && p < v.valid_until
    {
        if p <= v.valid_from {
            return Err(ValidityError::Empty { until: p });
        }
        v.valid_until = p;
        v.bounds = vec![(
            "passport",
            p,
            Citation::new("App. 1-1 п. 8 (validity never beyond the passport)"),
        )];
    }
    Ok(v)
}

/// When an RVP prepared without a person may be formed in the name of a police body's duty
/// officer (п. 9-1: the RVP is formed by an authorised officer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forming {
    /// Now: working time of a working day, on or after the acceptance day.
    Now,
    /// Not before this instant: the start of working time on the first working day that is not
    /// before the acceptance day and not already past.
    At(jiff::Timestamp),
}

/// The forming rule of a prepared act (issue 14 item 5; docs/interpretations.md): never before
/// the acceptance day, never on a day off, never outside working time; so it is never valid from
/// before the day it is formed, nor from before the day the application counts as accepted.
pub fn forming_time(
    cal: &crate::calendar::WorkingCalendar,
    now: jiff::Timestamp,
    accepted_on: Date,
) -> Result<Forming, crate::calendar::CalendarError> {
    let civil = cal.civil(now);
    let (day, hours) = (civil.date(), cal.hours());
    let (first_year, last_year) = cal.covered_years();
    let uncovered = |date: Date| crate::calendar::CalendarError::NotCovered {
        date,
        first_year,
        last_year,
    };
    if day >= accepted_on && cal.is_working(day)? && hours.within_working_time(civil.time()) {
        return Ok(Forming::Now);
    }
    // Today still counts when working time has not begun yet on a working day.
    let first = if day < accepted_on {
        accepted_on
    } else if civil.time() < hours.work_start {
        day
    } else {
        day.tomorrow().map_err(|_| uncovered(day))?
    };
    let on = cal.working_day_on_or_after(first)?;
    let start = hours.work_start;
    cal.time_zone()
        .to_zoned_datetime(on.at(start.hour(), start.minute(), 0, 0))
        .map(|z| Forming::At(z.timestamp()))
        .map_err(|_| uncovered(on))
}

#[cfg(test)]
mod forming_tests {
    use super::*;
    use crate::calendar::WorkingCalendar;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn at(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_prepared_rvp_is_formed_only_in_working_time_from_the_acceptance_day() {
        let cal = WorkingCalendar::builtin().unwrap();
        let monday = date(2026, 2, 2);
        // Monday 10:00 Almaty, accepted that day: now.
        assert_eq!(
            forming_time(&cal, at("2026-02-02T05:00:00Z"), monday).unwrap(),
            Forming::Now
        );
        // Saturday, accepted on Monday: Monday 09:00.
        assert_eq!(
            forming_time(&cal, at("2026-02-07T05:00:00Z"), date(2026, 2, 9)).unwrap(),
            Forming::At(at("2026-02-09T04:00:00Z"))
        );
        // A working day after 18:30: the next working day at 09:00.
        assert_eq!(
            forming_time(&cal, at("2026-02-02T14:00:00Z"), monday).unwrap(),
            Forming::At(at("2026-02-03T04:00:00Z"))
        );
        // Before 09:00 on the acceptance day: 09:00 that day.
        assert_eq!(
            forming_time(&cal, at("2026-02-02T02:00:00Z"), monday).unwrap(),
            Forming::At(at("2026-02-02T04:00:00Z"))
        );
        // A working day before the acceptance day (a paper receipt entered later is the other
        // way round; this is a portal filing of Friday night checked at once): Monday.
        assert_eq!(
            forming_time(&cal, at("2026-02-06T06:00:00Z"), date(2026, 2, 9)).unwrap(),
            Forming::At(at("2026-02-09T04:00:00Z"))
        );
        // The Nauryz holidays (21–25 March 2026): the first working day after them.
        let Forming::At(t) = forming_time(&cal, at("2026-03-21T05:00:00Z"), date(2026, 3, 20)).unwrap() else {
            panic!("a holiday is never a forming day");
        };
        assert!(cal.is_working(cal.civil(t).date()).unwrap());
        assert!(cal.civil(t).date() > date(2026, 3, 21));
    }

    proptest! {
        #[test]
        fn forming_is_never_on_a_day_off_before_acceptance_or_outside_working_time(
            minutes in 0i64..(365 * 24 * 60),
            lag in 0i64..5,
        ) {
            let cal = WorkingCalendar::builtin().unwrap();
            let now = at("2026-01-01T00:00:00Z") + jiff::SignedDuration::from_mins(minutes);
            let accepted_on = cal.accepted_on(cal.civil(now)).unwrap();
            let accepted_on = crate::terms::add_days(accepted_on, lag);
            let when = match forming_time(&cal, now, accepted_on).unwrap() {
                Forming::Now => now,
                Forming::At(t) => {
                    prop_assert!(t > now);
                    t
                }
            };
            let civil = cal.civil(when);
            prop_assert!(cal.is_working(civil.date()).unwrap());
            prop_assert!(civil.date() >= accepted_on);
            prop_assert!(cal.hours().within_working_time(civil.time()));
        }
    }
}
