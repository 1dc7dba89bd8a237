//! The Kazakhstan working calendar, built from dated data (`data/calendar.toml`).
//!
//! Every covered day is classified once at load time; afterwards every question (is it a working
//! day, add N working days, count between two dates) is an array lookup. Dates outside the
//! covered years are an error, never a guess: a deadline computed without the holidays of its
//! year would be a wrong deadline.

use std::fmt;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::Deserialize;
use toml::Spanned;

/// The calendar shipped with Koshi (2024–2026, from legal-facts §6).
pub const BUILTIN_CALENDAR: &str = include_str!("../data/calendar.toml");

/// Why a date cannot be answered, or why a calendar file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The date lies in a year the calendar data does not cover.
    #[error(
        "no working calendar for {date}: the calendar covers {first_year}–{last_year}; add the year to the calendar data"
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
}

/// The working calendar: classified days over the covered years.
#[derive(Debug, Clone)]
pub struct WorkingCalendar {
    time_zone: TimeZone,
    hours: WorkingHours,
    holidays: Vec<Holiday>,
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

/// A fixed-date holiday: index, month, day, first year, span in the file.
type FixedHoliday = (u16, i8, i8, Option<i16>, std::ops::Range<usize>);

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
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let raw: RawCalendar = toml::from_str(text).map_err(|e| CalendarFileError {
            line: e.span().map(|s| line_of(s.start)).unwrap_or(1),
            message: e.message().trim().to_string(),
        })?;
        let err = |span: std::ops::Range<usize>, message: String| CalendarFileError {
            line: line_of(span.start),
            message,
        };

        if *raw.schema.get_ref() != 1 {
            return Err(err(
                raw.schema.span(),
                format!("unsupported schema {}; this Koshi reads schema 1", raw.schema.get_ref()),
            ));
        }
        let time_zone = jiff::tz::db().get(raw.time_zone.get_ref()).map_err(|_| {
            err(
                raw.time_zone.span(),
                format!("unknown time zone {:?}", raw.time_zone.get_ref()),
            )
        })?;
        let hours = raw.hours.parse(&err)?;

        // Years: contiguous, each once.
        if raw.year.is_empty() {
            return Err(CalendarFileError {
                line: 1,
                message: "the calendar declares no [[year]]".into(),
            });
        }
        let mut years: Vec<&RawYear> = raw.year.iter().collect();
        years.sort_by_key(|y| *y.year.get_ref());
        for pair in years.windows(2) {
            let (a, b) = (*pair[0].year.get_ref(), *pair[1].year.get_ref());
            if a == b {
                return Err(err(pair[1].year.span(), format!("year {b} is declared twice")));
            }
            if b != a + 1 {
                return Err(err(
                    pair[1].year.span(),
                    format!("years must be contiguous: {a} is followed by {b}"),
                ));
            }
        }
        let first_year = *years[0].year.get_ref();
        let last_year = *years[years.len() - 1].year.get_ref();
        if !(1900..=2200).contains(&first_year) || !(1900..=2200).contains(&last_year) {
            return Err(err(years[0].year.span(), "years must lie between 1900 and 2200".into()));
        }
        let first_date = Date::new(first_year, 1, 1).map_err(|e| err(years[0].year.span(), e.to_string()))?;
        let last_date = Date::new(last_year, 12, 31).map_err(|e| err(years[0].year.span(), e.to_string()))?;
        let first_day = day_number(first_date);
        let n = (day_number(last_date) - first_day + 1) as usize;
        let idx = |d: Date| (day_number(d) - first_day) as usize;

        let mut status: Vec<DayStatus> = (0..n)
            .map(|i| match date_from_number(first_day + i as i32).weekday() {
                Weekday::Saturday | Weekday::Sunday => DayStatus::Weekend,
                _ => DayStatus::Working,
            })
            .collect();

        // Fixed-date holidays, then Kurban Ait per year.
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
            fixed.push(((holidays.len() - 1) as u16, m, d, h.since, h.date.span()));
        }
        let kurban_index = holidays.len() as u16;
        holidays.push(Holiday {
            name_ru: "Курбан айт (первый день)".into(),
            name_en: "Kurban Ait (first day)".into(),
            kind: HolidayKind::Religious,
            carry_over: false,
        });

        let mut carry_candidates: Vec<(usize, u16)> = Vec::new();
        for y in first_year..=last_year {
            for (hi, m, d, since, span) in &fixed {
                if since.is_some_and(|s| y < s) {
                    continue;
                }
                let date =
                    Date::new(y, *m, *d).map_err(|_| err(span.clone(), format!("{y}-{m:02}-{d:02} does not exist")))?;
                let i = idx(date);
                let was_weekend = status[i] == DayStatus::Weekend;
                status[i] = DayStatus::Holiday(*hi);
                if was_weekend && holidays[*hi as usize].carry_over {
                    carry_candidates.push((i, *hi));
                }
            }
        }
        let mut transfers = Vec::new();
        for y in &years {
            let yr = *y.year.get_ref();
            let kurban = parse_date(y.kurban_ait.get_ref()).ok_or_else(|| {
                err(
                    y.kurban_ait.span(),
                    format!("{:?} is not a date YYYY-MM-DD", y.kurban_ait.get_ref()),
                )
            })?;
            if kurban.year() != yr {
                return Err(err(y.kurban_ait.span(), format!("Kurban Ait {kurban} is not in {yr}")));
            }
            let i = idx(kurban);
            if let DayStatus::Holiday(other) = status[i] {
                return Err(err(
                    y.kurban_ait.span(),
                    format!(
                        "Kurban Ait {kurban} coincides with {}",
                        holidays[other as usize].name_en
                    ),
                ));
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
        for y in &years {
            let yr = *y.year.get_ref();
            for t in &y.transfer {
                let work_on = parse_date(t.work_on.get_ref()).ok_or_else(|| {
                    err(
                        t.work_on.span(),
                        format!("{:?} is not a date YYYY-MM-DD", t.work_on.get_ref()),
                    )
                })?;
                let off_on = parse_date(t.off_on.get_ref()).ok_or_else(|| {
                    err(
                        t.off_on.span(),
                        format!("{:?} is not a date YYYY-MM-DD", t.off_on.get_ref()),
                    )
                })?;
                for (d, span) in [(work_on, t.work_on.span()), (off_on, t.off_on.span())] {
                    if d.year() != yr {
                        return Err(err(span, format!("{d} is not in {yr}")));
                    }
                }
                if status[idx(work_on)] != DayStatus::Weekend {
                    return Err(err(
                        t.work_on.span(),
                        format!("{work_on} is not an ordinary weekend day, so it cannot be made a working day"),
                    ));
                }
                if status[idx(off_on)] != DayStatus::Working {
                    return Err(err(
                        t.off_on.span(),
                        format!("{off_on} is not an ordinary working day, so it cannot be given off"),
                    ));
                }
                status[idx(work_on)] = DayStatus::WorkingByTransfer { off_on };
                status[idx(off_on)] = DayStatus::TransferredOff { worked_on: work_on };
                transfers.push(Transfer {
                    work_on,
                    off_on,
                    basis: t.basis.clone(),
                });
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
            time_zone,
            hours,
            holidays,
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
        &self.time_zone
    }
    pub fn hours(&self) -> &WorkingHours {
        &self.hours
    }
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }
    pub fn transfers(&self) -> &[Transfer] {
        &self.transfers
    }
    /// The first and last covered years.
    pub fn covered_years(&self) -> (i16, i16) {
        (self.first_year, self.last_year)
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
                let h = &self.holidays[h as usize];
                format!("{} ({})", h.name_en, h.kind.label())
            }
            DayStatus::CarryOver { holiday, from } => {
                format!(
                    "day off carried over from {} on {from}, a weekend",
                    self.holidays[holiday as usize].name_en
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
        self.time_zone.to_datetime(at)
    }

    /// The day a filing counts as accepted (п. 8: after working hours, on a weekend or a
    /// holiday, the request is taken on the next working day). A filing before working hours on a
    /// working day is taken that day. See docs/interpretations.md.
    #[inline]
    pub fn accepted_on(&self, filed: DateTime) -> Result<Date, CalendarError> {
        let day = filed.date();
        if self.is_working(day)? && filed.time() < self.hours.work_end {
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

fn parse_month_day(s: &str) -> Option<(i8, i8)> {
    let (m, d) = s.split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (m, d): (i8, i8) = (m.parse().ok()?, d.parse().ok()?);
    // Validate against a leap year so that 02-29 is caught per year later.
    Date::new(2024, m, d).ok()?;
    Some((m, d))
}

fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 10 {
        return None;
    }
    s.parse().ok()
}

fn parse_time(s: &str) -> Option<Time> {
    if s.len() != 5 {
        return None;
    }
    let (h, m) = s.split_once(':')?;
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    schema: Spanned<u32>,
    time_zone: Spanned<String>,
    hours: RawHours,
    #[serde(default)]
    holiday: Vec<RawHoliday>,
    #[serde(default)]
    year: Vec<RawYear>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHours {
    work: Spanned<[String; 2]>,
    lunch: Spanned<[String; 2]>,
    reception: Spanned<[String; 2]>,
    #[allow(dead_code)]
    #[serde(default)]
    source: String,
}

impl RawHours {
    fn parse(
        &self,
        err: &impl Fn(std::ops::Range<usize>, String) -> CalendarFileError,
    ) -> Result<WorkingHours, CalendarFileError> {
        let pair = |p: &Spanned<[String; 2]>, what: &str| -> Result<(Time, Time), CalendarFileError> {
            let [a, b] = p.get_ref();
            let (a, b) = match (parse_time(a), parse_time(b)) {
                (Some(a), Some(b)) => (a, b),
                _ => return Err(err(p.span(), format!("{what} hours must be two times \"HH:MM\""))),
            };
            if a >= b {
                return Err(err(p.span(), format!("{what} hours end before they start")));
            }
            Ok((a, b))
        };
        let (work_start, work_end) = pair(&self.work, "working")?;
        let (lunch_start, lunch_end) = pair(&self.lunch, "lunch")?;
        let (reception_start, reception_end) = pair(&self.reception, "reception")?;
        if lunch_start < work_start || lunch_end > work_end {
            return Err(err(self.lunch.span(), "lunch lies outside working hours".into()));
        }
        if reception_start < work_start || reception_end > work_end {
            return Err(err(
                self.reception.span(),
                "reception lies outside working hours".into(),
            ));
        }
        Ok(WorkingHours {
            work_start,
            work_end,
            lunch_start,
            lunch_end,
            reception_start,
            reception_end,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    date: Spanned<String>,
    name_ru: String,
    name_en: String,
    kind: Spanned<String>,
    carry_over: Spanned<bool>,
    since: Option<i16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYear {
    year: Spanned<i16>,
    kurban_ait: Spanned<String>,
    #[allow(dead_code)]
    #[serde(default)]
    source: String,
    #[serde(default)]
    transfer: Vec<RawTransfer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTransfer {
    work_on: Spanned<String>,
    off_on: Spanned<String>,
    basis: String,
}
