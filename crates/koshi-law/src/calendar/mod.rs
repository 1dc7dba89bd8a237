//! The Kazakhstan working calendar, built from dated data (`data/calendar.toml`).
//!
//! Every covered day is classified once at load time; afterwards every question (is it a working
//! day, add N working days, count between two dates) is an array lookup. Dates outside the
//! years the data holds are official or expected; any later year, up to [`LAST_DERIVED_YEAR`], is
//! derived from the statutory holidays as provisional, so that the service never stops for want
//! of a data file, and every computation says how settled the years it read are
//! ([`YearStatus`]). Dates before the data's first year are an error, never a guess.

use std::fmt;

mod file;
use file::*;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// The calendar shipped with Koshi (2024–2026 official, 2027 expected; legal-facts §6).
pub const BUILTIN_CALENDAR: &str = include_str!("../../data/calendar.toml");

/// Why a date cannot be answered, or why a calendar file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The date lies before the first year of the calendar data or after the last derived year.
    #[error(
        "no working calendar for {date}: the calendar covers {first_year}–{last_year} (later years than the data are derived as provisional)"
    )]
    NotCovered {
        date: Date,
        first_year: i16,
        last_year: i16,
    },
}

impl CalendarError {
    /// Stable machine code (also the translation key and the API problem type).
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::NotCovered { .. } => "calendar_year_not_covered",
        }
    }
}

/// A calendar file that cannot be used, with the line that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CalendarFileError {
    pub line: usize,
    pub message: String,
}

/// What kind of day off a holiday is (Law No. 267-II; Labour Code art. 84 p. 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayKind {
    National,
    State,
    Religious,
}

impl HolidayKind {
    fn label(self) -> &'static str {
        match self {
            HolidayKind::National => "national holiday",
            HolidayKind::State => "state holiday",
            HolidayKind::Religious => "religious day off",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub name_ru: String,
    pub name_en: String,
    pub kind: HolidayKind,
    pub carry_over: bool,
}

/// How a day is classified, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayStatus {
    /// An ordinary working day (Monday to Friday).
    Working,
    /// A Saturday or Sunday made a working day by a ministerial transfer; `off_on` is the day
    /// given off in exchange.
    WorkingByTransfer { off_on: Date },
    /// Saturday or Sunday.
    Weekend,
    /// A holiday (index into [`WorkingCalendar::holidays`]), including Kurban Ait.
    Holiday(u16),
    /// The working day after a national or state holiday that fell on a weekend (art. 5 of
    /// the Law on holidays); carries the holiday's index and date.
    CarryOver { holiday: u16, from: Date },
    /// A working day given off by a ministerial transfer; `worked_on` is the day worked instead.
    TransferredOff { worked_on: Date },
}

impl DayStatus {
    pub fn is_working(self) -> bool {
        matches!(self, DayStatus::Working | DayStatus::WorkingByTransfer { .. })
    }

    /// A stable code for the reason, for machines.
    pub fn code(self) -> &'static str {
        match self {
            DayStatus::Working => "working_day",
            DayStatus::WorkingByTransfer { .. } => "working_by_transfer",
            DayStatus::Weekend => "weekend",
            DayStatus::Holiday(_) => "holiday",
            DayStatus::CarryOver { .. } => "holiday_carry_over",
            DayStatus::TransferredOff { .. } => "transferred_day_off",
        }
    }
}

/// Working hours of the service provider (App. 1-1 п. 7; п. 9-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingHours {
    pub work_start: Time,
    pub work_end: Time,
    pub lunch_start: Time,
    pub lunch_end: Time,
    pub reception_start: Time,
    pub reception_end: Time,
}

impl WorkingHours {
    /// Is this time of day inside working hours (lunch included: the day is still a working
    /// day, and the service clock of п. 8 speaks of the end of working time)?
    pub fn within_working_time(&self, t: Time) -> bool {
        t >= self.work_start && t < self.work_end
    }
}

/// A ministerial transfer of a day off (Labour Code art. 85 p. 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub work_on: Date,
    pub off_on: Date,
    pub basis: String,
}

/// The outcome of the service clock (п. 8, п. 7, п. 9): when a filing counts as accepted and
/// when the term of N working days ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub filed: DateTime,
    pub accepted_on: Date,
    pub due_on: Date,
    /// The least settled year the computation read (see [`YearStatus`]).
    pub calendar_status: YearStatus,
}

/// How far the calendar is known for a year (legal-facts §6.3).
///
/// Ordered from the most to the least settled: a computation spanning several years takes the
/// least settled status among them ([`WorkingCalendar::status_between`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum YearStatus {
    /// The published production calendar: statutory holidays, the Kurban Ait date set by the
    /// Spiritual Administration and every ministerial transfer of days off.
    Official,
    /// Statutory holidays with their carry-overs and an announced but unconfirmed Kurban Ait
    /// date; transfers of days off not yet published.
    Expected,
    /// Derived from the statutory rules alone (Law No. 267-II art. 1, 5; Labour Code art. 84
    /// p. 5) for a year the data does not hold: no Kurban Ait, no transfers.
    Provisional,
}

impl YearStatus {
    /// Stable machine code, as it appears in JSON (`calendar_status`) and in data files.
    pub fn code(self) -> &'static str {
        match self {
            YearStatus::Official => "official",
            YearStatus::Expected => "expected",
            YearStatus::Provisional => "provisional",
        }
    }

    /// Parses a code of [`YearStatus::code`]; anything else is `None`, never a default.
    pub fn from_code(code: &str) -> Option<YearStatus> {
        match code {
            "official" => Some(YearStatus::Official),
            "expected" => Some(YearStatus::Expected),
            "provisional" => Some(YearStatus::Provisional),
            _ => None,
        }
    }
}

impl fmt::Display for YearStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The statutory basis of a year derived without data.
pub const PROVISIONAL_BASIS: &str = "derived from the statutory holidays and their carry-over alone (Law No. 267-II «О праздниках в Республике Казахстан» art. 1, 5; Labour Code art. 84 p. 5); Kurban Ait and transfers of days off not yet known";

/// The last year the calendar derives; a date after it is an input error, not a term.
pub const LAST_DERIVED_YEAR: i16 = 2199;

/// One year of calendar data: its status, Kurban Ait and the ministerial transfers of days off,
/// as read from the shipped file or from a year file an administrator loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearData {
    pub year: i16,
    pub status: YearStatus,
    /// The first day of Kurban Ait; required for an official year.
    pub kurban_ait: Option<Date>,
    pub transfers: Vec<Transfer>,
    /// Where the year's data comes from (a production calendar, an order, an announcement).
    pub source: String,
    /// Lines of the file the year was read from, for errors found when the year is combined
    /// with the holidays (year, Kurban Ait, each transfer's two dates).
    lines: YearLines,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct YearLines {
    year: usize,
    kurban: usize,
    transfers: Vec<(usize, usize)>,
}

/// What every year shares: the zone, the working hours and the statutory holidays.
#[derive(Debug, Clone)]
struct Statute {
    time_zone: TimeZone,
    hours: WorkingHours,
    /// Fixed-date holidays, then Kurban Ait as the last entry.
    holidays: Vec<Holiday>,
    fixed: Vec<FixedHoliday>,
}

/// The working calendar: classified days from the first year of the data through
/// [`LAST_DERIVED_YEAR`], each year official, expected or provisional.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    statute: Statute,
    /// The years the data holds, in order.
    years: Vec<YearData>,
    transfers: Vec<Transfer>,
    first_year: i16,
    last_year: i16,
    first_day: i32,
    status: Vec<DayStatus>,
    /// `rank[i]` = number of working days strictly before day `i`; one longer than `status`.
    rank: Vec<u32>,
    /// Day indices of the working days, in order.
    working: Vec<u32>,
}

/// A fixed-date holiday: index, month, day, first year, line in the file.
type FixedHoliday = (u16, i8, i8, Option<i16>, usize);

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
#[inline]
fn day_number(d: Date) -> i32 {
    let (y, m, dd) = (i32::from(d.year()), i32::from(d.month()), i32::from(d.day()));
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`day_number`].
#[inline]
fn date_from_number(z: i32) -> Date {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    // The arithmetic above only ever yields valid dates for the covered range.
    Date::new(y as i16, m as i8, d as i8).unwrap_or(Date::MIN)
}

impl WorkingCalendar {
    /// The calendar shipped with Koshi.
    pub fn builtin() -> Result<WorkingCalendar, CalendarFileError> {
        WorkingCalendar::from_toml(BUILTIN_CALENDAR)
    }

    /// Loads a calendar file, refusing a malformed or contradictory one with the line at fault.
    pub fn from_toml(text: &str) -> Result<WorkingCalendar, CalendarFileError> {
        let line_of = |offset: usize| line_at(text, offset);
        let raw: RawCalendar = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let err = |span: std::ops::Range<usize>, message: String| CalendarFileError {
            line: line_of(span.start),
            message,
        };

        check_schema(&raw.schema, &err)?;
        let time_zone = jiff::tz::db().get(raw.time_zone.get_ref()).map_err(|_| {
            err(
                raw.time_zone.span(),
                format!("unknown time zone {:?}", raw.time_zone.get_ref()),
            )
        })?;
        let hours = raw.hours.parse(&err)?;

        let mut holidays: Vec<Holiday> = Vec::new();
        let mut fixed: Vec<FixedHoliday> = Vec::new();
        let mut seen_md = std::collections::HashSet::new();
        for h in &raw.holiday {
            let (m, d) = parse_month_day(h.date.get_ref()).ok_or_else(|| {
                err(
                    h.date.span(),
                    format!("holiday date {:?} is not a valid MM-DD", h.date.get_ref()),
                )
            })?;
            if !seen_md.insert((m, d)) {
                return Err(err(
                    h.date.span(),
                    format!("holiday {} is declared twice", h.date.get_ref()),
                ));
            }
            let kind = match h.kind.get_ref().as_str() {
                "national" => HolidayKind::National,
                "state" => HolidayKind::State,
                "religious" => HolidayKind::Religious,
                other => {
                    return Err(err(
                        h.kind.span(),
                        format!("holiday kind {other:?} is not one of national, state, religious"),
                    ));
                }
            };
            if kind == HolidayKind::Religious && *h.carry_over.get_ref() {
                return Err(err(
                    h.carry_over.span(),
                    "a religious day off is never carried over (Labour Code art. 84 p. 5)".into(),
                ));
            }
            holidays.push(Holiday {
                name_ru: h.name_ru.clone(),
                name_en: h.name_en.clone(),
                kind,
                carry_over: *h.carry_over.get_ref(),
            });
            fixed.push(((holidays.len() - 1) as u16, m, d, h.since, line_of(h.date.span().start)));
        }
        holidays.push(Holiday {
            name_ru: "Курбан айт (первый день)".into(),
            name_en: "Kurban Ait (first day)".into(),
            kind: HolidayKind::Religious,
            carry_over: false,
        });

        if raw.year.is_empty() {
            return Err(CalendarFileError {
                line: 1,
                message: "the calendar declares no [[year]]".into(),
            });
        }
        let years = raw.year.iter().map(|y| y.parse(text)).collect::<Result<Vec<_>, _>>()?;
        let statute = Statute {
            time_zone,
            hours,
            holidays,
            fixed,
        };
        WorkingCalendar::build(statute, years)
    }

    /// Reads a year file an administrator loads while Koshi runs: `schema = 1` and one or more
    /// `[[year]]` tables of the shipped file's form, each with its `status`. The years are checked
    /// on their own here and against the holidays by [`WorkingCalendar::with_years`].
    pub fn parse_year_file(text: &str) -> Result<Vec<YearData>, CalendarFileError> {
        let raw: RawYearFile = toml::from_str(text).map_err(|e| toml_error(text, &e))?;
        let err = |span: std::ops::Range<usize>, message: String| CalendarFileError {
            line: line_at(text, span.start),
            message,
        };
        check_schema(&raw.schema, &err)?;
        if raw.year.is_empty() {
            return Err(CalendarFileError {
                line: 1,
                message: "the file declares no [[year]]".into(),
            });
        }
        raw.year.iter().map(|y| y.parse(text)).collect()
    }

    /// This calendar with `years` replacing (or adding to) the years of its data, checked as
    /// the shipped file is. A year already official cannot be replaced by a less settled one,
    /// and no year before the first one of the data can be added (the statute changed; earlier
    /// years cannot be derived).
    pub fn with_years(&self, years: &[YearData]) -> Result<WorkingCalendar, CalendarFileError> {
        let mut merged = self.years.clone();
        for y in years {
            if y.year < self.first_year {
                return Err(CalendarFileError {
                    line: y.lines.year,
                    message: format!(
                        "year {} is before the calendar's first year {}; past years are not derived",
                        y.year, self.first_year
                    ),
                });
            }
            match merged.iter_mut().find(|m| m.year == y.year) {
                Some(m) if y.status > m.status => {
                    return Err(CalendarFileError {
                        line: y.lines.year,
                        message: format!(
                            "year {} is already {}; {} data cannot replace it",
                            y.year, m.status, y.status
                        ),
                    });
                }
                Some(m) => *m = y.clone(),
                None => merged.push(y.clone()),
            }
        }
        WorkingCalendar::build(self.statute.clone(), merged)
    }

    /// Classifies every day from the first year of the data through [`LAST_DERIVED_YEAR`].
    fn build(statute: Statute, mut years: Vec<YearData>) -> Result<WorkingCalendar, CalendarFileError> {
        years.sort_by_key(|y| y.year);
        for pair in years.windows(2) {
            if pair[0].year == pair[1].year {
                return Err(CalendarFileError {
                    line: pair[1].lines.year,
                    message: format!("year {} is declared twice", pair[1].year),
                });
            }
        }
        let first_year = years[0].year;
        if let Some(y) = years.iter().find(|y| !(1900..=LAST_DERIVED_YEAR).contains(&y.year)) {
            return Err(CalendarFileError {
                line: y.lines.year,
                message: format!("years must lie between 1900 and {LAST_DERIVED_YEAR}"),
            });
        }
        let last_year = LAST_DERIVED_YEAR;
        let first_day = day_number(Date::new(first_year, 1, 1).unwrap_or(Date::MIN));
        let n = (day_number(Date::new(last_year, 12, 31).unwrap_or(Date::MAX)) - first_day + 1) as usize;
        let idx = |d: Date| (day_number(d) - first_day) as usize;
        let holidays = &statute.holidays;
        let kurban_index = (holidays.len() - 1) as u16;

        let mut status: Vec<DayStatus> = (0..n)
            .map(|i| match date_from_number(first_day + i as i32).weekday() {
                Weekday::Saturday | Weekday::Sunday => DayStatus::Weekend,
                _ => DayStatus::Working,
            })
            .collect();

        let mut carry_candidates: Vec<(usize, u16)> = Vec::new();
        for y in first_year..=last_year {
            for &(hi, m, d, since, line) in &statute.fixed {
                if since.is_some_and(|s| y < s) {
                    continue;
                }
                let date = Date::new(y, m, d).map_err(|_| CalendarFileError {
                    line,
                    message: format!("{y}-{m:02}-{d:02} does not exist"),
                })?;
                let i = idx(date);
                let was_weekend = status[i] == DayStatus::Weekend;
                status[i] = DayStatus::Holiday(hi);
                if was_weekend && holidays[hi as usize].carry_over {
                    carry_candidates.push((i, hi));
                }
            }
        }
        for y in &years {
            let Some(kurban) = y.kurban_ait else { continue };
            let i = idx(kurban);
            if let DayStatus::Holiday(other) = status[i] {
                return Err(CalendarFileError {
                    line: y.lines.kurban,
                    message: format!(
                        "Kurban Ait {kurban} coincides with {}",
                        holidays[other as usize].name_en
                    ),
                });
            }
            status[i] = DayStatus::Holiday(kurban_index);
        }
        // Carry-over: each weekend holiday gives the next day that is neither a weekend, a
        // holiday nor an earlier carry-over (Law No. 267-II art. 5). Candidates are in date order.
        carry_candidates.sort_unstable();
        for (i, hi) in carry_candidates {
            let mut j = i + 1;
            while j < n && status[j] != DayStatus::Working {
                j += 1;
            }
            if j < n {
                status[j] = DayStatus::CarryOver {
                    holiday: hi,
                    from: date_from_number(first_day + i as i32),
                };
            }
        }
        // Ministerial transfers.
        let mut transfers = Vec::new();
        for y in &years {
            for (t, &(work_line, off_line)) in y.transfers.iter().zip(&y.lines.transfers) {
                if status[idx(t.work_on)] != DayStatus::Weekend {
                    return Err(CalendarFileError {
                        line: work_line,
                        message: format!(
                            "{} is not an ordinary weekend day, so it cannot be made a working day",
                            t.work_on
                        ),
                    });
                }
                if status[idx(t.off_on)] != DayStatus::Working {
                    return Err(CalendarFileError {
                        line: off_line,
                        message: format!("{} is not an ordinary working day, so it cannot be given off", t.off_on),
                    });
                }
                status[idx(t.work_on)] = DayStatus::WorkingByTransfer { off_on: t.off_on };
                status[idx(t.off_on)] = DayStatus::TransferredOff { worked_on: t.work_on };
                transfers.push(t.clone());
            }
        }

        let mut rank = Vec::with_capacity(n + 1);
        let mut working = Vec::new();
        let mut count = 0u32;
        for (i, s) in status.iter().enumerate() {
            rank.push(count);
            if s.is_working() {
                working.push(i as u32);
                count += 1;
            }
        }
        rank.push(count);

        Ok(WorkingCalendar {
            statute,
            years,
            transfers,
            first_year,
            last_year,
            first_day,
            status,
            rank,
            working,
        })
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.statute.time_zone
    }
    pub fn hours(&self) -> &WorkingHours {
        &self.statute.hours
    }
    pub fn holidays(&self) -> &[Holiday] {
        &self.statute.holidays
    }
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }
    /// The first and last covered years: the first year of the data, and the last derived one.
    pub fn covered_years(&self) -> (i16, i16) {
        (self.first_year, self.last_year)
    }

    /// The years the data holds, in order, with their status and source.
    pub fn data_years(&self) -> &[YearData] {
        &self.years
    }

    /// The status of a year: from the data, or provisional for a later year the data does not
    /// hold; `None` outside the covered years.
    pub fn year_status(&self, year: i16) -> Option<YearStatus> {
        if !(self.first_year..=self.last_year).contains(&year) {
            return None;
        }
        Some(
            self.years
                .iter()
                .find(|y| y.year == year)
                .map_or(YearStatus::Provisional, |y| y.status),
        )
    }

    /// The least settled status of the years from `from` to `to` (in either order): the status
    /// of a computation that reads the calendar over that span.
    pub fn status_between(&self, from: Date, to: Date) -> YearStatus {
        let (a, b) = if from <= to { (from, to) } else { (to, from) };
        (a.year()..=b.year())
            .map(|y| self.year_status(y).unwrap_or(YearStatus::Provisional))
            .max()
            .unwrap_or(YearStatus::Provisional)
    }

    /// What a year's calendar rests on, for citations: the status and the source of its data.
    pub fn basis(&self, year: i16) -> String {
        match self.years.iter().find(|y| y.year == year) {
            Some(y) => format!("working calendar {year}: {} ({})", y.status, y.source),
            None => format!("working calendar {year}: provisional ({PROVISIONAL_BASIS})"),
        }
    }

    #[inline]
    fn index(&self, d: Date) -> Result<usize, CalendarError> {
        let i = day_number(d) - self.first_day;
        if i < 0 || i as usize >= self.status.len() {
            return Err(CalendarError::NotCovered {
                date: d,
                first_year: self.first_year,
                last_year: self.last_year,
            });
        }
        Ok(i as usize)
    }

    #[inline]
    fn date_at(&self, i: usize) -> Date {
        date_from_number(self.first_day + i as i32)
    }

    /// How the day is classified.
    pub fn status(&self, d: Date) -> Result<DayStatus, CalendarError> {
        Ok(self.status[self.index(d)?])
    }

    pub fn is_working(&self, d: Date) -> Result<bool, CalendarError> {
        Ok(self.status(d)?.is_working())
    }

    /// A human reason for the day's status, in English (the UI translates codes).
    pub fn describe(&self, s: DayStatus) -> String {
        match s {
            DayStatus::Working => "working day".into(),
            DayStatus::WorkingByTransfer { off_on } => {
                format!("working day by transfer of days off (in exchange for {off_on})")
            }
            DayStatus::Weekend => "weekend".into(),
            DayStatus::Holiday(h) => {
                let h = &self.statute.holidays[h as usize];
                format!("{} ({})", h.name_en, h.kind.label())
            }
            DayStatus::CarryOver { holiday, from } => {
                format!(
                    "day off carried over from {} on {from}, a weekend",
                    self.statute.holidays[holiday as usize].name_en
                )
            }
            DayStatus::TransferredOff { worked_on } => {
                format!("day off by transfer of days off (worked on {worked_on} instead)")
            }
        }
    }

    /// The first working day strictly after `d`.
    pub fn next_working_day(&self, d: Date) -> Result<Date, CalendarError> {
        self.add_working_days(d, 1)
    }

    /// `d` itself when it is a working day, otherwise the next working day.
    pub fn working_day_on_or_after(&self, d: Date) -> Result<Date, CalendarError> {
        if self.is_working(d)? {
            Ok(d)
        } else {
            self.next_working_day(d)
        }
    }

    /// The `n`-th working day after `d` (`d` itself is not counted; `n = 0` gives `d`).
    #[inline]
    pub fn add_working_days(&self, d: Date, n: u32) -> Result<Date, CalendarError> {
        if n == 0 {
            self.index(d)?;
            return Ok(d);
        }
        let i = self.index(d)?;
        // Working days up to and including d, plus n, names the target's rank.
        let target = self.rank[i + 1] as usize + n as usize - 1;
        match self.working.get(target) {
            Some(&j) => Ok(self.date_at(j as usize)),
            None => Err(self.beyond_end()),
        }
    }

    /// The `n`-th working day before `d` (`d` itself is not counted; `n = 0` gives `d`).
    pub fn subtract_working_days(&self, d: Date, n: u32) -> Result<Date, CalendarError> {
        let i = self.index(d)?;
        if n == 0 {
            return Ok(d);
        }
        let before = self.rank[i] as usize; // working days strictly before d
        if (n as usize) > before {
            return Err(CalendarError::NotCovered {
                date: self.date_at(0).yesterday().unwrap_or(Date::MIN),
                first_year: self.first_year,
                last_year: self.last_year,
            });
        }
        Ok(self.date_at(self.working[before - n as usize] as usize))
    }

    /// Working days in the interval (`from`, `to`]: the number `n` such that
    /// `add_working_days(from, n)` is the last working day not after `to`. Negative when `to`
    /// is before `from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<i64, CalendarError> {
        let (a, b) = (self.index(from)?, self.index(to)?);
        Ok(i64::from(self.rank[b + 1]) - i64::from(self.rank[a + 1]))
    }

    /// `d` plus `n` calendar days (negative goes back).
    pub fn add_calendar_days(&self, d: Date, n: i32) -> Date {
        d.checked_add(n.days())
            .unwrap_or(if n < 0 { Date::MIN } else { Date::MAX })
    }

    /// The non-working days in [`from`, `to`], with their status.
    pub fn non_working_days(&self, from: Date, to: Date) -> Result<Vec<(Date, DayStatus)>, CalendarError> {
        let (a, b) = (self.index(from)?, self.index(to)?);
        Ok((a..=b.max(a))
            .filter(|&i| i <= b && !self.status[i].is_working())
            .map(|i| (self.date_at(i), self.status[i]))
            .collect())
    }

    /// The civil date and time in the calendar's zone (Asia/Almaty) of an instant.
    pub fn civil(&self, at: Timestamp) -> DateTime {
        self.statute.time_zone.to_datetime(at)
    }

    /// The day a filing counts as accepted (п. 8: after working hours, on a weekend or a
    /// holiday, the request is taken on the next working day). A filing before working hours on a
    /// working day is taken that day. See docs/interpretations.md.
    #[inline]
    pub fn accepted_on(&self, filed: DateTime) -> Result<Date, CalendarError> {
        let day = filed.date();
        if self.is_working(day)? && filed.time() < self.statute.hours.work_end {
            Ok(day)
        } else {
            self.next_working_day(day)
        }
    }

    /// The service clock of п. 7–9: acceptance day, then `working_days` working days, the day
    /// of acceptance not counted.
    #[inline]
    pub fn deadline(&self, filed: DateTime, working_days: u32) -> Result<Deadline, CalendarError> {
        let accepted_on = self.accepted_on(filed)?;
        let due_on = self.add_working_days(accepted_on, working_days)?;
        Ok(Deadline {
            filed,
            accepted_on,
            due_on,
            calendar_status: self.status_between(filed.date(), due_on),
        })
    }

    fn beyond_end(&self) -> CalendarError {
        CalendarError::NotCovered {
            date: Date::new(self.last_year.saturating_add(1), 1, 1).unwrap_or(Date::MAX),
            first_year: self.first_year,
            last_year: self.last_year,
        }
    }
}

impl fmt::Display for HolidayKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}
