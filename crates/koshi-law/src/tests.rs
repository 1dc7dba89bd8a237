//! Table and property tests of the law core, named after what they check.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, date};
use proptest::prelude::*;

use crate::calendar::{CalendarError, DayStatus, WorkingCalendar, YearStatus};

pub(crate) fn cal() -> WorkingCalendar {
    static CAL: std::sync::OnceLock<WorkingCalendar> = std::sync::OnceLock::new();
    CAL.get_or_init(|| WorkingCalendar::builtin().unwrap()).clone()
}

pub(crate) fn dt(s: &str) -> DateTime {
    s.parse().unwrap()
}

// ------------------------------------------------------------------ calendar: tables

/// Every day off of 2024–2026 on a weekday, from legal-facts §6.3.
const DAYS_OFF: &[(&str, &str)] = &[
    ("2024-01-01", "holiday"),
    ("2024-01-02", "holiday"),
    ("2024-03-08", "holiday"),
    ("2024-03-21", "holiday"),
    ("2024-03-22", "holiday"),
    ("2024-03-25", "holiday_carry_over"),
    ("2024-05-01", "holiday"),
    ("2024-05-07", "holiday"),
    ("2024-05-08", "transferred_day_off"),
    ("2024-05-09", "holiday"),
    ("2024-07-08", "holiday_carry_over"),
    ("2024-08-30", "holiday"),
    ("2024-10-25", "holiday"),
    ("2024-12-16", "holiday"),
    ("2025-01-01", "holiday"),
    ("2025-01-02", "holiday"),
    ("2025-01-03", "transferred_day_off"),
    ("2025-01-07", "holiday"),
    ("2025-03-10", "holiday_carry_over"),
    ("2025-03-21", "holiday"),
    ("2025-03-24", "holiday_carry_over"),
    ("2025-03-25", "holiday_carry_over"),
    ("2025-05-01", "holiday"),
    ("2025-05-07", "holiday"),
    ("2025-05-09", "holiday"),
    ("2025-06-06", "holiday"),
    ("2025-07-07", "holiday_carry_over"),
    ("2025-09-01", "holiday_carry_over"),
    ("2025-10-27", "holiday_carry_over"),
    ("2025-12-16", "holiday"),
    ("2026-01-01", "holiday"),
    ("2026-01-02", "holiday"),
    ("2026-01-07", "holiday"),
    ("2026-03-09", "holiday_carry_over"),
    ("2026-03-23", "holiday"),
    ("2026-03-24", "holiday_carry_over"),
    ("2026-03-25", "holiday_carry_over"),
    ("2026-05-01", "holiday"),
    ("2026-05-07", "holiday"),
    ("2026-05-11", "holiday_carry_over"),
    ("2026-05-27", "holiday"),
    ("2026-07-06", "holiday"),
    ("2026-08-31", "holiday_carry_over"),
    ("2026-10-26", "holiday_carry_over"),
    ("2026-12-16", "holiday"),
];

#[test]
fn calendar_days_off_2024_to_2026_match_the_published_calendars() {
    let c = cal();
    for (d, code) in DAYS_OFF {
        let s = c.status(d.parse().unwrap()).unwrap();
        assert_eq!(s.code(), *code, "{d}");
    }
    // And no other weekday is off.
    let listed: BTreeSet<Date> = DAYS_OFF.iter().map(|(d, _)| d.parse().unwrap()).collect();
    let mut d = date(2024, 1, 1);
    while d <= date(2026, 12, 31) {
        let weekday = d.weekday().to_monday_one_offset() <= 5;
        let s = c.status(d).unwrap();
        if weekday && !listed.contains(&d) {
            assert!(s.is_working(), "{d} should be a working day, is {s:?}");
        }
        d = d.tomorrow().unwrap();
    }
}

#[test]
fn calendar_working_days_per_year_match_the_official_count() {
    // pobipb.kz: 246 working days in 2025 in the five-day week.
    let c = cal();
    assert_eq!(
        c.working_days_between(date(2024, 12, 31), date(2025, 12, 31)).unwrap(),
        246
    );
}

#[test]
fn calendar_transfers_make_weekends_working() {
    let c = cal();
    assert_eq!(c.status(date(2024, 5, 4)).unwrap().code(), "working_by_transfer");
    assert_eq!(c.status(date(2025, 1, 5)).unwrap().code(), "working_by_transfer");
}

#[test]
fn calendar_religious_days_on_weekends_are_not_carried_over() {
    let c = cal();
    // 7 January 2024 was a Sunday; Kurban Ait 2024 fell on Sunday 16 June.
    assert_eq!(c.status(date(2024, 1, 7)).unwrap().code(), "holiday");
    assert!(c.is_working(date(2024, 1, 8)).unwrap());
    assert_eq!(c.status(date(2024, 6, 16)).unwrap().code(), "holiday");
    assert!(c.is_working(date(2024, 6, 17)).unwrap());
}

#[test]
fn calendar_years_past_the_data_are_derived_and_say_so() {
    let c = cal();
    assert_eq!(c.year_status(2026), Some(YearStatus::Official));
    assert_eq!(c.year_status(2027), Some(YearStatus::Expected));
    assert_eq!(c.year_status(2028), Some(YearStatus::Provisional));
    assert_eq!(c.year_status(2150), Some(YearStatus::Provisional));
    assert_eq!(c.year_status(2023), None);
    // Past years are never derived: the statute changed (Republic Day, Independence Day).
    let e = c.is_working(date(2023, 12, 29)).unwrap_err();
    assert_eq!(e.code(), "calendar_year_not_covered");
    assert!(c.basis(2027).starts_with("working calendar 2027: expected"));
    assert!(c.basis(2031).contains("Law No. 267-II"));
}

#[test]
fn calendar_2027_is_the_statutory_derivation_of_legal_facts() {
    // legal-facts §6.3, 2027 [DERIVED]: every weekday off, and 247 working days.
    let c = cal();
    let off = [
        ("2027-01-01", "holiday"),
        ("2027-01-04", "holiday_carry_over"),
        ("2027-01-07", "holiday"),
        ("2027-03-08", "holiday"),
        ("2027-03-22", "holiday"),
        ("2027-03-23", "holiday"),
        ("2027-03-24", "holiday_carry_over"),
        ("2027-05-03", "holiday_carry_over"),
        ("2027-05-07", "holiday"),
        ("2027-05-10", "holiday_carry_over"),
        ("2027-07-06", "holiday"),
        ("2027-08-30", "holiday"),
        ("2027-10-25", "holiday"),
        ("2027-12-16", "holiday"),
    ];
    for (d, code) in off {
        assert_eq!(c.status(d.parse().unwrap()).unwrap().code(), code, "{d}");
    }
    let weekday_offs = c
        .non_working_days(date(2027, 1, 1), date(2027, 12, 31))
        .unwrap()
        .into_iter()
        .filter(|(d, _)| d.weekday().to_monday_one_offset() <= 5)
        .count();
    assert_eq!(weekday_offs, off.len());
    assert_eq!(
        c.working_days_between(date(2026, 12, 31), date(2027, 12, 31)).unwrap(),
        247
    );
    // Kurban Ait is expected on Sunday 16 May: no day off either way.
    assert_eq!(c.status(date(2027, 5, 16)).unwrap().code(), "holiday");
    assert!(c.is_working(date(2027, 5, 17)).unwrap());
}

#[test]
fn deadline_into_2027_is_accepted_and_expected() {
    // The CLI contract: filed 30 December 2026 after hours, one working day.
    let d = cal().deadline(dt("2026-12-30T19:00"), 1).unwrap();
    assert_eq!(d.accepted_on, date(2026, 12, 31));
    assert_eq!(d.due_on, date(2027, 1, 5));
    assert_eq!(d.calendar_status, YearStatus::Expected);
    // Entirely within an official year.
    assert_eq!(
        cal().deadline(dt("2026-12-01T10:00"), 1).unwrap().calendar_status,
        YearStatus::Official
    );
    // A term falling in 2029 is provisional.
    let p = cal().deadline(dt("2029-03-20T10:00"), 1).unwrap();
    assert_eq!(p.calendar_status, YearStatus::Provisional);
    // 21 March 2029 (Wednesday) is Nauryz: due the next working day after 23 March.
    assert_eq!(p.due_on, date(2029, 3, 26));
}

const OFFICIAL_2027: &str = r#"
schema = 1

[[year]]
year = 2027
status = "official"
kurban_ait = "2027-05-17"
source = "test: production calendar 2027"

[[year.transfer]]
work_on = "2027-01-09"
off_on = "2027-01-08"
basis = "test: order of the Minister of Labour"
"#;

#[test]
fn loading_an_official_year_replaces_the_expected_one() {
    let c = cal();
    let years = WorkingCalendar::parse_year_file(OFFICIAL_2027).unwrap();
    let c2 = c.with_years(&years).unwrap();
    assert_eq!(c2.year_status(2027), Some(YearStatus::Official));
    assert_eq!(c2.status(date(2027, 1, 8)).unwrap().code(), "transferred_day_off");
    assert_eq!(c2.status(date(2027, 1, 9)).unwrap().code(), "working_by_transfer");
    assert_eq!(c2.status(date(2027, 5, 17)).unwrap().code(), "holiday");
    let d = c2.deadline(dt("2027-01-07T10:00"), 1).unwrap();
    // 7 January is a holiday; accepted on 8 January? No: the 8th is given off, the 9th worked.
    assert_eq!(d.accepted_on, date(2027, 1, 9));
    assert_eq!(d.due_on, date(2027, 1, 11));
    assert_eq!(d.calendar_status, YearStatus::Official);
    // The other years are untouched; an official year cannot be replaced by expected data.
    assert_eq!(c2.year_status(2026), Some(YearStatus::Official));
    let back = WorkingCalendar::parse_year_file(&OFFICIAL_2027.replace("\"official\"", "\"expected\"")).unwrap();
    let e = c2.with_years(&back).unwrap_err();
    assert!(e.message.contains("already official"), "{e}");
    // A year before the data is refused, never derived.
    let past = WorkingCalendar::parse_year_file(&OFFICIAL_2027.replace("2027", "2023")).unwrap();
    assert!(
        c.with_years(&past)
            .unwrap_err()
            .message
            .contains("before the calendar's first year")
    );
}

#[test]
fn year_files_are_refused_with_the_line() {
    let cases: &[(&str, &str, &str, usize)] = &[
        (
            "status = \"official\"",
            "status = \"final\"",
            "not one of official, expected",
            6,
        ),
        (
            "status = \"official\"",
            "status = \"provisional\"",
            "derived, never declared",
            6,
        ),
        (
            "kurban_ait = \"2027-05-17\"",
            "kurban_ait = \"2026-05-17\"",
            "is not in 2027",
            7,
        ),
        ("kurban_ait = \"2027-05-17\"\n", "", "needs its kurban_ait", 5),
        (
            "off_on = \"2027-01-08\"",
            "off_on = \"2027-01-10\"",
            "not an ordinary working day",
            12,
        ),
        (
            "work_on = \"2027-01-09\"",
            "work_on = \"2027-01-11\"",
            "not an ordinary weekend",
            11,
        ),
        (
            "kurban_ait = \"2027-05-17\"",
            "kurban_ait = \"2027-05-09\"",
            "coincides with Victory Day",
            7,
        ),
        ("schema = 1", "schema = 2", "unsupported schema", 2),
        ("[[year]]", "bogus = 1\n[[year]]", "unknown field", 4),
    ];
    for (from, to, needle, line) in cases {
        assert!(OFFICIAL_2027.contains(from), "{from}");
        let bad = OFFICIAL_2027.replacen(from, to, 1);
        let e = WorkingCalendar::parse_year_file(&bad)
            .and_then(|y| cal().with_years(&y))
            .unwrap_err();
        assert!(e.message.contains(needle), "{from} → {to}: {e}");
        assert_eq!(e.line, *line, "{from} → {to}: {e}");
    }
}

#[test]
fn p8_deadline_example_from_the_issue() {
    // Filed 2025-12-31 19:00, one working day: accepted 5 January, due 6 January.
    let d = cal().deadline(dt("2025-12-31T19:00"), 1).unwrap();
    assert_eq!(d.accepted_on, date(2026, 1, 5));
    assert_eq!(d.due_on, date(2026, 1, 6));
}

#[test]
fn p8_service_clock_table() {
    let c = cal();
    let cases = [
        // (filed, accepted_on, due_on after 1 working day)
        ("2026-02-02T08:00", "2026-02-02", "2026-02-03"), // before hours on a working day: that day
        ("2026-02-02T13:30", "2026-02-02", "2026-02-03"), // lunch is still the working day
        ("2026-02-02T18:29", "2026-02-02", "2026-02-03"),
        ("2026-02-02T18:30", "2026-02-03", "2026-02-04"), // 18:30 is the end of working time
        ("2026-02-06T20:00", "2026-02-09", "2026-02-10"), // Friday evening → Monday
        ("2026-02-07T10:00", "2026-02-09", "2026-02-10"), // Saturday
        ("2026-03-20T17:00", "2026-03-20", "2026-03-26"), // Nauryz 2026 and its carry-overs
        ("2024-05-04T10:00", "2024-05-04", "2024-05-06"), // a Saturday worked by transfer
        ("2024-05-07T10:00", "2024-05-10", "2024-05-13"), // 7, 8 (transfer), 9 May off
        ("2025-01-03T10:00", "2025-01-05", "2025-01-06"), // 3 Jan off, Sunday 5 Jan worked
    ];
    for (filed, acc, due) in cases {
        let d = c.deadline(dt(filed), 1).unwrap();
        assert_eq!(
            (d.accepted_on.to_string(), d.due_on.to_string()),
            (acc.to_string(), due.to_string()),
            "{filed}"
        );
    }
}

#[test]
fn calendar_bad_files_are_refused_with_the_line() {
    let good = crate::calendar::BUILTIN_CALENDAR;
    let cases: &[(&str, &str, &str)] = &[
        (
            "kurban_ait = \"2025-06-06\"",
            "kurban_ait = \"2025-13-06\"",
            "is not a date",
        ),
        (
            "kurban_ait = \"2026-05-27\"",
            "kurban_ait = \"2025-05-27\"",
            "is not in 2026",
        ),
        (
            "work_on = \"2024-05-04\"",
            "work_on = \"2024-05-06\"",
            "not an ordinary weekend",
        ),
        (
            "off_on = \"2025-01-03\"",
            "off_on = \"2025-01-04\"",
            "not an ordinary working day",
        ),
        ("date = \"03-08\"", "date = \"02-30\"", "not a valid MM-DD"),
        (
            "kind = \"religious\"\ncarry_over = false",
            "kind = \"religious\"\ncarry_over = true",
            "never carried over",
        ),
        (
            "year = 2026\nstatus = \"official\"\nkurban_ait = \"2026-05-27\"",
            "year = 2025\nstatus = \"official\"\nkurban_ait = \"2025-06-06\"",
            "declared twice",
        ),
        (
            "work = [\"09:00\", \"18:30\"]",
            "work = [\"18:30\", \"09:00\"]",
            "end before",
        ),
        ("schema = 1", "schema = 1\nbogus = 3", "unknown field"),
    ];
    for (from, to, needle) in cases {
        assert!(good.contains(from), "fixture text {from:?} not in the calendar");
        let bad = good.replacen(from, to, 1);
        let err = WorkingCalendar::from_toml(&bad).unwrap_err();
        assert!(err.message.contains(needle), "{from} → {to}: {err}");
        let expected_line = bad[..bad.rfind(to).unwrap()].matches('\n').count() + 1;
        let to_lines = to.matches('\n').count();
        assert!(
            (expected_line..=expected_line + to_lines + 1).contains(&err.line),
            "{from} → {to}: line {} not near {expected_line}",
            err.line
        );
    }
    let broken = WorkingCalendar::from_toml("schema = 1\ntime_zone = \"Asia/Almaty\"\n[hours\n").unwrap_err();
    assert_eq!(broken.line, 3);
}

#[test]
fn calendar_time_zone_is_utc_plus_five_since_march_2024() {
    let c = cal();
    let t: jiff::Timestamp = "2026-01-05T04:00:00Z".parse().unwrap();
    assert_eq!(c.civil(t), dt("2026-01-05T09:00"));
    let before: jiff::Timestamp = "2024-02-01T04:00:00Z".parse().unwrap();
    assert_eq!(c.civil(before), dt("2024-02-01T10:00"));
}

// ------------------------------------------------------------------ calendar: properties

fn covered_date() -> impl Strategy<Value = Date> {
    (0i64..(365 * 3 - 40)).prop_map(|n| date(2024, 1, 1).checked_add(jiff::Span::new().days(n)).unwrap())
}

fn filing_instant_2024_to_2035() -> impl Strategy<Value = DateTime> {
    (0i64..(12 * 365 * 24 * 60)).prop_map(|m| {
        dt("2024-01-01T00:00")
            .checked_add(jiff::Span::new().minutes(m))
            .unwrap()
    })
}

proptest! {
    /// Any filing from 2024 to 2035 gets an acceptance day and a due date on working days, with
    /// the calendar status of the years read: never an error about the calendar.
    #[test]
    fn any_filing_2024_to_2035_has_a_working_due_date(filed in filing_instant_2024_to_2035(), n in 0u32..10) {
        let c = cal();
        let d = c.deadline(filed, n).unwrap();
        prop_assert!(c.is_working(d.accepted_on).unwrap());
        prop_assert!(c.is_working(d.due_on).unwrap());
        prop_assert_eq!(c.working_days_between(d.accepted_on, d.due_on).unwrap(), i64::from(n));
        let expected = if d.due_on.year() <= 2026 { YearStatus::Official }
            else if d.due_on.year() == 2027 { YearStatus::Expected } else { YearStatus::Provisional };
        prop_assert_eq!(d.calendar_status, expected);
    }

    #[test]
    fn adding_n_working_days_then_counting_gives_n(d in covered_date(), n in 0u32..60) {
        let c = cal();
        if let Ok(r) = c.add_working_days(d, n) {
            prop_assert_eq!(c.working_days_between(d, r).unwrap(), i64::from(n));
            if n > 0 {
                prop_assert!(c.is_working(r).unwrap());
                prop_assert!(r > d);
            }
        }
    }

    #[test]
    fn subtract_inverts_add(d in covered_date(), n in 1u32..30) {
        let c = cal();
        let w = c.working_day_on_or_after(d).unwrap();
        if let Ok(r) = c.add_working_days(w, n) {
            prop_assert_eq!(c.subtract_working_days(r, n).unwrap(), w);
        }
    }

    #[test]
    fn deadlines_are_working_days_and_monotone_in_filing_time(
        d in covered_date(), h1 in 0i8..24, m1 in 0i8..60, gap_minutes in 0i64..(5 * 24 * 60), n in 0u32..10,
    ) {
        let c = cal();
        let a = d.at(h1, m1, 0, 0);
        let b = a.checked_add(jiff::Span::new().minutes(gap_minutes)).unwrap();
        if let (Ok(x), Ok(y)) = (c.deadline(a, n), c.deadline(b, n)) {
            prop_assert!(c.is_working(x.accepted_on).unwrap());
            prop_assert!(c.is_working(x.due_on).unwrap());
            prop_assert!(x.accepted_on >= a.date());
            prop_assert!(x.due_on >= x.accepted_on);
            prop_assert!(y.accepted_on >= x.accepted_on);
            prop_assert!(y.due_on >= x.due_on);
        }
    }

    #[test]
    fn weekends_are_never_working_unless_transferred(d in covered_date()) {
        let c = cal();
        let s = c.status(d).unwrap();
        if d.weekday().to_monday_one_offset() > 5 {
            let transferred = matches!(s, DayStatus::WorkingByTransfer { .. });
            prop_assert!(!s.is_working() || transferred);
        }
    }
}

#[test]
fn calendar_errors_name_the_year() {
    let e = cal().status(date(2023, 1, 1)).unwrap_err();
    assert!(matches!(
        e,
        CalendarError::NotCovered {
            first_year: 2024,
            last_year: 2199,
            ..
        }
    ));
    assert!(e.to_string().contains("2024–2199"));
}
