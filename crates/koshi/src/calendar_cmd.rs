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
    /// Loads a year's official calendar (a file of schema 1 and its [[year]] tables, as in
    /// crates/koshi-law/data/calendar.toml) into the database, while Koshi runs: validated,
    /// audited, applied by every instance within a second, and the open cases' terms recomputed
    /// (a date announced to an applicant is never moved earlier).
    Load {
        file: std::path::PathBuf,
        #[command(flatten)]
        data: crate::config::DataArgs,
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
        CalendarCommand::Load { .. } => bail!("calendar load runs on the database: see `koshi calendar load --help`"),
        CalendarCommand::IsWorking { date, json } => {
            let d = parse_date(date)?;
            let s = cal.status(d)?;
            let reason = cal.describe(s);
            let status = cal.status_between(d, d);
            emit(
                *json,
                json!({"date": d.to_string(), "working": s.is_working(), "reason": reason, "reason_code": s.code(), "calendar_status": status.code()}),
                format!(
                    "{d}: {} ({reason}; calendar {status})",
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
            let basis = cal.basis(d.due_on.year());
            let text = format!(
                "filed {filed_s} → accepted on {} → due on {} ({working_days} working day(s), {} day(s) off skipped; {}; calendar {}: {basis})",
                d.accepted_on,
                d.due_on,
                skipped.len(),
                terms::RVP_TERM,
                d.calendar_status,
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
                    "calendar_status": d.calendar_status.code(),
                    "calendar_basis": basis,
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
                    json!({"year": year, "working_days": working, "weekday_days_off": list, "calendar_status": cal.status_between(first, first).code(), "calendar_basis": cal.basis(*year)})
                );
            } else {
                println!("{year}: {working} working days ({}); weekdays off:", cal.basis(*year));
                for (d, s) in weekday_offs {
                    println!("  {d} {:9} {}", format!("{:?}", d.weekday()), cal.describe(*s));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `koshi calendar load FILE` and `koshi mci load FILE`: a load of law data into the database,
/// as an administrator (the same path as `POST /api/v1/admin/law-data/{kind}`).
pub async fn load(
    law: std::sync::Arc<Law>,
    kind: &str,
    file: &std::path::Path,
    data: &crate::config::DataArgs,
    json_out: bool,
) -> Result<ExitCode> {
    let text = std::fs::read_to_string(file).map_err(|e| anyhow!("cannot read {}: {e}", file.display()))?;
    let a = crate::app::App::build(
        &crate::app::location(data)?,
        law,
        crate::app::RegistrySource::Simulated(
            koshi_registries::sim::Fixtures::demo().map_err(|e| anyhow!("demo fixtures: {e}"))?,
        ),
        std::sync::Arc::new(koshi_registries::clock::SystemClock),
        crate::service::ServiceConfig {
            process_on_intake: false,
            ..Default::default()
        },
    )
    .await?;
    let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let actor = format!("admin@cli:{who}");
    let r = a.service.load_law_data(&actor, kind, &text).await;
    a.service.store.close().await;
    let r = r.map_err(|p| anyhow!("{}", p.detail))?;
    if json_out {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!("loaded {} {} (sha256 {}): {}", r.kind, r.id, r.sha256, r.summary);
        println!(
            "open cases recomputed: {}; not recomputed (need an officer): {}",
            r.recomputed.len(),
            r.not_recomputed.len()
        );
        for c in &r.recomputed {
            println!(
                "  {} due {} → {}{}",
                c.application_id,
                c.due_on[0],
                c.due_on[1],
                if c.announced_kept { " (announced date kept)" } else { "" }
            );
        }
        for c in &r.not_recomputed {
            println!("  {} NOT recomputed: {}", c.application_id, c.reason);
        }
    }
    Ok(ExitCode::SUCCESS)
}
