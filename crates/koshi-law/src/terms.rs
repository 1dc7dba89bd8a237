//! Legal terms: how each term of the Rules is counted. Every reading chosen where the Rules are
//! silent is written down in docs/interpretations.md and lives here, once.

use jiff::civil::Date;
use jiff::{SignedDuration, ToSpan};

use crate::calendar::{CalendarError, WorkingCalendar};
use crate::citation::Citation;

/// `d` plus whole years, the civil-code way: a term in years ends on the same month and day;
/// where that day does not exist (29 February) it ends on the last day of the month.
pub fn add_years(d: Date, years: i16) -> Date {
    d.checked_add(years.years()).unwrap_or(Date::MAX)
}

/// `d` plus whole months, ending on the last day of the month where the day does not exist.
pub fn add_months(d: Date, months: u32) -> Date {
    d.checked_add((months as i32).months()).unwrap_or(Date::MAX)
}

/// `d` plus calendar days.
pub fn add_days(d: Date, days: i64) -> Date {
    d.checked_add(days.days())
        .unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

/// The term of the RVP service: one working day (п. 9).
pub const RVP_TERM_WORKING_DAYS: u32 = 1;
pub const RVP_TERM: Citation = Citation::new("п. 9; п. 7 абз. 2; п. 8");

/// п. 5 абз. 4: an immigrant who turns 16 in Kazakhstan must apply within 10 calendar days.
pub const AGE16_DAYS: i64 = 10;
pub const AGE16: Citation = Citation::new("п. 5 абз. 4");

/// The age-16 obligation of п. 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Age16 {
    pub sixteenth_birthday: Date,
    /// The last day to apply: ten calendar days after the 16th birthday, moved to the next
    /// working day when it falls on a day off (the applicant's term; civil-code reading).
    pub apply_by: Date,
}

pub fn age16(cal: &WorkingCalendar, birth_date: Date) -> Result<Age16, CalendarError> {
    let sixteenth_birthday = add_years(birth_date, 16);
    let raw = add_days(sixteenth_birthday, AGE16_DAYS);
    let apply_by = cal.working_day_on_or_after(raw)?;
    Ok(Age16 {
        sixteenth_birthday,
        apply_by,
    })
}

/// How long before the 16th birthday of a minor family member the recipient is reminded of the
/// п. 5 абз. 4 term (the Rules set no lead time; a month leaves time to gather the documents).
pub const AGE16_REMINDER_DAYS: i64 = 30;

/// The day the recipient is reminded that a minor turns 16 (never before `today`).
pub fn age16_reminder_on(sixteenth_birthday: Date) -> Date {
    add_days(sixteenth_birthday, -AGE16_REMINDER_DAYS)
}

/// п. 22: a new PR application not earlier than one year after the refusal conclusion or the
/// annulment. The anniversary itself is allowed (reading favourable to the applicant).
pub const REAPPLICATION: Citation = Citation::new("п. 22");

pub fn reapplication_earliest(conclusion_on: Date) -> Date {
    add_years(conclusion_on, 1)
}

/// п. 20: the person leaves within 30 calendar days of the approval of the annulment conclusion.
pub const ANNULMENT_EXIT_DAYS: i64 = 30;
pub const ANNULMENT_EXIT: Citation = Citation::new("п. 20");
/// п. 21: an RVP for the time needed to leave.
pub const EXIT_RVP: Citation = Citation::new("п. 21");

/// The last day to leave after an annulment approved on `approved_on`: 30 calendar days, the
/// approval day not counted; a term ending on a day off ends on the next working day (the Civil
/// Code rule, read alike for every term set for the applicant: see [`applicant_term_end`]).
pub fn annulment_exit_by(cal: &WorkingCalendar, approved_on: Date) -> Result<Date, CalendarError> {
    applicant_term_end(cal, add_days(approved_on, ANNULMENT_EXIT_DAYS))
}

/// The one rule for a term set for the applicant that ends on `last_day`: when that day is a day
/// off, the term ends on the next working day (Civil Code art. 183 [SECONDARY]; used by the
/// age-16 term of п. 5 and the exit term of п. 20–21).
pub fn applicant_term_end(cal: &WorkingCalendar, last_day: Date) -> Result<Date, CalendarError> {
    cal.working_day_on_or_after(last_day)
}

/// п. 17: hearing before a refusal.
pub const HEARING: Citation = Citation::new("п. 17");
pub const HEARING_NOTICE_WORKING_DAYS: u32 = 3;
pub const HEARING_WITHIN_WORKING_DAYS: u32 = 2;

/// The latest day a hearing notice may go out for an act on `act_on`: at least three working
/// days must lie in (notice, act].
pub fn latest_hearing_notice(cal: &WorkingCalendar, act_on: Date) -> Result<Date, CalendarError> {
    cal.subtract_working_days(act_on, HEARING_NOTICE_WORKING_DAYS)
}

/// The earliest day the administrative act may be taken after a notice on `notice_on`.
pub fn earliest_act_after_notice(cal: &WorkingCalendar, notice_on: Date) -> Result<Date, CalendarError> {
    cal.add_working_days(notice_on, HEARING_NOTICE_WORKING_DAYS)
}

/// The last day the hearing may be held: two working days after the notice.
pub fn hearing_by(cal: &WorkingCalendar, notice_on: Date) -> Result<Date, CalendarError> {
    cal.add_working_days(notice_on, HEARING_WITHIN_WORKING_DAYS)
}

/// What is wrong with a hearing schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HearingViolation {
    HearingBeforeNotice,
    HearingTooLate { latest: Date },
    ActTooEarly { earliest: Date },
    ActBeforeHearing,
}

impl HearingViolation {
    pub fn code(self) -> &'static str {
        match self {
            HearingViolation::HearingBeforeNotice => "hearing_before_notice",
            HearingViolation::HearingTooLate { .. } => "hearing_too_late",
            HearingViolation::ActTooEarly { .. } => "act_too_early",
            HearingViolation::ActBeforeHearing => "act_before_hearing",
        }
    }
}

/// Checks a hearing scheduled on `hearing_on` after a notice on `notice_on`.
pub fn check_hearing_date(
    cal: &WorkingCalendar,
    notice_on: Date,
    hearing_on: Date,
) -> Result<Result<(), HearingViolation>, CalendarError> {
    if hearing_on < notice_on {
        return Ok(Err(HearingViolation::HearingBeforeNotice));
    }
    let latest = hearing_by(cal, notice_on)?;
    if hearing_on > latest {
        return Ok(Err(HearingViolation::HearingTooLate { latest }));
    }
    Ok(Ok(()))
}

/// Checks an act on `act_on` after a notice on `notice_on` and a hearing on `hearing_on`.
pub fn check_act_date(
    cal: &WorkingCalendar,
    notice_on: Date,
    hearing_on: Date,
    act_on: Date,
) -> Result<Result<(), HearingViolation>, CalendarError> {
    let earliest = earliest_act_after_notice(cal, notice_on)?;
    if act_on < earliest {
        return Ok(Err(HearingViolation::ActTooEarly { earliest }));
    }
    if act_on < hearing_on {
        return Ok(Err(HearingViolation::ActBeforeHearing));
    }
    Ok(Ok(()))
}

/// The stages of п. 14, in calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrStage {
    /// пп. 1: data into ИС МП, case file per adult, journal registration (App. 8): 2 days.
    Registration,
    /// пп. 2: the case to УМС ДП for approval: 5 days.
    SendToUms,
    /// пп. 3: bank, police, КПСиСУ and «Беркут» requests: 7 days.
    Requests,
    /// пп. 3 абз. 5: national security approval: within 25 days of the request.
    NationalSecurity,
    /// пп. 4: conclusion (App. 9) within 10 days after the last answer.
    Conclusion,
    /// пп. 5: written notification (App. 10) within 3 days.
    Notification,
}

impl PrStage {
    pub const ALL: [PrStage; 6] = [
        PrStage::Registration,
        PrStage::SendToUms,
        PrStage::Requests,
        PrStage::NationalSecurity,
        PrStage::Conclusion,
        PrStage::Notification,
    ];
    pub fn days(self) -> i64 {
        match self {
            PrStage::Registration => 2,
            PrStage::SendToUms => 5,
            PrStage::Requests => 7,
            PrStage::NationalSecurity => 25,
            PrStage::Conclusion => 10,
            PrStage::Notification => 3,
        }
    }
    pub fn citation(self) -> Citation {
        match self {
            PrStage::Registration => Citation::new("п. 14 пп. 1"),
            PrStage::SendToUms => Citation::new("п. 14 пп. 2"),
            PrStage::Requests => Citation::new("п. 14 пп. 3"),
            PrStage::NationalSecurity => Citation::new("п. 14 пп. 3 абз. 5"),
            PrStage::Conclusion => Citation::new("п. 14 пп. 4"),
            PrStage::Notification => Citation::new("п. 14 пп. 5"),
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            PrStage::Registration => "registration",
            PrStage::SendToUms => "send_to_ums",
            PrStage::Requests => "requests",
            PrStage::NationalSecurity => "national_security",
            PrStage::Conclusion => "conclusion",
            PrStage::Notification => "notification",
        }
    }
}

/// THE reading of п. 14 (see docs/interpretations.md): each stage term runs from the day its
/// starting event happened — stage 1 from acceptance, each later stage from the completion of
/// the one before it (national security from the day the «Беркут» request went out, the
/// conclusion from the last answer), that day not counted — and no stage may end after the
/// overall service term. `started_on` is the day of the starting event.
pub fn pr_stage_due(stage: PrStage, started_on: Date, service_due: Date) -> Date {
    add_days(started_on, stage.days()).min(service_due)
}

/// App. 3: the PR service term (60 calendar days, from the parameters) from acceptance.
pub const PR_TERM: Citation = Citation::new("App. 3 п. 3; п. 14");

pub fn pr_service_due(accepted_on: Date, term_days: u32) -> Date {
    add_days(accepted_on, i64::from(term_days))
}

/// п. 15: via a ЦОН the result must reach it at least one day before the term ends.
pub const CON_DELIVERY: Citation = Citation::new("п. 15 абз. 1");

pub fn con_delivery_due(service_due: Date) -> Date {
    add_days(service_due, -1)
}

/// п. 9-5: an outage delaying messages by more than one hour goes into the special journal.
pub const OUTAGE_JOURNAL: Citation = Citation::new("п. 9-5");

pub fn outage_must_be_journaled(delay: SignedDuration) -> bool {
    delay > SignedDuration::from_hours(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn cal() -> WorkingCalendar {
        WorkingCalendar::builtin().unwrap()
    }

    #[test]
    fn p5_age16_deadline_is_ten_calendar_days_after_the_birthday() {
        // 16th birthday Mon 2026-02-02 → 12 Feb (Thu) working.
        let a = age16(&cal(), date(2010, 2, 2)).unwrap();
        assert_eq!(a.sixteenth_birthday, date(2026, 2, 2));
        assert_eq!(a.apply_by, date(2026, 2, 12));
    }

    #[test]
    fn p5_age16_deadline_on_a_day_off_moves_to_the_next_working_day() {
        // 16th birthday 2026-03-11 → +10 = Sat 21 Mar (Nauryz) → next working day Thu 26 Mar.
        let a = age16(&cal(), date(2010, 3, 11)).unwrap();
        assert_eq!(a.apply_by, date(2026, 3, 26));
    }

    #[test]
    fn p5_age16_born_on_29_february_turns_16_on_28_february() {
        let a = age16(&cal(), date(2008, 2, 29)).unwrap();
        assert_eq!(a.sixteenth_birthday, date(2024, 2, 29)); // 2024 is a leap year
        assert_eq!(add_years(date(2008, 2, 29), 17), date(2025, 2, 28));
    }

    #[test]
    fn p22_reapplication_allowed_from_the_anniversary() {
        assert_eq!(reapplication_earliest(date(2025, 3, 10)), date(2026, 3, 10));
        assert_eq!(reapplication_earliest(date(2024, 2, 29)), date(2025, 2, 28));
    }

    #[test]
    fn p20_exit_within_thirty_calendar_days_of_approval() {
        let c = cal();
        assert_eq!(annulment_exit_by(&c, date(2026, 1, 10)).unwrap(), date(2026, 2, 9));
        assert_eq!(annulment_exit_by(&c, date(2025, 12, 20)).unwrap(), date(2026, 1, 19));
        // Day 30 is Sunday 8 March 2026 (a holiday), and 9 March its carry-over: Tuesday 10 March.
        assert_eq!(annulment_exit_by(&c, date(2026, 2, 6)).unwrap(), date(2026, 3, 10));
    }

    #[test]
    fn p17_notice_at_least_three_working_days_before_the_act() {
        let c = cal();
        // Act on Thu 2026-03-26: three working days back skips Nauryz (23–25 Mar) and the weekend.
        assert_eq!(latest_hearing_notice(&c, date(2026, 3, 26)).unwrap(), date(2026, 3, 18));
        assert_eq!(
            earliest_act_after_notice(&c, date(2026, 3, 18)).unwrap(),
            date(2026, 3, 26)
        );
        // Plain week: notice Mon 2 Feb 2026 → act from Thu 5 Feb, hearing by Wed 4 Feb.
        assert_eq!(
            earliest_act_after_notice(&c, date(2026, 2, 2)).unwrap(),
            date(2026, 2, 5)
        );
        assert_eq!(hearing_by(&c, date(2026, 2, 2)).unwrap(), date(2026, 2, 4));
    }

    #[test]
    fn p17_hearing_scheduled_too_late_is_a_violation() {
        let c = cal();
        assert_eq!(
            check_hearing_date(&c, date(2026, 2, 2), date(2026, 2, 4)).unwrap(),
            Ok(())
        );
        assert_eq!(
            check_hearing_date(&c, date(2026, 2, 2), date(2026, 2, 5)).unwrap(),
            Err(HearingViolation::HearingTooLate {
                latest: date(2026, 2, 4)
            })
        );
        assert_eq!(
            check_hearing_date(&c, date(2026, 2, 2), date(2026, 2, 1)).unwrap(),
            Err(HearingViolation::HearingBeforeNotice)
        );
        assert_eq!(
            check_act_date(&c, date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 4)).unwrap(),
            Err(HearingViolation::ActTooEarly {
                earliest: date(2026, 2, 5)
            })
        );
        assert_eq!(
            check_act_date(&c, date(2026, 2, 2), date(2026, 2, 3), date(2026, 2, 5)).unwrap(),
            Ok(())
        );
    }

    #[test]
    fn p14_stage_terms_run_from_their_starting_event_capped_by_the_service_term() {
        let accepted = date(2026, 1, 5);
        let due = pr_service_due(accepted, 60);
        assert_eq!(due, date(2026, 3, 6));
        assert_eq!(pr_stage_due(PrStage::Registration, accepted, due), date(2026, 1, 7));
        assert_eq!(
            pr_stage_due(PrStage::SendToUms, date(2026, 1, 7), due),
            date(2026, 1, 12)
        );
        assert_eq!(
            pr_stage_due(PrStage::NationalSecurity, date(2026, 1, 14), due),
            date(2026, 2, 8)
        );
        assert_eq!(pr_stage_due(PrStage::Conclusion, date(2026, 3, 1), due), due);
        let total: i64 = PrStage::ALL.iter().map(|s| s.days()).sum();
        assert_eq!(total, 52);
    }

    #[test]
    fn p15_con_result_due_a_day_before_the_term_ends() {
        assert_eq!(con_delivery_due(date(2026, 3, 6)), date(2026, 3, 5));
    }

    #[test]
    fn p9_5_only_delays_over_one_hour_are_journaled() {
        assert!(!outage_must_be_journaled(SignedDuration::from_mins(60)));
        assert!(outage_must_be_journaled(SignedDuration::from_mins(61)));
    }
}
