//! Law data loaded while Koshi runs: an official calendar year (or a corrected expected one) and
//! the MCI of a year, as an administrator loads them (`koshi calendar load`, `koshi mci load`,
//! `POST /api/v1/admin/law-data/{kind}`).
//!
//! A load is validated as the shipped file is, kept whole in `law_data_loads` with its digest,
//! audited, and applied without a restart: this instance swaps its law at once, every other
//! instance on the same database within a second (`Service::refresh_law`, from the background
//! pass). A calendar load recomputes the terms of every open case that reads the loaded years, in
//! the same unit as the load; a date already announced to the applicant is never moved earlier
//! (docs/interpretations.md, "Recomputed terms").

use std::sync::Arc;

use jiff::civil::Date;
use koshi_law::calendar::{WorkingCalendar, YearStatus};
use koshi_law::{Law, terms};
use koshi_store::repo::{self, ApplicationRow, LawDataRow};
use koshi_store::{StoreError, Unit, instant};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::CaseError;
use crate::service::{Service, case_event};

/// The kinds of law data that can be loaded.
pub const KINDS: [&str; 2] = ["calendar", "mci"];

/// Largest law data file accepted (a year's calendar is about 1 KiB).
const MAX_FILE: usize = 256 * 1024;

/// What a load did.
#[derive(Debug, Clone, Serialize)]
pub struct LawDataLoaded {
    pub id: String,
    /// `calendar` or `mci`
    pub kind: String,
    pub sha256: String,
    /// One line per year loaded, with its status and source.
    pub summary: String,
    pub loaded_at: String,
    /// Open cases whose terms changed.
    pub recomputed: Vec<Retimed>,
    /// Open cases whose terms could not be read: each is named for an officer, none changed.
    pub not_recomputed: Vec<NotRetimed>,
    /// Pending legal clocks placed again on the loaded calendar.
    pub clocks_moved: usize,
}

/// An open case whose terms a calendar load changed.
#[derive(Debug, Clone, Serialize)]
pub struct Retimed {
    pub application_id: String,
    pub accepted_on: [String; 2],
    pub due_on: [String; 2],
    /// The recomputed term fell before the one announced to the applicant, which was kept.
    pub announced_kept: bool,
    pub calendar_status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NotRetimed {
    pub application_id: String,
    pub reason: String,
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The law of `base` with `loads` applied in order.
fn law_with(base: &Law, loads: &[LawDataRow]) -> Result<Law, String> {
    let mut law = base.clone();
    for l in loads {
        law = apply(&law, &l.kind, &l.content)
            .map_err(|(line, message)| format!("{} load {}: line {line}: {message}", l.kind, l.id))?
            .0;
    }
    Ok(law)
}

/// `law` with one load of `kind` applied: the new law, a line per year or MCI loaded, and the
/// first calendar year it touches. A file that cannot be applied is (line, message).
fn apply(law: &Law, kind: &str, text: &str) -> Result<(Law, String, Option<i16>), (usize, String)> {
    let mut next = law.clone();
    match kind {
        "calendar" => {
            let years = WorkingCalendar::parse_year_file(text).map_err(|e| (e.line, e.message))?;
            next.calendar = law.calendar.with_years(&years).map_err(|e| (e.line, e.message))?;
            let summary = years
                .iter()
                .map(|y| format!("{}: {} ({})", y.year, y.status, y.source))
                .collect::<Vec<_>>()
                .join("; ");
            Ok((next, summary, years.iter().map(|y| y.year).min()))
        }
        "mci" => {
            let (params, loaded) = law.params.with_mci_file(text).map_err(|e| (e.line, e.message))?;
            next.params = params;
            let summary = loaded
                .iter()
                .map(|m| format!("MCI {}: {} ₸ ({}, {})", m.year, m.tenge, m.status.as_str(), m.source))
                .collect::<Vec<_>>()
                .join("; ");
            Ok((next, summary, None))
        }
        other => Err((0, format!("unknown kind of law data {other:?}"))),
    }
}

impl Service {
    /// Applies the loads of law data made by any instance since this one last looked. A load that
    /// cannot be applied leaves the law as it was and is an error (logged by the caller), never
    /// skipped in silence.
    pub async fn refresh_law(&self) -> Result<(), CaseError> {
        let latest = self.store.latest_law_data().await?;
        let mut applied = self.law_loaded.lock().await;
        if *applied == latest {
            return Ok(());
        }
        let loads = self.store.law_data_loads().await?;
        let law = law_with(&self.base_law, &loads).map_err(CaseError::unavailable)?;
        self.law.store(Arc::new(law));
        *applied = latest;
        Ok(())
    }

    /// Loads law data of `kind` from `text` on behalf of `actor` (an administrator).
    pub async fn load_law_data(&self, actor: &str, kind: &str, text: &str) -> Result<LawDataLoaded, CaseError> {
        if !KINDS.contains(&kind) {
            return Err(CaseError::not_found("law data kind"));
        }
        if text.len() > MAX_FILE {
            return Err(CaseError::new(
                crate::Kind::TooLarge,
                "law_data_too_large",
                format!("a law data file is at most {MAX_FILE} bytes"),
            ));
        }
        // A conflict means a case changed while its terms were recomputed: read again and retry.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_load(actor, kind, text).await {
                Err(LoadError::Conflict) if attempt < 5 => continue,
                Err(LoadError::Conflict) => {
                    return Err(CaseError::conflict(
                        "law_data_conflict",
                        "open cases kept changing while their terms were recomputed; load again",
                    ));
                }
                Err(LoadError::CaseError(p)) => return Err(p),
                Ok(r) => return Ok(r),
            }
        }
    }

    async fn try_load(&self, actor: &str, kind: &str, text: &str) -> Result<LawDataLoaded, LoadError> {
        self.refresh_law().await?;
        let current = self.law();
        let (next, summary, from_year) = apply(&current, kind, text).map_err(|(line, message)| {
            CaseError::unprocessable("invalid_law_data", "/", format!("{kind} file, line {line}: {message}"))
        })?;
        let now = self.now();
        let now_s = instant(now);
        let row = LawDataRow {
            id: uuid::Uuid::now_v7().to_string(),
            kind: kind.into(),
            content: text.into(),
            sha256: sha256_hex(text.as_bytes()),
            summary: summary.clone(),
            loaded_by: actor.into(),
            loaded_at: now_s.clone(),
        };
        let mut unit = Unit::new();
        unit.push(repo::insert_law_data(&row));
        let citation = if kind == "calendar" {
            "Law No. 267-II art. 1, 5; Labour Code art. 84 p. 5, art. 85 p. 3"
        } else {
            "Law on the republican budget (MCI); App. 3"
        };
        let version = koshi_law::citation::version_on(next.calendar.civil(now).date())
            .map_err(|e| CaseError::conflict("no_rules_version", e.to_string()))?;
        unit.push(repo::insert_event(repo::NewEvent {
            id: uuid::Uuid::now_v7().to_string(),
            application_id: None,
            at: now_s.clone(),
            actor: actor.into(),
            action: format!("law.{kind}_loaded").into(),
            citation: citation.into(),
            rules_version: version.id.into(),
            detail: json!({"load": row.id, "sha256": row.sha256, "summary": summary}).to_string(),
        }));
        let (recomputed, not_recomputed, clocks_moved) = match from_year {
            Some(y) => {
                let (r, n) = self
                    .retime_open_cases(&next, y, actor, &now_s, &row.id, &mut unit)
                    .await?;
                let moved = self.retime_clocks(&next, y, &r, &mut unit).await?;
                (r, n, moved)
            }
            None => (Vec::new(), Vec::new(), 0),
        };
        match self.store.write(unit).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(LoadError::Conflict),
            Err(e) => return Err(LoadError::CaseError(e.into())),
        }
        // Applied here at once; other instances follow from the table.
        {
            let mut applied = self.law_loaded.lock().await;
            self.law.store(Arc::new(next));
            *applied = Some(row.id.clone());
        }
        tracing::info!(load = %row.id, kind, cases = recomputed.len(), unreadable = not_recomputed.len(), clocks = clocks_moved, "law data loaded");
        Ok(LawDataLoaded {
            id: row.id,
            kind: kind.into(),
            sha256: row.sha256,
            summary,
            loaded_at: now_s,
            recomputed,
            not_recomputed,
            clocks_moved,
        })
    }

    /// The pending legal clocks that read the calendar from `from_year` on, placed again on
    /// `law`: an "at risk" mark on the new working day before its term; the RVP's working day on
    /// its recomputed term; a minor's age-16 term (a term set for the applicant) never earlier.
    /// Returns how many moved.
    async fn retime_clocks(
        &self,
        law: &Law,
        from_year: i16,
        retimed: &[Retimed],
        unit: &mut Unit,
    ) -> Result<usize, LoadError> {
        let from = law
            .calendar
            .time_zone()
            .to_zoned_datetime(Date::new(from_year, 1, 1).unwrap_or(Date::MIN).at(0, 0, 0, 0))
            .map(|z| instant(z.timestamp()))
            .map_err(|e| LoadError::CaseError(CaseError::internal(&e)))?;
        let timers = self
            .store
            .pending_timers_from(&from)
            .await
            .map_err(|e| LoadError::CaseError(e.into()))?;
        let end_of = |d: Date| crate::clocks::end_of_working_day(&law.calendar, d).ok();
        let mut moved = 0;
        for t in timers {
            let payload: serde_json::Value = match serde_json::from_str(&t.payload) {
                Ok(v) => v,
                Err(e) => {
                    tracing::error!(timer = %t.id, kind = %t.kind, error = %e, "a pending clock cannot be read: not moved");
                    continue;
                }
            };
            let date_of = |key: &str| payload[key].as_str().and_then(|s| s.parse::<Date>().ok());
            let (due_at, new_payload) = if t.kind.starts_with("rvp.age16.") && !t.kind.ends_with(".at_risk") {
                // The minor's last day: ten days after the birthday, on the next working day.
                let (Some(birthday), Some(old)) = (date_of("sixteenth_birthday"), date_of("due_on")) else {
                    continue;
                };
                let Ok(new) = koshi_law::terms::applicant_term_end(
                    &law.calendar,
                    terms::add_days(birthday, koshi_law::terms::AGE16_DAYS),
                ) else {
                    continue;
                };
                let due = new.max(old);
                let mut p = payload.clone();
                p["due_on"] = json!(due.to_string());
                (end_of(due), p)
            } else if t.kind == "rvp.term" {
                let Some(r) = retimed.iter().find(|r| r.application_id == t.subject) else {
                    continue;
                };
                let Ok(due) = r.due_on[1].parse::<Date>() else { continue };
                let mut p = payload.clone();
                p["due_on"] = json!(due.to_string());
                (end_of(due), p)
            } else if t.kind.ends_with(".at_risk") && !t.kind.starts_with("rvp.age16.") {
                let base = t.kind.trim_end_matches(".at_risk");
                let term = if base == "rvp.term" {
                    retimed
                        .iter()
                        .find(|r| r.application_id == t.subject)
                        .and_then(|r| r.due_on[1].parse::<Date>().ok())
                        .or_else(|| date_of("due_on"))
                } else {
                    date_of("due_on")
                        .or_else(|| date_of("leave_by"))
                        .or_else(|| date_of("notify_by"))
                };
                let Some(term) = term else { continue };
                let Ok(before) = law.calendar.subtract_working_days(term, 1) else {
                    continue;
                };
                let mut p = payload.clone();
                if base == "rvp.term" {
                    p["due_on"] = json!(term.to_string());
                }
                (end_of(before), p)
            } else {
                continue;
            };
            let Some(due_at) = due_at else { continue };
            if due_at != t.due_at || new_payload != payload {
                unit.push(koshi_store::timers::reschedule(
                    &t.kind,
                    &t.subject,
                    &due_at,
                    &new_payload.to_string(),
                ));
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// The terms of every open case that reads the years from `from_year` on, computed again on
    /// `law`, pushed onto `unit` with an audit event and a monitoring message for each change.
    async fn retime_open_cases(
        &self,
        law: &Law,
        from_year: i16,
        actor: &str,
        at: &str,
        load_id: &str,
        unit: &mut Unit,
    ) -> Result<(Vec<Retimed>, Vec<NotRetimed>), LoadError> {
        let today = law.calendar.civil(self.now()).date();
        let cases = self
            .store
            .open_cases_due_from(&format!("{from_year:04}-01-01"))
            .await
            .map_err(|e| LoadError::CaseError(e.into()))?;
        let mut done = Vec::new();
        let mut unreadable = Vec::new();
        for app in cases {
            let version = match crate::service::known_version(&app.rules_version) {
                Ok(v) => v,
                Err(p) => {
                    unreadable.push(NotRetimed {
                        application_id: app.id.clone(),
                        reason: p.detail.clone(),
                    });
                    continue;
                }
            };
            let (old_acc, old_due, new_acc, new_due) = match retime(law, &app, today) {
                Ok(t) => t,
                Err(reason) => {
                    tracing::error!(application = %app.id, %reason, "terms not recomputed: the case needs an officer");
                    unreadable.push(NotRetimed {
                        application_id: app.id.clone(),
                        reason,
                    });
                    continue;
                }
            };
            let (acc, due) = (new_acc.max(old_acc), new_due.max(old_due));
            if (acc, due) == (old_acc, old_due) {
                continue;
            }
            let announced_kept = new_due < old_due || new_acc < old_acc;
            let status = law.calendar.status_between(acc, due);
            let r = Retimed {
                application_id: app.id.clone(),
                accepted_on: [old_acc.to_string(), acc.to_string()],
                due_on: [old_due.to_string(), due.to_string()],
                announced_kept,
                calendar_status: status.code().into(),
            };
            unit.push(repo::retime_case(
                &app.id,
                app.revision,
                &r.accepted_on[1],
                &r.due_on[1],
                at,
            ));
            let pr = app.kind == "pr";
            let citation = if pr { "App. 3; п. 14" } else { "п. 7; п. 8; п. 9" };
            unit.push(case_event(
                &app.id,
                actor,
                "case.terms_recomputed",
                citation,
                version,
                json!({
                    "load": load_id,
                    "accepted_on": r.accepted_on,
                    "due_on": r.due_on,
                    "announced_kept": announced_kept,
                    "calendar_status": status.code(),
                    "calendar_basis": law.calendar.basis(due.year()),
                }),
                at,
            ));
            unit.push(self.monitoring(
                &app.id,
                if pr { "pr.terms_recomputed" } else { "terms_recomputed" },
                at,
                &app.rules_version,
            ));
            done.push(r);
        }
        Ok((done, unreadable))
    }
}

/// A case's acceptance day and term, as stored and as `law` computes them now. An acceptance day
/// already past is a fact and stays as it was.
fn retime(law: &Law, app: &ApplicationRow, today: Date) -> Result<(Date, Date, Date, Date), String> {
    let stored = |v: &Option<String>, what: &str| -> Result<Date, String> {
        v.as_deref()
            .ok_or_else(|| format!("the case has no {what}"))?
            .parse::<Date>()
            .map_err(|e| format!("the stored {what} cannot be read: {e}"))
    };
    let old_acc = stored(&app.accepted_on, "acceptance day")?;
    let old_due = stored(&app.due_on, "term")?;
    let filed =
        koshi_store::parse_instant(&app.filed_at).map_err(|e| format!("the filing instant cannot be read: {e}"))?;
    let civil = law.calendar.civil(filed);
    let cal_err = |e: koshi_law::CalendarError| e.to_string();
    let acc = if old_acc <= today {
        old_acc
    } else if app.kind == "pr" {
        law.calendar.working_day_on_or_after(civil.date()).map_err(cal_err)?
    } else {
        law.calendar.accepted_on(civil).map_err(cal_err)?
    };
    let due = match app.kind.as_str() {
        "pr" => terms::pr_service_due(acc, law.params.pr_service_term_days),
        "rvp" => law
            .calendar
            .add_working_days(acc, terms::RVP_TERM_WORKING_DAYS)
            .map_err(cal_err)?,
        other => return Err(format!("unknown case kind {other:?}")),
    };
    Ok((old_acc, old_due, acc, due))
}

enum LoadError {
    Conflict,
    CaseError(CaseError),
}

impl From<CaseError> for LoadError {
    fn from(p: CaseError) -> LoadError {
        LoadError::CaseError(p)
    }
}

/// The status of the calendar over a case's terms, for views and documents.
pub fn calendar_status_of(law: &Law, accepted_on: Option<&str>, due_on: Option<&str>) -> Option<YearStatus> {
    let a: Date = accepted_on?.parse().ok()?;
    let d: Date = due_on?.parse().ok()?;
    Some(law.calendar.status_between(a, d))
}

impl Service {
    /// Drill mode only: moves the simulated clock ahead (`advance`, an ISO 8601 duration such as
    /// `PT2H`) or to an instant (`set`, RFC 3339), never backwards; the new offset is kept in the
    /// database so the drill resumes there after a restart. Audited.
    pub async fn move_drill_clock(
        &self,
        actor: &str,
        advance: Option<&str>,
        set: Option<&str>,
    ) -> Result<serde_json::Value, CaseError> {
        let Some(clock) = self.config.drill_clock.as_ref() else {
            return Err(CaseError::conflict(
                "clock_not_simulated",
                "this Koshi runs on the real clock; the clock moves only in a drill (koshi serve --clock simulated)",
            ));
        };
        let before = self.now();
        let moved = match (advance, set) {
            (Some(a), None) => {
                let by: jiff::SignedDuration = a.parse().map_err(|e| {
                    CaseError::unprocessable(
                        "invalid_duration",
                        "/advance",
                        format!("{a:?} is not an ISO 8601 duration such as PT2H: {e}"),
                    )
                })?;
                if by.is_zero() || by.is_negative() {
                    return Err(CaseError::unprocessable(
                        "clock_backwards",
                        "/advance",
                        "the simulated clock only moves ahead",
                    ));
                }
                clock.advance(by)
            }
            (None, Some(t)) => {
                let at: jiff::Timestamp = t.parse().map_err(|e| {
                    CaseError::unprocessable(
                        "invalid_instant",
                        "/set",
                        format!("{t:?} is not an RFC 3339 instant: {e}"),
                    )
                })?;
                clock.set(at)
            }
            _ => {
                return Err(CaseError::unprocessable(
                    "invalid_clock_move",
                    "/",
                    "give exactly one of advance (e.g. \"PT2H\") or set (e.g. \"2026-12-30T19:00:00+05:00\")",
                ));
            }
        }
        .map_err(|e| CaseError::unprocessable("clock_backwards", "/set", e))?;
        let at = instant(moved);
        let version = koshi_law::citation::version_on(self.law().calendar.civil(moved).date())
            .map_err(|e| CaseError::conflict("no_rules_version", e.to_string()))?;
        let unit = Unit::new()
            .with(repo::set_drill_clock(clock.offset_ms(), &at))
            .with(repo::insert_event(repo::NewEvent {
                id: uuid::Uuid::now_v7().to_string(),
                application_id: None,
                at: at.clone(),
                actor: actor.into(),
                action: "drill.clock_moved".into(),
                citation: "—".into(),
                rules_version: version.id.into(),
                detail: json!({"from": instant(before), "to": at}).to_string(),
            }));
        self.store.write(unit).await?;
        Ok(json!({"clock": "simulated", "now": at, "was": instant(before), "offset_ms": clock.offset_ms()}))
    }
}
