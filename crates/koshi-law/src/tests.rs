//! Table and property tests of the law core, named after what they check.

use std::collections::BTreeSet;

use jiff::civil::{Date, DateTime, date};
use proptest::prelude::*;

use crate::calendar::{CalendarError, DayStatus, WorkingCalendar, YearStatus};
use crate::requirements::{Channel, Package, PartyKind, Requirements, SubmittedDocument, inviting_party_allowed};
use crate::rvp::{self, Check, Finding, LateException, RvpDecision};
use crate::{Law, terms};

fn cal() -> WorkingCalendar {
    static CAL: std::sync::OnceLock<WorkingCalendar> = std::sync::OnceLock::new();
    CAL.get_or_init(|| WorkingCalendar::builtin().unwrap()).clone()
}

fn dt(s: &str) -> DateTime {
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

// ------------------------------------------------------------------ requirements and intake

fn facts(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn doc(kind: &str, expires: Option<Date>) -> SubmittedDocument {
    SubmittedDocument {
        kind: kind.into(),
        issued_on: Some(date(2025, 12, 1)),
        expires_on: expires,
        has_electronic_copy: true,
    }
}

fn full_rvp_package(purpose: &str) -> Vec<SubmittedDocument> {
    let law = Law::builtin().unwrap();
    let p = law.requirements.purpose(purpose).unwrap();
    let mut docs: Vec<_> = [
        "application_form",
        "identity_document",
        "health_insurance",
        "fingerprint_certificate",
    ]
    .iter()
    .map(|k| doc(k, Some(date(2030, 1, 1))))
    .collect();
    for d in &p.documents {
        docs.push(doc(&d.kind, Some(date(2027, 6, 1))));
    }
    docs
}

#[test]
fn p6_every_purpose_accepts_its_full_package_at_the_desk() {
    let law = Law::builtin().unwrap();
    let none = BTreeSet::new();
    for p in &law.requirements.purposes {
        let docs = full_rvp_package(&p.id);
        let f = facts(&[]);
        let pkg = Package {
            channel: Channel::PoliceDesk,
            filed_on: date(2026, 2, 2),
            facts: &f,
            documents: &docs,
            integrated_registries: &none,
        };
        assert_eq!(law.requirements.check_rvp_package(p, &pkg), vec![], "{}", p.id);
    }
}

#[test]
fn p6_incomplete_package_is_refused_naming_each_missing_document() {
    let law = Law::builtin().unwrap();
    let p = law.requirements.purpose("labour_household").unwrap();
    let mut docs = full_rvp_package("labour_household");
    docs.retain(|d| d.kind != "household_worker_permit" && d.kind != "health_insurance");
    let f = facts(&["host_not_owner"]);
    let none = BTreeSet::new();
    let pkg = Package {
        channel: Channel::PoliceDesk,
        filed_on: date(2026, 2, 2),
        facts: &f,
        documents: &docs,
        integrated_registries: &none,
    };
    let grounds = law.requirements.check_rvp_package(p, &pkg);
    let missing: Vec<_> = grounds.iter().map(|g| (g.code, g.document.as_str())).collect();
    assert_eq!(
        missing,
        vec![
            ("missing_document", "health_insurance"),
            ("missing_document", "housing_consent"),
            ("missing_document", "household_worker_permit")
        ]
    );
    assert!(grounds[0].citation.as_str().starts_with("п. 6"));
}

#[test]
fn p6_expired_document_is_refused_and_eaeu_citizens_need_no_insurance() {
    let law = Law::builtin().unwrap();
    let p = law.requirements.purpose("labour_contract").unwrap();
    let mut docs = full_rvp_package("labour_contract");
    docs.retain(|d| d.kind != "health_insurance");
    for d in docs.iter_mut().filter(|d| d.kind == "employment_contract") {
        d.expires_on = Some(date(2026, 2, 1));
    }
    let f = facts(&["eaeu_citizen"]);
    let none = BTreeSet::new();
    let pkg = Package {
        channel: Channel::Con,
        filed_on: date(2026, 2, 2),
        facts: &f,
        documents: &docs,
        integrated_registries: &none,
    };
    let grounds = law.requirements.check_rvp_package(p, &pkg);
    assert_eq!(grounds.len(), 1);
    assert_eq!(grounds[0].code, "expired_document");
    // A document expiring on the filing day is still valid that day.
    let mut docs2 = docs.clone();
    for d in docs2.iter_mut().filter(|d| d.kind == "employment_contract") {
        d.expires_on = Some(date(2026, 2, 2));
    }
    let pkg = Package {
        documents: &docs2,
        ..pkg
    };
    assert_eq!(law.requirements.check_rvp_package(p, &pkg), vec![]);
}

#[test]
fn p5_p8_channels_differ_portal_needs_copies_and_integrated_data_replaces_documents() {
    let law = Law::builtin().unwrap();
    let p = law.requirements.purpose("education").unwrap();
    let mut docs = full_rvp_package("education");
    docs.retain(|d| d.kind != "fingerprint_certificate");
    docs[0].has_electronic_copy = false;
    let f = facts(&[]);
    let integrated = facts(&["fingerprints"]);
    let none = BTreeSet::new();
    let portal = Package {
        channel: Channel::Portal,
        filed_on: date(2026, 2, 2),
        facts: &f,
        documents: &docs,
        integrated_registries: &integrated,
    };
    let g = law.requirements.check_rvp_package(p, &portal);
    assert_eq!(
        g.iter().map(|g| g.code).collect::<Vec<_>>(),
        vec!["missing_electronic_copy"]
    );
    // At the desk the fingerprint certificate is asked for, copies are not.
    let desk = Package {
        channel: Channel::PoliceDesk,
        integrated_registries: &none,
        ..portal.clone()
    };
    let g = law.requirements.check_rvp_package(p, &desk);
    assert_eq!(
        g.iter().map(|g| (g.code, g.document.as_str())).collect::<Vec<_>>(),
        vec![("missing_document", "fingerprint_certificate")]
    );
    // No representative on the portal.
    let rep = facts(&["filed_by_representative"]);
    let portal_rep = Package { facts: &rep, ..portal };
    assert!(
        law.requirements
            .check_rvp_package(p, &portal_rep)
            .iter()
            .any(|g| g.code == "representative_not_allowed")
    );
}

#[test]
fn p12_pr_passport_must_be_valid_over_180_days_and_certificates_under_180_days_old() {
    let law = Law::builtin().unwrap();
    let filed = date(2026, 2, 2);
    let base: Vec<SubmittedDocument> = law
        .requirements
        .pr_common
        .iter()
        .filter(|r| r.when.is_empty())
        .map(|r| SubmittedDocument {
            kind: r.kind.clone(),
            issued_on: Some(date(2026, 1, 10)),
            expires_on: Some(date(2030, 1, 1)),
            has_electronic_copy: true,
        })
        .collect();
    let f = facts(&[]);
    let none = BTreeSet::new();
    let pkg = Package {
        channel: Channel::PoliceDesk,
        filed_on: filed,
        facts: &f,
        documents: &base,
        integrated_registries: &none,
    };
    assert_eq!(law.requirements.check_pr_package(&pkg), vec![]);

    let mut short = base.clone();
    for d in short.iter_mut().filter(|d| d.kind == "identity_document") {
        d.expires_on = Some(terms::add_days(filed, 180)); // exactly 180 days left: not enough
    }
    let g = law.requirements.check_pr_package(&Package {
        documents: &short,
        ..pkg.clone()
    });
    assert_eq!(g.iter().map(|g| g.code).collect::<Vec<_>>(), vec!["validity_too_short"]);
    for d in short.iter_mut().filter(|d| d.kind == "identity_document") {
        d.expires_on = Some(terms::add_days(filed, 181));
    }
    assert_eq!(
        law.requirements.check_pr_package(&Package {
            documents: &short,
            ..pkg.clone()
        }),
        vec![]
    );

    let mut old = base.clone();
    for d in old.iter_mut().filter(|d| d.kind == "solvency_certificate") {
        d.issued_on = Some(terms::add_days(filed, -181));
    }
    let g = law.requirements.check_pr_package(&Package {
        documents: &old,
        ..pkg.clone()
    });
    assert_eq!(
        g.iter().map(|g| (g.code, g.document.as_str())).collect::<Vec<_>>(),
        vec![("document_too_old", "solvency_certificate")]
    );
    for d in old.iter_mut().filter(|d| d.kind == "solvency_certificate") {
        d.issued_on = Some(terms::add_days(filed, -180));
    }
    assert_eq!(
        law.requirements.check_pr_package(&Package {
            documents: &old,
            ..pkg.clone()
        }),
        vec![]
    );
    // Via a ЦОН the refusal cites п. 13 (App. 7).
    let con = Package {
        channel: Channel::Con,
        documents: &[],
        ..pkg
    };
    assert!(
        law.requirements
            .check_pr_package(&con)
            .iter()
            .all(|g| g.citation.as_str().starts_with("п. 13"))
    );
}

#[test]
fn p11_pr_grounds_are_the_six_of_the_rules() {
    let law = Law::builtin().unwrap();
    let ids: Vec<_> = law.requirements.pr_grounds.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pr_visa",
            "investor_visa",
            "in_demand_profession_visa",
            "visa_free_state",
            "refugee",
            "ethnic_kazakh"
        ]
    );
}

#[test]
fn p4_inviting_party_table() {
    let law = Law::builtin().unwrap();
    let r = &law.requirements;
    let cases = [
        ("family_reunification", PartyKind::Citizen, true, true),
        ("family_reunification", PartyKind::LegalEntity, true, false),
        ("labour_household", PartyKind::Citizen, true, true),
        ("labour_household", PartyKind::LegalEntity, true, false),
        ("education", PartyKind::EducationalOrganisation, true, true),
        ("education", PartyKind::Citizen, true, false),
        ("aifc_investment_resident", PartyKind::AifcAdministration, true, true),
        ("aifc_investment_resident", PartyKind::AifcAdministration, false, false),
        ("aifc_investment_resident", PartyKind::LegalEntity, true, false),
        ("trafficking_victim", PartyKind::LocalExecutiveBody, false, true),
        ("trafficking_victim", PartyKind::Citizen, false, false),
        ("business_immigrant", PartyKind::LocalExecutiveBody, false, true),
        ("missionary", PartyKind::ReligiousOrganisation, false, true),
        ("medical_treatment", PartyKind::HealthOrganisation, false, true),
    ];
    for (purpose, party, visa_free, ok) in cases {
        let p = r.purpose(purpose).unwrap();
        assert_eq!(
            inviting_party_allowed(p, party, visa_free).is_ok(),
            ok,
            "{purpose} {party:?} {visa_free}"
        );
    }
}

// ------------------------------------------------------------------ checks and decision

#[test]
fn p9_1_each_ground_refuses_with_its_citation() {
    let clear: Vec<(Check, Finding)> = Check::ALL.iter().map(|c| (*c, Finding::Clear)).collect();
    assert!(matches!(rvp::decide(&clear), RvpDecision::Issue { .. }));
    let grounds = [
        (
            Check::BorderCrossings,
            rvp::judge_border(&rvp::BorderFacts {
                lawful_entry_recorded: false,
            }),
            "п. 9-1 пп. 2",
        ),
        (
            Check::Records,
            rvp::judge_records(&rvp::RecordFacts {
                wanted: true,
                ..Default::default()
            }),
            "п. 9-1 пп. 3",
        ),
        (Check::Iin, rvp::judge_iin(2, 1), "п. 9-1 пп. 4"),
        (
            Check::HouseholdQuota,
            rvp::judge_household_quota(true, 3, Some(3)),
            "п. 9-1 пп. 5",
        ),
        (Check::PendingPr, rvp::judge_pending_pr(true), "п. 9-1 пп. 6"),
        (Check::Fingerprints, rvp::judge_fingerprints(false), "п. 9-1 пп. 7"),
    ];
    for (check, finding, cite) in grounds {
        let mut f = clear.clone();
        f.retain(|(c, _)| *c != check);
        f.push((check, finding));
        match rvp::decide(&f) {
            RvpDecision::Refuse { grounds } => {
                assert_eq!(grounds.len(), 1);
                assert!(grounds[0].3.as_str().contains(cite), "{:?}", grounds[0]);
                assert!(grounds[0].3.as_str().contains("п. 9-3"));
            }
            other => panic!("{check:?}: {other:?}"),
        }
    }
}

#[test]
fn p9_1_sub5_household_quota_refuses_at_the_limit_and_waits_without_one() {
    assert_eq!(rvp::judge_household_quota(true, 2, Some(3)), Finding::Clear);
    assert!(matches!(
        rvp::judge_household_quota(true, 3, Some(3)),
        Finding::Ground {
            code: "household_limit_reached",
            ..
        }
    ));
    assert!(matches!(
        rvp::judge_household_quota(true, 0, None),
        Finding::Officer { .. }
    ));
    assert_eq!(rvp::judge_household_quota(false, 99, Some(1)), Finding::Clear);
}

#[test]
fn p9_1_a_missing_check_never_issues() {
    let partial: Vec<(Check, Finding)> = Check::ALL[..6].iter().map(|c| (*c, Finding::Clear)).collect();
    assert!(matches!(rvp::decide(&partial), RvpDecision::Officer { .. }));
}

#[test]
fn p9_1_late_application_exceptions() {
    let stay = date(2026, 2, 10);
    assert_eq!(rvp::late_application(stay, date(2026, 2, 10), None), Ok(None));
    assert_eq!(
        rvp::late_application(stay, date(2026, 2, 11), None).unwrap_err().0,
        "stay_expired"
    );
    let act = LateException::OutageAct {
        act_number: "A-1".into(),
        failure_on: date(2026, 2, 9),
    };
    assert!(
        rvp::late_application(stay, date(2026, 2, 13), Some(&act))
            .unwrap()
            .is_some()
    );
    let late_act = LateException::OutageAct {
        act_number: "A-2".into(),
        failure_on: date(2026, 2, 12),
    };
    assert_eq!(
        rvp::late_application(stay, date(2026, 2, 13), Some(&late_act))
            .unwrap_err()
            .0,
        "outage_after_stay_expired"
    );
    // Art. 517: the decision's days agree with its date; neither they nor the overstay at
    // filing exceed ten days (the stay ended 10 February).
    let fine = |number: &str, on: jiff::civil::Date, days: u32| LateException::Art517Fine {
        decision_number: number.into(),
        decision_date: on,
        overstay_days: days,
    };
    let code = |e: &LateException, filed| rvp::late_application(stay, filed, Some(e)).map_err(|e| e.0);
    assert!(
        code(&fine("517-1", date(2026, 2, 20), 10), date(2026, 2, 20))
            .unwrap()
            .is_some()
    );
    assert!(
        code(&fine("517-1", date(2026, 2, 15), 5), date(2026, 2, 19))
            .unwrap()
            .is_some()
    );
    let cases = [
        (
            fine("517-1", date(2026, 2, 21), 11),
            date(2026, 2, 21),
            "overstay_over_ten_days",
        ),
        (
            fine("517-1", date(2026, 2, 15), 8),
            date(2026, 2, 19),
            "art517_disagrees_with_dates",
        ),
        (
            fine("517-1", date(2026, 2, 15), 5),
            date(2026, 2, 22),
            "overstay_over_ten_days",
        ),
        (
            fine(" ", date(2026, 2, 15), 5),
            date(2026, 2, 19),
            "art517_decision_required",
        ),
        (
            fine("517-1", date(2026, 2, 10), 0),
            date(2026, 2, 19),
            "art517_decision_dates",
        ),
        (
            fine("517-1", date(2026, 2, 20), 10),
            date(2026, 2, 19),
            "art517_decision_dates",
        ),
    ];
    for (f, filed, expected) in cases {
        assert_eq!(code(&f, filed), Err(expected), "{f:?} filed {filed}");
    }
}

#[test]
fn rvp_validity_never_beyond_passport_or_basis() {
    let law = Law::builtin().unwrap();
    let labour = law.requirements.purpose("labour_leb_permit").unwrap();
    let issued = date(2026, 2, 2);
    // Purpose cap: one year.
    let v = rvp::validity(labour, issued, Some(date(2030, 1, 1)), Some(date(2028, 1, 1)), None).unwrap();
    assert_eq!(v.valid_until, date(2027, 2, 2));
    assert_eq!(v.bounds[0].0, "purpose_max_term");
    // Basis document ends earlier.
    let v = rvp::validity(labour, issued, Some(date(2030, 1, 1)), Some(date(2026, 9, 30)), None).unwrap();
    assert_eq!((v.valid_until, v.bounds[0].0), (date(2026, 9, 30), "basis_document"));
    // Passport ends earlier still.
    let v = rvp::validity(labour, issued, Some(date(2026, 6, 1)), Some(date(2026, 9, 30)), None).unwrap();
    assert_eq!((v.valid_until, v.bounds[0].0), (date(2026, 6, 1), "passport"));
    // A purpose with no settled term and no basis end goes to an officer.
    let missionary = law.requirements.purpose("missionary").unwrap();
    assert_eq!(
        rvp::validity(missionary, issued, Some(date(2030, 1, 1)), None, None),
        Err(rvp::ValidityError::NoSettledTerm)
    );
    let v = rvp::validity(missionary, issued, Some(date(2030, 1, 1)), Some(date(2027, 5, 1)), None).unwrap();
    assert_eq!(v.valid_until, date(2027, 5, 1));
    // Intra-corporate transfer: three years at most.
    let ict = law.requirements.purpose("intra_corporate_transfer").unwrap();
    let v = rvp::validity(ict, issued, Some(date(2035, 1, 1)), Some(date(2034, 1, 1)), None).unwrap();
    assert_eq!(v.valid_until, date(2029, 2, 2));
}

#[test]
fn p21_exit_rvp_runs_to_the_exit_deadline() {
    // Day 30 is Friday 1 May 2026, Unity Day: the exit RVP runs to Monday 4 May.
    let v = rvp::exit_rvp(&cal(), date(2026, 4, 1)).unwrap();
    assert_eq!(v.valid_until, date(2026, 5, 4));
}

#[test]
fn rules_catalogue_ids_are_unique_and_cite_something() {
    let mut seen = BTreeSet::new();
    for r in crate::rules::RULES {
        assert!(seen.insert(r.id), "{}", r.id);
        assert!(!r.citation.is_empty() && !r.summary.is_empty());
    }
}

#[test]
fn shipped_data_loads() {
    let law = Law::builtin().unwrap();
    assert_eq!(law.calendar.covered_years(), (2024, 2199));
    assert!(law.params.household_limit_per_employer.is_none());
    assert_eq!(law.params.pr_service_term_days, 60);
    let r = Requirements::builtin().unwrap();
    for p in &r.purposes {
        for d in &p.documents {
            assert!(r.document(&d.kind).is_some());
        }
    }
}
