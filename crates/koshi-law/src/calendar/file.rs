//! The calendar data file (`data/calendar.toml`, official year files) as read, before it is
//! checked and classified.

use jiff::civil::{Date, Time};
use serde::Deserialize;
use toml::Spanned;

use super::*;

pub(super) fn parse_month_day(s: &str) -> Option<(i8, i8)> {
    let (m, d) = s.split_once('-')?;
    if m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (m, d): (i8, i8) = (m.parse().ok()?, d.parse().ok()?);
    // Validate against a leap year so that 02-29 is caught per year later.
    Date::new(2024, m, d).ok()?;
    Some((m, d))
}

pub(super) fn parse_date(s: &str) -> Option<Date> {
    if s.len() != 10 {
        return None;
    }
    s.parse().ok()
}

pub(super) fn parse_time(s: &str) -> Option<Time> {
    if s.len() != 5 {
        return None;
    }
    let (h, m) = s.split_once(':')?;
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCalendar {
    pub(super) schema: Spanned<u32>,
    pub(super) time_zone: Spanned<String>,
    pub(super) hours: RawHours,
    #[serde(default)]
    pub(super) holiday: Vec<RawHoliday>,
    #[serde(default)]
    pub(super) year: Vec<RawYear>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHours {
    pub(super) work: Spanned<[String; 2]>,
    pub(super) lunch: Spanned<[String; 2]>,
    pub(super) reception: Spanned<[String; 2]>,
    #[allow(dead_code)]
    #[serde(default)]
    pub(super) source: String,
}

impl RawHours {
    pub(super) fn parse(
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
pub(super) struct RawHoliday {
    pub(super) date: Spanned<String>,
    pub(super) name_ru: String,
    pub(super) name_en: String,
    pub(super) kind: Spanned<String>,
    pub(super) carry_over: Spanned<bool>,
    pub(super) since: Option<i16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawYear {
    pub(super) year: Spanned<i16>,
    /// `official` (the default, for files written before statuses existed) or `expected`.
    pub(super) status: Option<Spanned<String>>,
    pub(super) kurban_ait: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) source: String,
    #[serde(default)]
    pub(super) transfer: Vec<RawTransfer>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawYearFile {
    pub(super) schema: Spanned<u32>,
    #[serde(default)]
    pub(super) year: Vec<RawYear>,
}

impl RawYear {
    /// Checks a year on its own: its status, and that each date is a date of that year.
    pub(super) fn parse(&self, text: &str) -> Result<YearData, CalendarFileError> {
        let err = |span: std::ops::Range<usize>, message: String| CalendarFileError {
            line: line_at(text, span.start),
            message,
        };
        let yr = *self.year.get_ref();
        let date_in_year = |s: &Spanned<String>| -> Result<Date, CalendarFileError> {
            let d = parse_date(s.get_ref())
                .ok_or_else(|| err(s.span(), format!("{:?} is not a date YYYY-MM-DD", s.get_ref())))?;
            if d.year() != yr {
                return Err(err(s.span(), format!("{d} is not in {yr}")));
            }
            Ok(d)
        };
        let status = match &self.status {
            None => YearStatus::Official,
            Some(s) => match YearStatus::from_code(s.get_ref()) {
                Some(YearStatus::Provisional) => {
                    return Err(err(
                        s.span(),
                        "a provisional year is derived, never declared: omit the year or give official or expected data".into(),
                    ));
                }
                Some(st) => st,
                None => {
                    return Err(err(
                        s.span(),
                        format!("year status {:?} is not one of official, expected", s.get_ref()),
                    ));
                }
            },
        };
        let kurban_ait = match &self.kurban_ait {
            Some(k) => Some(date_in_year(k)?),
            None if status == YearStatus::Official => {
                return Err(err(
                    self.year.span(),
                    format!("official year {yr} needs its kurban_ait date"),
                ));
            }
            None => None,
        };
        let mut transfers = Vec::new();
        let mut lines = YearLines {
            year: line_at(text, self.year.span().start),
            kurban: self.kurban_ait.as_ref().map_or(0, |k| line_at(text, k.span().start)),
            transfers: Vec::new(),
        };
        for t in &self.transfer {
            transfers.push(Transfer {
                work_on: date_in_year(&t.work_on)?,
                off_on: date_in_year(&t.off_on)?,
                basis: t.basis.clone(),
            });
            lines.transfers.push((
                line_at(text, t.work_on.span().start),
                line_at(text, t.off_on.span().start),
            ));
        }
        Ok(YearData {
            year: yr,
            status,
            kurban_ait,
            transfers,
            source: self.source.clone(),
            lines,
        })
    }
}

pub(super) fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

pub(super) fn toml_error(text: &str, e: &toml::de::Error) -> CalendarFileError {
    CalendarFileError {
        line: e.span().map(|s| line_at(text, s.start)).unwrap_or(1),
        message: e.message().trim().to_string(),
    }
}

pub(super) fn check_schema(
    schema: &Spanned<u32>,
    err: &impl Fn(std::ops::Range<usize>, String) -> CalendarFileError,
) -> Result<(), CalendarFileError> {
    if *schema.get_ref() != 1 {
        return Err(err(
            schema.span(),
            format!("unsupported schema {}; this Koshi reads schema 1", schema.get_ref()),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTransfer {
    pub(super) work_on: Spanned<String>,
    pub(super) off_on: Spanned<String>,
    pub(super) basis: String,
}
