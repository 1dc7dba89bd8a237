//! `koshi calendar …`: the working calendar and the service clock from the command line.

use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use clap::Subcommand;
use jiff::civil::{Date, DateTime};
use koshi_law::{Law, citation, terms};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// Is DATE a working day, and if not, why not.
    IsWorking {
        /// YYYY-MM-DD
        date: String,
        #[arg(long)]
        json: bool,
    },
    /// The service clock of п. 7–9: when a filing is accepted and when N working days end.
    Deadline {
        /// Filing time in Almaty civil time, YYYY-MM-DDTHH:MM.
        #[arg(long)]
        filed: String,
        /// Working days of the term (the RVP term is 1, п. 9).
        #[arg(long)]
        working_days: u32,
        #[arg(long)]
        json: bool,
    },
    /// The N-th working day after DATE (DATE not counted).
    AddWorkingDays {
        date: String,
        n: u32,
        #[arg(long)]
        json: bool,
    },
    /// DATE plus N calendar days (negative goes back).
    AddCalendarDays {
        date: String,
        #[arg(allow_hyphen_values = true)]
        n: i32,
        #[arg(long)]
        json: bool,
    },
    /// Working days in (FROM, TO].
    Between {
        from: String,
        to: String,
        #[arg(long)]
        json: bool,
    },
    /// The next working day after DATE.
    NextWorkingDay {
        date: String,
        #[arg(long)]
        json: bool,
    },
    /// Every day off of a year with its reason.
    Year {
        year: i16,
        #[arg(long)]
        json: bool,
    },
}

pub fn parse_date(s: &str) -> Result<Date> {
    let bytes = s.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shape {
        bail!("invalid date {s:?}: expected YYYY-MM-DD");
    }
    s.parse::<Date>().map_err(|e| anyhow!("invalid date {s:?}: {e}"))
}

pub fn parse_datetime(s: &str) -> Result<DateTime> {
    let bytes = s.as_bytes();
    if bytes.len() < 16 || bytes[10] != b'T' {
        bail!("invalid date and time {s:?}: expected YYYY-MM-DDTHH:MM (Almaty civil time)");
    }
    parse_date(&s[..10]).map_err(|e| anyhow!("invalid date and time {s:?}: {}", root(&e)))?;
    s.parse::<DateTime>()
        .map_err(|e| anyhow!("invalid date and time {s:?}: {e}"))
}

fn root(e: &anyhow::Error) -> String {
    let s = e.to_string();
    s.split_once(": ").map(|(_, r)| r.to_string()).unwrap_or(s)
}

fn emit(json: bool, value: serde_json::Value, text: String) {
    if json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

pub fn run(law: &Law, cmd: &CalendarCommand) -> Result<ExitCode> {
    let cal = &law.calendar;
    match cmd {
        CalendarCommand::IsWorking { date, json } => {
            let d = parse_date(date)?;
            let s = cal.status(d)?;
            let reason = cal.describe(s);
            emit(
                *json,
                json!({"date": d.to_string(), "working": s.is_working(), "reason": reason, "reason_code": s.code()}),
                format!(
                    "{d}: {} ({reason})",
                    if s.is_working() { "working day" } else { "day off" }
                ),
            );
        }
        CalendarCommand::Deadline {
            filed,
            working_days,
            json,
        } => {
            let f = parse_datetime(filed)?;
            let d = cal.deadline(f, *working_days)?;
            let skipped: Vec<_> = cal
                .non_working_days(f.date(), d.due_on)?
                .into_iter()
                .map(|(day, s)| json!({"date": day.to_string(), "reason": cal.describe(s), "reason_code": s.code()}))
                .collect();
            let version = citation::version_on(d.accepted_on).ok().map(|v| v.id);
            let filed_s = f.strftime("%Y-%m-%dT%H:%M").to_string();
            let text = format!(
                "filed {filed_s} → accepted on {} → due on {} ({working_days} working day(s), {} day(s) off skipped; {})",
                d.accepted_on,
                d.due_on,
                skipped.len(),
                terms::RVP_TERM
            );
            emit(
                *json,
                json!({
                    "filed": filed_s,
                    "accepted_on": d.accepted_on.to_string(),
                    "due_on": d.due_on.to_string(),
                    "working_days": working_days,
                    "skipped": skipped,
                    "citation": terms::RVP_TERM.as_str(),
                    "rules_version": version,
                }),
                text,
            );
        }
        CalendarCommand::AddWorkingDays { date, n, json } => {
            let d = parse_date(date)?;
            let r = cal.add_working_days(d, *n)?;
            emit(
                *json,
                json!({"date": d.to_string(), "working_days": n, "result": r.to_string()}),
                r.to_string(),
            );
        }
        CalendarCommand::AddCalendarDays { date, n, json } => {
            let d = parse_date(date)?;
            let r = cal.add_calendar_days(d, *n);
            emit(
                *json,
                json!({"date": d.to_string(), "calendar_days": n, "result": r.to_string()}),
                r.to_string(),
            );
        }
        CalendarCommand::Between { from, to, json } => {
            let (a, b) = (parse_date(from)?, parse_date(to)?);
            let n = cal.working_days_between(a, b)?;
            emit(
                *json,
                json!({"from": a.to_string(), "to": b.to_string(), "working_days": n}),
                n.to_string(),
            );
        }
        CalendarCommand::NextWorkingDay { date, json } => {
            let d = parse_date(date)?;
            let r = cal.next_working_day(d)?;
            emit(
                *json,
                json!({"date": d.to_string(), "result": r.to_string()}),
                r.to_string(),
            );
        }
        CalendarCommand::Year { year, json } => {
            let first = Date::new(*year, 1, 1).map_err(|e| anyhow!("invalid year {year}: {e}"))?;
            let last = Date::new(*year, 12, 31).map_err(|e| anyhow!("invalid year {year}: {e}"))?;
            let days = cal.non_working_days(first, last)?;
            let weekday_offs: Vec<_> = days
                .iter()
                .filter(|(d, _)| d.weekday().to_monday_one_offset() <= 5)
                .collect();
            let working = cal.working_days_between(first, last)? + i64::from(cal.is_working(first)?);
            if *json {
                let list: Vec<_> = weekday_offs
                    .iter()
                    .map(|(d, s)| json!({"date": d.to_string(), "reason": cal.describe(*s), "reason_code": s.code()}))
                    .collect();
                println!(
                    "{}",
                    json!({"year": year, "working_days": working, "weekday_days_off": list})
                );
            } else {
                println!("{year}: {working} working days; weekdays off:");
                for (d, s) in weekday_offs {
                    println!("  {d} {:9} {}", format!("{:?}", d.weekday()), cal.describe(*s));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
